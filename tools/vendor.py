"""Copy the browser libraries the website loads from node_modules/ into _vendor/ (run by `make book`).

The versions are pinned in package.json / package-lock.json and installed with `npm ci`; nothing is
fetched from a CDN when a page is read. `_vendor/static/` is listed in `html_static_path` (its content
lands in `_build/html/_static/`); it is deliberately NOT the book's `_static/` folder, because Jupyter
Book adds every .js/.css file of that folder to every page. `_vendor/root/` is `html_extra_path` (copied
to the site's top: the favicon browsers ask for on the redirecting index.html).

Usage: python tools/vendor.py [--node-modules node_modules] [--out _vendor]
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# MathJax 3 (Apache-2.0): the combined TeX+MathML -> CommonHTML build the pages load, plus what it may
# load later on demand (TeX extensions, the CHTML web fonts, the menu's accessibility components).
MATHJAX = [
    "tex-mml-chtml.js",
    "input/tex/extensions",
    "input/mml",
    "output/chtml/fonts/woff-v2",
    "ui",
    "a11y",
    "sre",
]

FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 3 3">'
    '<rect width="3" height="3" fill="#2b5b84"/><rect x="1" y="1" width="1" height="1" fill="#f5c542"/>'
    "</svg>\n"
)


def _png_icon(size: int = 16) -> bytes:
    """The same icon as a PNG (browsers accept PNG data in favicon.ico), made with the standard library."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    third = size // 3
    rows = []
    for y in range(size):
        row = b"\x00"
        for x in range(size):
            inner = third <= x < 2 * third and third <= y < 2 * third
            row += bytes((0xF5, 0xC5, 0x42) if inner else (0x2B, 0x5B, 0x84))
        rows.append(row)
    ihdr = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"".join(rows)))
            + chunk(b"IEND", b""))


def copy(src: Path, dst: Path) -> None:
    if not src.exists():
        sys.exit(f"vendor: {src} is missing; run `npm ci` first (package-lock.json pins it)")
    if src.is_dir():
        shutil.copytree(src, dst, dirs_exist_ok=True)
    else:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--node-modules", type=Path, default=ROOT / "node_modules")
    ap.add_argument("--out", type=Path, default=ROOT / "_vendor")
    args = ap.parse_args(argv)

    mj_pkg = args.node_modules / "mathjax"
    version = json.loads((mj_pkg / "package.json").read_text())["version"]
    static, root = args.out / "static", args.out / "root"
    out = static / "mathjax"
    if out.exists():
        shutil.rmtree(out)
    for rel in MATHJAX:
        copy(mj_pkg / "es5" / rel, out / rel)
    copy(mj_pkg / "LICENSE", out / "LICENSE")
    (out / "VERSION").write_text(f"mathjax {version} from npm (node_modules/mathjax/es5)\n")
    # A tiny icon of our own, so browsers asking for /favicon.ico get an answer (no 404 in the console).
    static.mkdir(parents=True, exist_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    (static / "favicon.svg").write_text(FAVICON)
    (root / "favicon.ico").write_bytes(_png_icon())
    print(f"vendor: MathJax {version} -> {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()
