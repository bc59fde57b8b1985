"""Path length: how the gradient of a loss at step T reaches the input at step T - d.

:func:`gradient_profile` measures ||dL/dx_{T-d}|| for d = 0..T-1 at initialisation, with
L = w . (last output), for three models of the same width n on the same random inputs:

- ``rnn``: ``torch.nn.RNN`` (tanh), torch's default initialisation: the gradient crosses d
  Jacobians diag(tanh') W;
- ``lstm``: ``torch.nn.LSTM``, torch's default initialisation: it crosses d gated steps, and
  along the cell the factor is the forget gate (about one half at this initialisation);
- ``attention``: one causal head (:mod:`rnnbook.attention`, weights N(0, 1/n)): the output at T
  reads x_{T-d} through one attention weight, so the path has length one for every d.

The torch models run in float64; the attention gradient is the numpy backward pass, which the
tests check against torch. Each norm is the mean over ``batch`` input sequences x ~ N(0, 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rnnbook.attention import AttentionParams, input_gradient_profile
from rnnbook.checks import check_choice, check_count

PATH_MODELS = ("rnn", "lstm", "attention")


@dataclass(frozen=True, eq=False)
class PathProfile:
    """||dL/dx_{T-d}|| against d for one model.

    Attributes
    ----------
    model : str
    T, n : int
    distance : ndarray, shape (T,)
        d = 0..T-1.
    norm : ndarray, shape (T,)
        Mean over the batch of ||dL/dx_{T-d}||.
    """

    model: str
    T: int
    n: int
    distance: np.ndarray
    norm: np.ndarray

    def ratio(self, near: int, far: int) -> float:
        """Return norm[far] / norm[near] (how much weaker the far input's gradient is)."""
        return float(self.norm[far] / self.norm[near])


def _inputs(T: int, n: int, batch: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([seed, 8])
    x = rng.normal(size=(T, batch, n))
    w = rng.normal(size=n)
    return x, w / np.linalg.norm(w)


def gradient_profile(model: str, T: int, *, n: int = 32, batch: int = 8,
                     seed: int = 0) -> PathProfile:
    """Return the :class:`PathProfile` of ``model`` (rnn, lstm, attention) at initialisation."""
    model = check_choice("model", model, PATH_MODELS)
    T = check_count("T", T)
    n = check_count("n", n)
    batch = check_count("batch", batch)
    seed = check_count("seed", seed, 0)
    x, w = _inputs(T, n, batch, seed)
    if model == "attention":
        params = AttentionParams.random(n, n, seed=seed)
        norms = np.mean([input_gradient_profile(params, x[:, b], w) for b in range(batch)],
                        axis=0)
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            layer = (torch.nn.RNN if model == "rnn" else torch.nn.LSTM)(n, n).double()
        xt = torch.tensor(x, requires_grad=True)
        out, _ = layer(xt)
        (out[-1] @ torch.tensor(w)).sum().backward()
        norms = torch.linalg.vector_norm(xt.grad, dim=-1).mean(dim=1).numpy()[::-1]
    return PathProfile(model=model, T=T, n=n, distance=np.arange(T), norm=np.array(norms))


@dataclass(frozen=True, eq=False)
class PathComparison:
    """The profiles of every model at one T, and the one an explorer highlights."""

    T: int
    selected: str
    profiles: dict


def compare_paths(T: int, selected: str = "attention", *, n: int = 32, batch: int = 8,
                  seed: int = 0) -> PathComparison:
    """Return a :class:`PathComparison`: :func:`gradient_profile` of each model at length T."""
    selected = check_choice("selected", selected, PATH_MODELS)
    profiles = {m: gradient_profile(m, T, n=n, batch=batch, seed=seed) for m in PATH_MODELS}
    return PathComparison(T=check_count("T", T), selected=selected, profiles=profiles)


def describe_comparison(result: PathComparison) -> str:
    """Return alt text for :func:`rnnbook.plots.after_gates.plot_path_comparison`."""
    if not isinstance(result, PathComparison):
        raise TypeError(f"expected a PathComparison, got {type(result).__name__}")
    parts = []
    for model, profile in result.profiles.items():
        far = profile.ratio(1, result.T - 1) if result.T > 2 else 1.0
        parts.append(f"{model} {far:.0e}")
    return (f"Log-scale plot of the gradient norm reaching the input ℓ steps back, ℓ from 0 to "
            f"{result.T - 1}, at T = {result.T}, with {result.selected} drawn bold. The ratio of "
            f"the farthest input's gradient to the nearest one's: " + ", ".join(parts) +
            ". The RNN and LSTM curves fall as straight lines; attention's stays flat.")
