"""Time the manual BPTT decomposition against torch.autograd (a script, not a test).

Run: ``.venv/bin/python benchmarks/bptt_decomposition.py [--repeats 7] [--threads 1]``.

Model: Elman RNN, tanh, n = 64 hidden units, d = m = 1, batch 1, last-step squared error,
float64. Every timing is a full forward + backward pass; ``--repeats`` runs are made back to
back after a warm-up call, and the median (and, less sensitive to a busy machine, the minimum)
is printed:

- torch nn.RNN: ``torch.nn.RNN`` (via :func:`rnnbook.to_torch`) and autograd, totals only;
- torch loop: the same model written step by step in torch, autograd, totals only;
- manual totals: :func:`rnnbook.bptt.bptt` with ``keep_terms=False, keep_chain=False``
  (gradients and the term norms);
- manual + terms: the (T, n, n) W terms (and U, b terms) kept, no chain;
- decomposition: terms and the chain dh_T/dh_k (T, n, n) kept, everything at once.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

# One BLAS thread unless the caller says otherwise: torch runs with one thread too, and on a
# shared 2-core machine a second spinning BLAS thread makes small matmuls erratic.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from rnnbook import RNNParams, to_torch  # noqa: E402
from rnnbook.bptt import bptt  # noqa: E402

N_HIDDEN = 64


def run_times(function, repeats: int) -> list[float]:
    """Return the wall times of ``repeats`` calls of ``function()`` in seconds, after a warm-up.

    The calls run back to back (steady state: what a caller who repeats the computation sees).
    """
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def problem(T: int, seed: int = 0):
    """Return (params, x (T, 1), y (1,)) for a tanh RNN with rho(W) near 1."""
    params = RNNParams.random(1, N_HIDDEN, 1, activation="tanh", seed=seed)
    rng = np.random.default_rng(seed)
    return params, rng.normal(size=(T, 1)), rng.normal(size=1)


def torch_nn(params, x, y):
    rnn, readout = to_torch(params)
    X, Y = torch.from_numpy(x[:, None, :]), torch.from_numpy(y)

    def run():
        rnn.zero_grad()
        readout.zero_grad()
        hs, _ = rnn(X)
        loss = 0.5 * ((Y - readout(hs[-1, 0])) ** 2).sum()
        loss.backward()
        return rnn.weight_hh_l0.grad

    return run


def torch_loop(params, x, y):
    leaves = [torch.tensor(getattr(params, name), requires_grad=True) for name in "UWbVc"]
    X, Y = torch.from_numpy(x), torch.from_numpy(y)

    def run():
        U, W, b, V, c = leaves
        for leaf in leaves:
            leaf.grad = None
        inputs = X @ U.T + b
        h = torch.zeros(N_HIDDEN, dtype=torch.float64)
        for t in range(X.shape[0]):
            h = torch.tanh(inputs[t] + W @ h)
        loss = 0.5 * ((Y - (V @ h + c)) ** 2).sum()
        loss.backward()
        return W.grad

    return run


def manual(params, x, y, *, keep_terms: bool, keep_chain: bool):
    def run():
        return bptt(params, x, y, "mse_last", keep_terms=keep_terms, keep_chain=keep_chain)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (numpy's BLAS: OPENBLAS_NUM_THREADS, "
                             "default 1)")
    parser.add_argument("--lengths", type=int, nargs="+", default=[1000, 4000])
    args = parser.parse_args()
    if args.repeats < 5:
        parser.error("--repeats must be at least 5")
    torch.set_num_threads(args.threads)

    methods = {
        "torch nn.RNN (totals)": torch_nn,
        "torch loop (totals)": torch_loop,
        "manual totals (+ term norms)": lambda p, x, y: manual(p, x, y, keep_terms=False,
                                                                keep_chain=False),
        "manual + terms (T,n,n)": lambda p, x, y: manual(p, x, y, keep_terms=True,
                                                          keep_chain=False),
        "decomposition: terms + chain": lambda p, x, y: manual(p, x, y, keep_terms=True,
                                                                keep_chain=True),
    }
    times: dict[str, dict[int, list[float]]] = {name: {} for name in methods}
    for T in args.lengths:
        params, x, y = problem(T)
        reference = torch_nn(params, x, y)().numpy()
        check = bptt(params, x, y, keep_terms=False, keep_chain=False).grads["W"]
        error = np.linalg.norm(check - reference) / np.linalg.norm(reference)
        print(f"T={T}: relative error of manual dL/dW against torch nn.RNN: {error:.2e}")
        for name, make in methods.items():
            times[name][T] = run_times(make(params, x, y), args.repeats)

    print(f"\nn={N_HIDDEN}, batch 1, tanh, last-step loss, float64, {args.repeats} runs each, "
          f"torch threads={args.threads}, "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    for label, statistic in (("median", statistics.median), ("minimum", min)):
        print(f"\n{label} wall time")
        print_table({name: {T: statistic(values) for T, values in row.items()}
                     for name, row in times.items()}, args.lengths)


def print_table(times: dict[str, dict[int, float]], lengths: list[int]) -> None:
    """Print one row per method: times in ms, ratios to torch nn.RNN, and the scaling in T."""
    first, last = lengths[0], lengths[-1]
    baseline = "torch nn.RNN (totals)"
    header = "".join(f"{f'T={T} (ms)':>14}" for T in lengths)
    ratios = "".join(f"{f'/torch T={T}':>14}" for T in lengths)
    print(f"{'method':<32}{header}{ratios}{f'T={last}/T={first}':>16}")
    for name, row in times.items():
        cells = "".join(f"{row[T] * 1e3:>14.1f}" for T in lengths)
        ratio = "".join(f"{row[T] / times[baseline][T]:>13.2f}x" for T in lengths)
        print(f"{name:<32}{cells}{ratio}{row[last] / row[first]:>16.2f}")


if __name__ == "__main__":
    main()
