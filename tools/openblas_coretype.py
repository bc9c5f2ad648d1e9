"""Print the OpenBLAS kernel family to force on this CPU, or nothing (used by the Makefile).

NumPy's and SciPy's wheels bundle an OpenBLAS that picks its kernels at start-up from the CPU's
identity. OpenBLAS 0.3.31 (the one NumPy 2.4 and SciPy 1.17 ship) does not know AMD's Zen 5 (family
0x1A) and falls back to its AVX2 ("Haswell") kernels, which run a float32 matrix product at about half
the rate of its AVX-512 ("SkylakeX") kernels on the same processor; newer OpenBLAS releases fix the
detection. On an AMD processor with the AVX-512 subsets those kernels use, this prints ``SkylakeX``
for ``OPENBLAS_CORETYPE``; elsewhere (Intel, whose detection works; no AVX-512; not Linux) it prints
nothing and OpenBLAS keeps its own choice. Standard library only: it runs before the venv exists.
"""
from __future__ import annotations

from pathlib import Path

#: The AVX-512 subsets OpenBLAS's SkylakeX kernels need (its own ``support_avx512`` test).
NEEDED = {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"}


def coretype(cpuinfo: str) -> str:
    """``"SkylakeX"`` for an AMD CPU whose first ``flags`` line has every subset of :data:`NEEDED`, else ``""``."""
    vendor = flags = None
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "vendor_id" and vendor is None:
            vendor = value.strip()
        elif key == "flags" and flags is None:
            flags = set(value.split())
    return "SkylakeX" if vendor == "AuthenticAMD" and flags and NEEDED <= flags else ""


if __name__ == "__main__":
    path = Path("/proc/cpuinfo")
    print(coretype(path.read_text()) if path.is_file() else "")
