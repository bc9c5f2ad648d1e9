"""Speed of cnnbook's fast path against torch on the CPU (``make bench``; not part of ``make test``).

Times, in one process and with the same number of threads on both sides:

- ``cnnbook.functional.conv2d`` forward, and ``conv2d_backward`` (grad_input, grad_weight, grad_bias),
  against ``torch.nn.functional.conv2d`` forward and its autograd backward, over a fixed suite;
- ``max_pool2d`` / ``avg_pool2d`` forward + backward;
- one training epoch of the chapter-8 LeNet (``cnnbook.models.LENET_RECIPE``) on its digits
  (``cnnbook.data.load_handwritten_digits``),
  against the same network in torch on the same minibatches.

It prints each time, each ratio (cnnbook / torch; below 1 means cnnbook is faster) and the geometric
mean of the convolution ratios. Threads: NumPy's BLAS pool size is read with ``threadpoolctl`` and
``torch.set_num_threads`` is set to the same number (override both with ``--threads N``).
Each timing is the minimum over ``--repeat`` runs after one warm-up run, float32 throughout.
On a machine whose cores are busy with other work, multi-threaded pools (OpenBLAS's and torch's
OpenMP) spin against the load and the timings become erratic on both sides; ``--threads 1`` then gives
the stable, like-for-like comparison.

    .venv/bin/python benchmarks/run.py [--repeat 5] [--threads N] [--skip-epoch]
"""
from __future__ import annotations

import argparse

import numpy as np
import torch
from threadpoolctl import threadpool_limits

import cnnbook.functional as F
from cnnbook.check import torch_lenet5
from cnnbook.data import load_handwritten_digits
from cnnbook.models import LENET_RECIPE, lenet5
from cnnbook.timing import best_time, blas_threads, geometric_mean as geomean
from cnnbook.training import SGD, batch_indices, train_step

# name, (N, C_in, H, W), (C_out, kH, kW), conv keyword arguments
CONV_SUITE = [
    ("LeNet conv1 1->6 5x5 pad 2, 28x28, N=64", (64, 1, 28, 28), (6, 5, 5), dict(padding=2)),
    ("LeNet conv2 6->16 5x5, 14x14, N=64", (64, 6, 14, 14), (16, 5, 5), {}),
    ("3->16 3x3 pad 1, 32x32, N=64", (64, 3, 32, 32), (16, 3, 3), dict(padding=1)),
    ("64->64 3x3 pad 1, 56x56, N=32", (32, 64, 56, 56), (64, 3, 3), dict(padding=1)),
    ("32->64 3x3 stride 2 pad 1, 28x28, N=32", (32, 32, 28, 28), (64, 3, 3), dict(stride=2, padding=1)),
    ("16->16 3x3 dilation 2 pad 2, 32x32, N=32", (32, 16, 32, 32), (16, 3, 3), dict(dilation=2, padding=2)),
]

POOL_SUITE = [
    ("max_pool2d 2x2/2 on (64, 16, 28, 28)", "max", (64, 16, 28, 28), dict(kernel_size=2, stride=2)),
    ("max_pool2d 3x3/2 pad 1 on (32, 64, 56, 56)", "max", (32, 64, 56, 56),
     dict(kernel_size=3, stride=2, padding=1)),
    ("avg_pool2d 2x2/2 on (64, 16, 28, 28)", "avg", (64, 16, 28, 28), dict(kernel_size=2, stride=2)),
    ("avg_pool2d 3x3/2 pad 1 on (32, 64, 56, 56)", "avg", (32, 64, 56, 56),
     dict(kernel_size=3, stride=2, padding=1)),
]


def bench_conv(repeat: int, rng) -> list[float]:
    print("\nconv2d (float32)                                  ours fwd  torch fwd  ratio | "
          "ours f+b  torch f+b  ratio")
    ratios_fb, ratios_f = [], []
    for name, xshape, (cout, kh, kw), kw_args in CONV_SUITE:
        x = rng.standard_normal(xshape, dtype=np.float32)
        w = rng.standard_normal((cout, xshape[1], kh, kw), dtype=np.float32) * 0.1
        b = rng.standard_normal(cout, dtype=np.float32)
        y = F.conv2d(x, w, b, **kw_args)
        g = rng.standard_normal(y.shape, dtype=np.float32)

        def ours_fwd():
            F.conv2d(x, w, b, **kw_args)

        def ours_fb():
            F.conv2d(x, w, b, **kw_args)
            F.conv2d_backward(g, x, w, **kw_args)

        xt, wt, bt, gt = (torch.from_numpy(a) for a in (x, w, b, g))

        def torch_fwd():
            with torch.no_grad():
                torch.nn.functional.conv2d(xt, wt, bt, **kw_args)

        def torch_fb():
            xr, wr, br = (t.detach().requires_grad_(True) for t in (xt, wt, bt))
            torch.nn.functional.conv2d(xr, wr, br, **kw_args).backward(gt)

        tf, ttf = best_time(ours_fwd, repeat), best_time(torch_fwd, repeat)
        tfb, ttfb = best_time(ours_fb, repeat), best_time(torch_fb, repeat)
        ratios_f.append(tf / ttf)
        ratios_fb.append(tfb / ttfb)
        print(f"{name:48s} {tf * 1e3:8.2f}ms {ttf * 1e3:8.2f}ms {tf / ttf:6.2f} | "
              f"{tfb * 1e3:8.2f}ms {ttfb * 1e3:8.2f}ms {tfb / ttfb:6.2f}")
    print(f"{'geometric mean of the ratios':48s} {'':20s} {geomean(ratios_f):6.2f} | "
          f"{'':20s} {geomean(ratios_fb):6.2f}   (target for fwd+bwd: <= 3)")
    return ratios_fb


def bench_pool(repeat: int, rng) -> list[float]:
    print("\npooling f+b (float32)                             ours f+b  torch f+b  ratio")
    ratios = []
    for name, kind, shape, kw_args in POOL_SUITE:
        x = rng.standard_normal(shape, dtype=np.float32)
        fwd, bwd = (F.max_pool2d, F.max_pool2d_backward) if kind == "max" else (F.avg_pool2d, F.avg_pool2d_backward)
        tfwd = torch.nn.functional.max_pool2d if kind == "max" else torch.nn.functional.avg_pool2d
        g = rng.standard_normal(fwd(x, **kw_args).shape, dtype=np.float32)
        xt, gt = torch.from_numpy(x), torch.from_numpy(g)

        def ours():
            fwd(x, **kw_args)
            bwd(g, x, **kw_args)

        def theirs():
            xr = xt.detach().requires_grad_(True)
            tfwd(xr, **kw_args).backward(gt)

        t, tt = best_time(ours, repeat), best_time(theirs, repeat)
        ratios.append(t / tt)
        print(f"{name:48s} {t * 1e3:8.2f}ms {tt * 1e3:8.2f}ms {t / tt:6.2f}")
    print(f"{'geometric mean':48s} {'':20s} {geomean(ratios):6.2f}")
    return ratios


def bench_epoch(repeat: int) -> float:
    r = LENET_RECIPE
    x, y, _, _ = load_handwritten_digits()
    batches = [idx for _, idx in batch_indices(len(x), r["batch_size"], epochs=1, seed=r["seed"])]
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    print(f"\none LeNet training epoch ({r['activation']} + {r['pool']} pooling, {len(x)} images, "
          f"batch {r['batch_size']}, {len(batches)} SGD steps)")
    results = {}
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
                loss = torch.nn.functional.cross_entropy(model(xt[i]), yt[i])
                opt.zero_grad()
                loss.backward()
                opt.step()

        t, tt = best_time(ours, repeat), best_time(theirs, repeat)
        results[(act, pool)] = t / tt
        print(f"{'LeNet ' + act + ' + ' + pool + ' pooling epoch':48s} {t:8.3f}s  {tt:8.3f}s  "
              f"{t / tt:6.2f}   (target: <= 3)")
    return results[(r["activation"], r["pool"])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per case (minimum is kept)")
    parser.add_argument("--threads", type=int, default=None, help="threads for both NumPy's BLAS and torch")
    parser.add_argument("--skip-epoch", action="store_true", help="skip the LeNet epoch")
    args = parser.parse_args()
    threads = args.threads or blas_threads()
    with threadpool_limits(limits=threads, user_api="blas"):
        torch.set_num_threads(threads)
        print(f"numpy {np.__version__} (BLAS threads {blas_threads()}), torch {torch.__version__} "
              f"(threads {torch.get_num_threads()}), best of {args.repeat} runs")
        rng = np.random.default_rng(0)
        bench_conv(args.repeat, rng)
        bench_pool(args.repeat, rng)
        if not args.skip_epoch:
            bench_epoch(max(1, args.repeat // 2))


if __name__ == "__main__":
    main()
