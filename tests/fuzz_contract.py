"""A fuzz of the public API against the contract of issue 20 (used by test_contract_fuzz.py).

Every public function of ``rnnbook`` and its submodules (defined there, name without a leading
underscore; the torch training loops, command lines and the argument checks ``check_*``
excepted: a check's message names its caller's argument, given as ``name``, by design, and
``test_checks.py`` tests them) is first called with valid
arguments found from a small table of samples by parameter name (and annotation); a function
for which no valid call is found is skipped. Then each parameter in turn gets bad and extreme
values. Outcomes:

- ``clear``: a ``ValueError``/``TypeError`` whose message names the parameter, or a result
  (finite, or inf, or NaN only where the input held NaN);
- ``unhelpful``: a ``ValueError``/``TypeError`` that does not name the parameter;
- ``other``: another exception type;
- ``silent``: a bad value accepted (a string, bool, fraction or negative count in place of a
  number), or NaN out of finite input;
- ``hang``: no answer within the time cap, twice (the second time with 3 times the cap).

Run ``python tests/fuzz_contract.py`` for the table.
"""

from __future__ import annotations

import collections
import dataclasses
import importlib
import inspect
import itertools
import pkgutil
import signal
import warnings
from collections.abc import Callable, Iterator

import numpy as np

import rnnbook

#: Functions not fuzzed: they train torch models for minutes, or parse a command line.
SKIP = {"main", "train", "run_experiment", "training_loop", "measure_step_time", "run_grid",
        "one_thread", "explorer", "render_frames", "run_config", "train_one", "benchmark"}
SKIP_MODULES = {"rnnbook.experiments.after_gates"}


class Hang(Exception):
    """Raised by the alarm when a call takes longer than the cap."""


def _alarm(signum, frame):
    raise Hang


def public_functions() -> list[tuple[str, Callable]]:
    """Return ``[(qualified name, function)]`` for every public function of the package."""
    modules = [rnnbook] + [importlib.import_module(info.name) for info in
                           pkgutil.walk_packages(rnnbook.__path__, "rnnbook.")]
    found = []
    for module in modules:
        if module.__name__ in SKIP_MODULES:
            continue
        for name, obj in sorted(vars(module).items()):
            if (name.startswith(("_", "check_")) or name in SKIP or not inspect.isfunction(obj)
                    or obj.__module__ != module.__name__):
                continue
            found.append((f"{module.__name__}.{name}", obj))
    return found


def _samples() -> dict[str, list]:
    """Valid candidate values by parameter name (d = 2 inputs, n = 3 units, T = 5 steps)."""
    from rnnbook.bptt import truncation_profile
    from rnnbook.decomposition import term_norms_by_distance
    from rnnbook.gru import GRUParams, gru_forward
    from rnnbook.lstm import LSTMParams, lstm_forward
    from rnnbook.pulse import pulse_response
    from rnnbook.rnn import RNNParams, forward

    rnn = RNNParams.random(2, 3, 1, seed=0)
    lstm, gru = LSTMParams.random(2, 3, seed=0), GRUParams.random(2, 3, seed=0)
    x = np.linspace(-0.5, 0.5, 10).reshape(5, 2)
    rng = np.random.default_rng(0)
    W = 0.5 * np.eye(3)
    return {
        "params": [rnn, lstm, gru],
        "trajectory": [forward(rnn, x), lstm_forward(lstm, x), gru_forward(gru, x)],
        "traj": [forward(rnn, x), lstm_forward(lstm, x), gru_forward(gru, x)],
        "x": [x, np.ones((5, 1)), 0.3, np.ones(2)],
        "y": [np.zeros(1), np.zeros(5, dtype=int)],
        "h": [np.zeros(3)], "c": [np.zeros(3)], "h0": [np.zeros(3)],
        "T": [5], "n": [3], "d": [2], "k": [2], "t": [3], "steps": [5], "n_input": [2],
        "n_hidden": [3], "n_output": [1], "hidden": [3], "width": [3], "window": [2],
        "lag": [1], "max_lag": [2], "k_max": [3], "batch": [2], "seed": [0],
        "rho": [0.9], "g": [0.9], "gain": [1.0], "scale": [1.0],
        "lam": [0.9, np.array([0.5 + 0.1j, 0.9, -0.3])],
        "threshold": [1.0], "learning_rate": [0.1], "clip_value": [1.0], "sigma": [0.5],
        "modulus": [0.9], "r_min": [0.5], "r_max": [0.9], "shear": [1.0], "variance": [1.0],
        "forget_bias": [1.0], "update_bias": [1.0], "continue_probability": [0.5],
        "activation": ["tanh"], "name": ["tanh", "orthogonal", "mse_last", "adding"],
        "kind": ["rnn", "lstm"], "model": ["rnn"], "task": ["adding"], "loss": ["mse_last"],
        "W": [W], "A": [W, -np.ones(3)], "matrices": [np.stack([W, W])],
        "factors": [np.stack([W, W])],
        "jacobians": [np.stack([W] * 4)], "a": [np.ones((4, 2, 3))], "b": [np.ones((4, 2, 3)),
                                                                          0.5],
        "w": [5.0], "x0": [0.5], "u": [np.ones(3), np.ones((5, 3))],
        "z": [np.ones((5, 1, 3)), np.full(5, 0.5)],
        "e": [np.ones((5, 1, 3))], "fprime": [np.ones((5, 1, 3))], "o": [np.ones((5, 1, 1))],
        "func": [np.tanh], "prediction": [0.5], "starts": [[0.1, 0.5]],
        "profile": [truncation_profile(rnn, x, np.zeros(1), 2), term_norms_by_distance(0.9, 5)],
        "result": [pulse_response(0.9, T=5, n=3)],
        "grads": [[np.ones(3)], {"W": np.ones((2, 2))}], "first": [[np.ones(3)]],
        "second": [[np.ones(3)]], "estimate": [np.ones(3)], "reference": [np.ones(3)],
        "norms": [np.array([1.0, 0.5, 0.1])], "values": [np.array([1.0, 0.5, 0.1])],
        "array": [np.ones(3)], "start": [(5.0, -2.8)], "rng": [0, rng], "delta": [0.1],
        "loss_steps": [np.array([4])], "Ws": [np.stack([W] * 5)], "q": [0.5], "mean": [0.0],
        "nu_log": [np.zeros(3)], "theta_log": [np.zeros(3)], "gates": [np.full((5, 3), 0.5)],
        "terms": [np.ones((5, 3, 3))], "distance": [np.arange(5)], "trace": [np.ones(5)],
        "losses": [np.ones(5)], "scales": [[0.5, 1.0]], "lengths": [[5]], "states": [
            np.ones((5, 3))], "grad_h": [np.ones(3)], "grad_y": [np.ones(1)],
    }


BAD_COMMON = [("None", None), ("str", "abc"), ("object", object())]
BAD_INT = [("bool", True), ("float", 2.5), ("negative", -1), ("huge", 10**12), ("nan", np.nan)]
BAD_REAL = [("bool", True), ("nan", np.nan), ("inf", np.inf), ("-inf", -np.inf),
            ("extreme", 1e300), ("-extreme", -1e300), ("subnormal", 1e-320)]
BAD_ARRAY = [("strings", [["a", "b"]]), ("nan array", "nan"), ("huge array", "huge"),
             ("tiny array", "tiny"), ("extra axis", "axis"), ("empty", "empty")]
#: Bad values that are errors whatever the parameter (an extreme magnitude may be valid).
INVALID = {"str", "object", "bool", "float", "negative", "strings", "None"}


def _call(function: Callable, kwargs: dict, cap: float):
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, cap)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return function(**kwargs)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _has_nan(value, depth: int = 0) -> bool:
    if depth > 3:
        return False
    if isinstance(value, np.ndarray):
        return value.dtype.kind == "f" and bool(np.isnan(value).any())
    if isinstance(value, float | np.floating):
        return bool(np.isnan(value))
    if isinstance(value, dict):
        return any(_has_nan(v, depth + 1) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_nan(v, depth + 1) for v in value[:50])
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return any(_has_nan(getattr(value, f.name), depth + 1)
                   for f in dataclasses.fields(value))
    return False


def _close(result) -> None:
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    if isinstance(result, Figure):
        plt.close(result)


def base_call(function: Callable, samples: dict, cap: float) -> dict | None:
    """Return keyword arguments that make a valid call, or None if none is found."""
    signature = inspect.signature(function)
    required = [p for p in signature.parameters.values()
                if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if any(p.name not in samples for p in required):
        return None
    options = [samples[p.name] for p in required]
    for combination in itertools.islice(itertools.product(*options), 12):
        kwargs = dict(zip([p.name for p in required], combination, strict=True))
        try:
            result = _call(function, kwargs, cap)
        except Exception:  # noqa: BLE001 - a candidate that does not fit: try the next
            continue
        _close(result)
        if not _has_nan(result):
            return kwargs
    return None


def _bad_values(sample) -> list[tuple[str, object]]:
    if isinstance(sample, bool):
        return BAD_COMMON[1:] + [("int", 1)]
    if isinstance(sample, int | np.integer):
        return BAD_COMMON + BAD_INT
    if isinstance(sample, float):
        return BAD_COMMON + BAD_REAL
    if isinstance(sample, str):
        return [("None", None), ("unknown", "zz-unknown"), ("number", 3)]
    if isinstance(sample, np.ndarray) and sample.dtype.kind == "f":
        values = []
        for label, kind in BAD_ARRAY:
            if kind == "nan":
                value = sample.copy()
                value.flat[0] = np.nan
            elif kind == "huge":
                value = sample * 1e300 + np.sign(sample) * 0.0
            elif kind == "tiny":
                value = sample * 1e-320
            elif kind == "axis":
                value = sample[None]
            elif kind == "empty":
                value = np.zeros((0,) * sample.ndim)
            else:
                value = kind
            values.append((label, value))
        return BAD_COMMON + values
    return BAD_COMMON


def _names(message: str, parameter: str) -> bool:
    return parameter.lower() in message.lower()


def cases(cap: float = 5.0) -> Iterator[tuple[str, str, str, str, str]]:
    """Yield ``(function, parameter, bad value, outcome, detail)`` for every fuzz case."""
    samples = _samples()
    for qualified, function in public_functions():
        kwargs = base_call(function, samples, cap)
        if kwargs is None:
            yield qualified, "-", "-", "no valid call found", ""
            continue
        signature = inspect.signature(function)
        for parameter in signature.parameters.values():
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                continue
            sample = kwargs.get(parameter.name, parameter.default)
            if sample is None or sample is parameter.empty:
                continue
            for label, value in _bad_values(sample):
                trial = {**kwargs, parameter.name: value}
                try:
                    try:
                        result = _call(function, trial, cap)
                    except Hang:  # a loaded machine is slow: a hang must time out twice
                        result = _call(function, trial, 3 * cap)
                except Hang:
                    yield qualified, parameter.name, label, "hang", ""
                    continue
                except (ValueError, TypeError) as error:
                    outcome = "clear" if _names(str(error), parameter.name) else "unhelpful"
                    yield qualified, parameter.name, label, outcome, str(error)[:120]
                    continue
                except Exception as error:  # noqa: BLE001 - what the fuzz is looking for
                    yield qualified, parameter.name, label, "other", repr(error)[:120]
                    continue
                _close(result)
                nan_in = label in ("nan", "nan array")
                if label in INVALID and not (label == "None" and parameter.default is None):
                    yield qualified, parameter.name, label, "silent", "accepted"
                elif _has_nan(result) and not nan_in:
                    yield qualified, parameter.name, label, "silent", "NaN from finite input"
                else:
                    yield qualified, parameter.name, label, "clear", "result"


def table(rows) -> collections.Counter:
    """Return the count of each outcome."""
    return collections.Counter(row[3] for row in rows)


if __name__ == "__main__":
    import sys

    rows = list(cases())
    counts = table(rows)
    functions = {row[0] for row in rows}
    total = sum(v for k, v in counts.items() if k != "no valid call found")
    print(f"{len(functions)} functions, {total} cases")
    for outcome in ("clear", "unhelpful", "other", "silent", "hang", "no valid call found"):
        print(f"{outcome:>20}: {counts.get(outcome, 0)}")
    if "-v" in sys.argv:
        for row in rows:
            if row[3] not in ("clear", "no valid call found"):
                print(" | ".join(row))
