"""Speed of cnnbook's fast path against torch on the CPU (``make bench``; not part of ``make test``).

Everything is measured in one process, float32 on both sides, with the same number of threads for
NumPy's BLAS (``threadpoolctl``) and torch (``torch.set_num_threads``), 2 by default:

- the machine's matrix-multiply rate: a large square float32 ``matmul`` (:func:`cnnbook.timing.matmul_rate`);
- ``conv2d`` forward, and forward + ``conv2d_backward``, against torch's forward and forward + autograd
  backward, over layers of the sizes the book uses (LeNet, CIFAR) and large ones (ResNet-size 64->64 3x3 at
  56x56, a stride-2 and a dilated layer); per layer the two ratios (cnnbook / torch, below 1 means
  cnnbook is faster), the rate each side reaches as a fraction of the matmul rate, and the peak memory a
  call allocates (``tracemalloc``, which sees NumPy's buffers) as a multiple of its input + output size;
  geometric means of the ratios;
- ``conv_transpose2d`` and ``conv1d`` the same way;
- ``max_pool2d`` / ``avg_pool2d`` forward, and forward + backward;
- one training epoch of chapter 8's network (:data:`cnnbook.models.LENET_RECIPE`) on its digits against
  the same network in torch on the same minibatches;
- the book's last build: the execution time of every chapter, read from the Sphinx environment that
  ``make book`` leaves in ``_build`` (myst-nb's execution data).

Each timing is the minimum over ``--repeat`` rounds (at least 3) that alternate between the two sides,
after one warm-up run of each (``timed_pair``): a round is one run of a long call, more for a call
shorter than 0.1 s (up to 10 per round), one epoch for the training epoch. The warm-up matters for the
epoch too: the first epoch of a process pays one-time costs on both sides (torch prepares its
convolution kernels for each new shape). The targets of issue 14 are printed next to the results. The
load average of the machine is printed first: other work on the cores slows both sides, so compare the
ratios of one run, not times across runs. So are the BLAS kernels NumPy runs, which are printed with it
(``threadpoolctl``'s view). Some machines set ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` for older
OpenBLAS builds that failed on their processors; they bind NumPy's current OpenBLAS to older, slower
kernels and leave torch's own kernels alone. ``make bench`` unsets both in its own command only; run with
them set, the benchmark says so and prints the kernels OpenBLAS would pick by itself.
``make bench`` also sets glibc's ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` so that freed
memory stays in the process: on a virtual machine that returns freed pages to its host, memory that comes
back costs a slow page fault per 4 KB page, and which side pays depends on where the allocator happens to
place its arrays (a torch forward of the ResNet-size layer was seen to take 10 ms or 20 ms from that alone).
The header says whether they are set.

    .venv/bin/python benchmarks/run.py [--repeat 3] [--threads 2] [--skip-epoch] [--profile LAYER]

``--profile LAYER`` (a row number of the conv2d table, or a part of its name) prints a cProfile of that
layer's forward + backward instead of the tables.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pickle
import pstats
import time
import tracemalloc
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

import cnnbook.functional as F
from cnnbook.check import torch_lenet5
from cnnbook.functional.conv import release_workspace, workspace_bytes
from cnnbook.data import load_handwritten_digits
from cnnbook.models import LENET_RECIPE, lenet5
from cnnbook.timing import best_time, blas_kernels, blas_threads, geometric_mean as geomean, matmul_rate
from cnnbook.training import SGD, batch_indices, train_step

TF = torch.nn.functional
LARGE = 1e9  # FLOP per forward call from which a layer counts as large (target: >= 50% of the matmul rate)

# name, (N, C_in, H, W), (C_out, kH, kW), conv keyword arguments
CONV_SUITE = [
    ("LeNet conv1 1->6 5x5 p2, 28x28, N=64", (64, 1, 28, 28), (6, 5, 5), dict(padding=2)),
    ("LeNet conv2 6->16 5x5, 14x14, N=64", (64, 6, 14, 14), (16, 5, 5), {}),
    ("CIFAR 3->16 3x3 p1, 32x32, N=64", (64, 3, 32, 32), (16, 3, 3), dict(padding=1)),
    ("ResNet 64->64 3x3 p1, 56x56, N=16", (16, 64, 56, 56), (64, 3, 3), dict(padding=1)),
    ("64->128 3x3 s2 p1, 56x56, N=16", (16, 64, 56, 56), (128, 3, 3), dict(stride=2, padding=1)),
    ("64->64 3x3 d2 p2, 28x28, N=32", (32, 64, 28, 28), (64, 3, 3), dict(dilation=2, padding=2)),
]

# name, (N, C_in, H, W), weight (C_in, C_out, kH, kW), keyword arguments
TRANSPOSE_SUITE = [
    ("convT 64->32 4x4 s2 p1, 14x14, N=32", (32, 64, 14, 14), (64, 32, 4, 4), dict(stride=2, padding=1)),
    ("convT 16->6 5x5 s1, 10x10, N=64", (64, 16, 10, 10), (16, 6, 5, 5), {}),
]

# name, (N, C_in, L), (C_out, k), keyword arguments
CONV1D_SUITE = [
    ("conv1d 64->64 k3 p1, L=1024, N=32", (32, 64, 1024), (64, 3), dict(padding=1)),
    ("conv1d 1->16 k9 s2, L=2048, N=32", (32, 1, 2048), (16, 9), dict(stride=2)),
]

POOL_SUITE = [
    ("max 2x2/2 on (64, 16, 28, 28)", "max", (64, 16, 28, 28), dict(kernel_size=2, stride=2)),
    ("max 3x3/2 p1 on (16, 64, 56, 56)", "max", (16, 64, 56, 56), dict(kernel_size=3, stride=2, padding=1)),
    ("avg 2x2/2 on (64, 16, 28, 28)", "avg", (64, 16, 28, 28), dict(kernel_size=2, stride=2)),
    ("avg 3x3/2 p1 on (16, 64, 56, 56)", "avg", (16, 64, 56, 56), dict(kernel_size=3, stride=2, padding=1)),
]


# Environment variables that override OpenBLAS's own choice of kernels and cache sizes.
BLAS_SETTINGS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
# glibc's settings that keep freed memory in the process (set by `make bench`).
MALLOC_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")


def own_blas_kernels() -> str:
    """The kernels NumPy's OpenBLAS picks by itself on this processor (a fresh interpreter without
    the variables of :data:`BLAS_SETTINGS`)."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in BLAS_SETTINGS}
    code = "from cnnbook.timing import blas_kernels; print(blas_kernels())"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    return done.stdout.strip() or f"unknown ({done.stderr.strip()[-200:]})"


def timed_pair(ours, theirs, repeat: int) -> tuple[float, float]:
    """The shortest wall times of ``ours()`` and ``theirs()``, measured in ``repeat`` alternating rounds
    (at least 3), after one warm-up run of each: a round is one run of each side for a long call, up to
    10 runs (0.1 s) for a short one. This machine's speed drifts, by up to 2x over minutes; with the two
    sides timed in turn, a slow spell weighs on both alike instead of on whichever side it caught.
    Within a round each side runs its calls back to back, as in a loop."""
    runs = []
    for fn in (ours, theirs):
        start = time.perf_counter()
        fn()
        runs.append(max(1, min(10, int(0.1 / max(time.perf_counter() - start, 1e-6)))))
    best = [float("inf"), float("inf")]
    for _ in range(max(3, repeat)):
        for side, (fn, count) in enumerate(zip((ours, theirs), runs)):
            best[side] = min(best[side], best_time(fn, count, warmup=0))
    return best[0], best[1]


def peak_memory(fn) -> int:
    """Bytes allocated at the peak of ``fn()`` (tracemalloc; NumPy reports its buffers to it), starting
    without the scratch the convolutions keep between calls, so a call's own scratch counts in full.
    ``fn`` runs once before, so a call that splits its samples between threads finds them awake and
    splits, as in a loop of calls (each thread then holds its own scratch): the figure no longer depends
    on how long ago the previous call ended."""
    fn()
    release_workspace()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def nbytes(*arrays) -> int:
    return sum(a.nbytes for a in arrays if a is not None)


class Table:
    """Rows of (ours, torch) timings; ratios, fractions of the matmul rate, memory; geometric means."""

    HEAD = (f"{'':38s} {'fwd ms':>7s} {'torch':>7s} {'ratio':>5s} | {'f+b ms':>7s} {'torch':>7s} "
            f"{'ratio':>5s} | {'%mm ours':>8s} {'torch':>5s} | {'mem f/b':>9s}")

    def __init__(self, title: str, rate: float):
        self.rate, self.fwd, self.fb, self.large = rate, [], [], []
        print(f"\n{title}\n{self.HEAD}")

    def row(self, name, ours_f, ours_fb, theirs_f, theirs_fb, flops, mem, repeat):
        tf, ttf = timed_pair(ours_f, theirs_f, repeat)
        tfb, ttfb = timed_pair(ours_fb, theirs_fb, repeat)
        self.fwd.append(tf / ttf)
        self.fb.append(tfb / ttfb)
        ours_frac, torch_frac = 3 * flops / tfb / self.rate, 3 * flops / ttfb / self.rate
        if flops >= LARGE:
            self.large.append((name, ours_frac))
        mark = "*" if flops >= LARGE else " "
        print(f"{name:37s}{mark} {tf * 1e3:7.2f} {ttf * 1e3:7.2f} {tf / ttf:5.2f} | {tfb * 1e3:7.1f} "
              f"{ttfb * 1e3:7.1f} {tfb / ttfb:5.2f} | {ours_frac:8.0%} {torch_frac:5.0%} | "
              f"{mem[0]:4.1f}/{mem[1]:4.1f}")

    def summary(self, targets: bool = True):
        f, fb = geomean(self.fwd), geomean(self.fb)
        line = f"{'geometric mean':38s} {'':15s} {f:5.2f} | {'':15s} {fb:5.2f} |"
        if targets:
            line += f"  targets: fwd <= 2 {'ok' if f <= 2 else 'MISSED'}, f+b <= 1.5 {'ok' if fb <= 1.5 else 'MISSED'}"
        print(line)
        for name, frac in self.large:
            print(f"  * large layer ({name}): {frac:.0%} of the matmul rate in f+b, target >= 50% "
                  f"{'ok' if frac >= 0.5 else 'MISSED'}")
        return f, fb


def conv_cases(kind: str, rng):
    """(name, forward and backward of ours and torch's, forward FLOP, memory closures) per layer."""
    suite = {"conv2d": CONV_SUITE, "conv_transpose2d": TRANSPOSE_SUITE, "conv1d": CONV1D_SUITE}[kind]
    for name, xshape, wspec, kw_args in suite:
        if kind == "conv_transpose2d":
            wshape, cout = wspec, wspec[1]
            fwd, bwd, tfwd = F.conv_transpose2d, F.conv_transpose2d_backward, TF.conv_transpose2d
        else:
            cout, *k = wspec
            wshape = (cout, xshape[1], *k)
            fwd, bwd = (F.conv2d, F.conv2d_backward) if kind == "conv2d" else (F.conv1d, F.conv1d_backward)
            tfwd = TF.conv2d if kind == "conv2d" else TF.conv1d
        x = rng.standard_normal(xshape, dtype=np.float32)
        w = rng.standard_normal(wshape, dtype=np.float32) * 0.1
        b = rng.standard_normal(cout, dtype=np.float32)
        y = fwd(x, w, b, **kw_args)
        g = rng.standard_normal(y.shape, dtype=np.float32)
        # one multiply-add (2 FLOP) per weight tap per output (conv) or per input (transposed) position
        positions = x[0, 0].size if kind == "conv_transpose2d" else y[0, 0].size
        flops = 2.0 * x.shape[0] * positions * w.size
        xt, wt, bt, gt = (torch.from_numpy(a) for a in (x, w, b, g))

        def ours_f(x=x, w=w, b=b, fwd=fwd, kw=kw_args):
            return fwd(x, w, b, **kw)

        def ours_fb(x=x, w=w, b=b, g=g, fwd=fwd, bwd=bwd, kw=kw_args):
            fwd(x, w, b, **kw)
            return bwd(g, x, w, **kw)

        def theirs_f(tfwd=tfwd, kw=kw_args, xt=xt, wt=wt, bt=bt):
            with torch.no_grad():
                tfwd(xt, wt, bt, **kw)

        def theirs_fb(tfwd=tfwd, kw=kw_args, xt=xt, wt=wt, bt=bt, gt=gt):
            xr, wr, br = (t.detach().requires_grad_(True) for t in (xt, wt, bt))
            tfwd(xr, wr, br, **kw).backward(gt)

        def memory(x=x, w=w, b=b, g=g, y=y, fwd=fwd, bwd=bwd, kw=kw_args):
            mf = peak_memory(lambda: fwd(x, w, b, **kw)) / nbytes(x, w, b, y)
            mb = peak_memory(lambda: bwd(g, x, w, **kw)) / nbytes(g, x, w, x, w, b)
            return mf, mb

        yield name, ours_f, ours_fb, theirs_f, theirs_fb, flops, memory


def bench_convs(kind: str, repeat: int, rate: float, rng):
    table = Table(f"{kind} (float32; ratio = cnnbook / torch; %mm = forward+backward rate as a fraction "
                  f"of the matmul rate; mem = peak allocation / (input + output) of the forward / backward "
                  f"call; * = large layer)", rate)
    kept = 0
    for name, of, ofb, tf, tfb, flops, memory in conv_cases(kind, rng):
        table.row(name, of, ofb, tf, tfb, flops, memory(), repeat)
        kept = max(kept, workspace_bytes())
    result = table.summary(targets=kind == "conv2d")
    print(f"  scratch kept between calls (all threads, the most after any layer): {kept / 2**20:.1f} MB")
    return result


def bench_pool(repeat: int, rng):
    print(f"\npooling (float32)                      {'fwd ms':>7s} {'torch':>7s} {'ratio':>5s} | "
          f"{'f+b ms':>7s} {'torch':>7s} {'ratio':>5s} | {'mem f/b':>9s}")
    ratios_f, ratios_fb = [], []
    for name, kind, shape, kw_args in POOL_SUITE:
        x = rng.standard_normal(shape, dtype=np.float32)
        fwd, bwd = (F.max_pool2d, F.max_pool2d_backward) if kind == "max" else (F.avg_pool2d, F.avg_pool2d_backward)
        tfwd = TF.max_pool2d if kind == "max" else TF.avg_pool2d
        y = fwd(x, **kw_args)
        g = rng.standard_normal(y.shape, dtype=np.float32)
        xt, gt = torch.from_numpy(x), torch.from_numpy(g)

        def ours_fb():
            fwd(x, **kw_args)
            bwd(g, x, **kw_args)

        def theirs_f():
            with torch.no_grad():
                tfwd(xt, **kw_args)

        def theirs_fb():
            xr = xt.detach().requires_grad_(True)
            tfwd(xr, **kw_args).backward(gt)

        tf, ttf = timed_pair(lambda: fwd(x, **kw_args), theirs_f, repeat)
        tfb, ttfb = timed_pair(ours_fb, theirs_fb, repeat)
        mf = peak_memory(lambda: fwd(x, **kw_args)) / nbytes(x, y)
        mb = peak_memory(lambda: bwd(g, x, **kw_args)) / nbytes(g, x, x)
        ratios_f.append(tf / ttf)
        ratios_fb.append(tfb / ttfb)
        print(f"{name:38s} {tf * 1e3:7.2f} {ttf * 1e3:7.2f} {tf / ttf:5.2f} | {tfb * 1e3:7.2f} "
              f"{ttfb * 1e3:7.2f} {tfb / ttfb:5.2f} | {mf:4.1f}/{mb:4.1f}")
    worst = max(ratios_fb)
    print(f"{'geometric mean':38s} {'':15s} {geomean(ratios_f):5.2f} | {'':15s} {geomean(ratios_fb):5.2f} |"
          f"  target: every f+b <= 2 {'ok' if worst <= 2 else 'MISSED'} (worst {worst:.2f})")


def bench_epoch(repeat: int) -> None:
    r = LENET_RECIPE
    x, y, _, _ = load_handwritten_digits()
    batches = [idx for _, idx in batch_indices(len(x), r["batch_size"], epochs=1, seed=r["seed"])]
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    print(f"\none training epoch of chapter 8's network ({len(x)} images, batch {r['batch_size']}, "
          f"{len(batches)} SGD steps)       ours      torch  ratio")
    for act, pool in [(r["activation"], r["pool"]), ("sigmoid", "avg")]:
        def ours():
            model = lenet5(act, pool, seed=0)
            opt = SGD(model.parameters(), lr=r["lr"], momentum=r["momentum"])
            for idx in batches:
                train_step(model, opt, x[idx], y[idx])

        def theirs():
            model = torch_lenet5(act, pool)
            opt = torch.optim.SGD(model.parameters(), lr=r["lr"], momentum=r["momentum"])
            for idx in batches:
                i = torch.from_numpy(idx)
                loss = TF.cross_entropy(model(xt[i]), yt[i])
                opt.zero_grad()
                loss.backward()
                opt.step()

        t, tt = timed_pair(ours, theirs, repeat)
        target = f"  target <= 1.5 {'ok' if t / tt <= 1.5 else 'MISSED'}" if (act, pool) == (r["activation"], r["pool"]) else ""
        print(f"{'LeNet ' + act + ' + ' + pool + ' pooling':82s} {t:7.2f}s  {tt:7.2f}s  {t / tt:5.2f}{target}")


def build_times(build_dir: Path) -> None:
    """The execution time of every chapter in the last ``make book`` (myst-nb's data in the Sphinx
    environment pickle)."""
    env_file = build_dir / ".doctrees" / "environment.pickle"
    print(f"\nbook build: execution time per chapter (from {env_file})")
    if not env_file.exists():
        print("  unavailable: no build found (run `make book` first)")
        return
    try:
        with open(env_file, "rb") as f:
            env = pickle.load(f)
        data = {doc: meta.get("exec_data") for doc, meta in getattr(env, "nb_metadata", {}).items()}
    except Exception as error:  # an environment written by another Sphinx version, say
        print(f"  unavailable: cannot read the environment ({type(error).__name__}: {error})")
        return
    data = {doc: d for doc, d in data.items() if d and d.get("runtime") is not None}
    if not data:
        print("  unavailable: the environment holds no execution times")
        return
    built = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(max(d["mtime"] for d in data.values())))
    for doc in sorted(data):
        d = data[doc]
        print(f"  {doc:40s} {d['runtime']:6.1f}s  {'' if d.get('succeeded') else 'FAILED'}")
    total = sum(d["runtime"] for d in data.values())
    print(f"  {'total execution (built ' + built + ')':40s} {total:6.1f}s  (target for the whole build: < 180s)")


def pick_layer(spec: str):
    if spec.isdigit():
        return CONV_SUITE[int(spec)]
    matches = [c for c in CONV_SUITE if spec.lower() in c[0].lower()]
    if not matches:
        raise SystemExit(f"--profile: no conv2d layer matches {spec!r}; rows: "
                         + "; ".join(f"{i}: {c[0]}" for i, c in enumerate(CONV_SUITE)))
    return matches[0]


def profile(spec: str, rng) -> None:
    name, xshape, (cout, kh, kw), kw_args = pick_layer(spec)
    x = rng.standard_normal(xshape, dtype=np.float32)
    w = rng.standard_normal((cout, xshape[1], kh, kw), dtype=np.float32) * 0.1
    b = rng.standard_normal(cout, dtype=np.float32)
    g = rng.standard_normal(F.conv2d(x, w, b, **kw_args).shape, dtype=np.float32)
    print(f"\nprofile of 3 x (conv2d + conv2d_backward), {name}")
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(3):
        F.conv2d(x, w, b, **kw_args)
        F.conv2d_backward(g, x, w, **kw_args)
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3,
                        help="timed rounds per case, at least 3 (the minimum is kept)")
    parser.add_argument("--threads", type=int, default=2, help="threads for both NumPy's BLAS and torch")
    parser.add_argument("--skip-epoch", action="store_true", help="skip the LeNet epoch")
    parser.add_argument("--profile", metavar="LAYER", help="cProfile one conv2d layer (row number or name part)")
    parser.add_argument("--build-dir", type=Path, default=Path("_build"), help="where `make book` built")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with threadpool_limits(limits=args.threads, user_api="blas"):
        torch.set_num_threads(args.threads)
        if args.profile is not None:
            profile(args.profile, rng)
            return
        load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
        print(f"numpy {np.__version__} ({blas_kernels()}, BLAS threads {blas_threads()}), torch {torch.__version__} "
              f"(threads {torch.get_num_threads()}), {os.cpu_count()} cores, load average {load}; "
              f"best of {max(3, args.repeat)} alternating rounds")
        kept = [f"{k}={os.environ[k]}" for k in MALLOC_SETTINGS if k in os.environ]
        print(f"memory allocator: {', '.join(kept) if kept else 'glibc defaults (freed memory may go back to the system)'}")
        forced = [f"{k}={os.environ[k]}" for k in BLAS_SETTINGS if k in os.environ]
        if forced:
            print(f"note: the environment sets {', '.join(forced)}, which binds NumPy's BLAS kernels; OpenBLAS's "
                  f"own choice on this processor: {own_blas_kernels()}. torch's kernels are not bound by it.\n"
                  f"      `make bench` unsets both for its own command and measures with OpenBLAS's own choice.")
        rate = matmul_rate(2048)
        print(f"matmul rate (2048 x 2048 float32): {rate / 1e9:.0f} GFLOP/s")
        bench_convs("conv2d", args.repeat, rate, rng)
        bench_convs("conv_transpose2d", args.repeat, rate, rng)
        bench_convs("conv1d", args.repeat, rate, rng)
        bench_pool(args.repeat, rng)
        if not args.skip_epoch:
            bench_epoch(args.repeat)
        build_times(args.build_dir)
        print(f"\nload average at the end: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
