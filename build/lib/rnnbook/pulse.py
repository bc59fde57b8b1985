"""How long a hidden state remembers one input: the response to a pulse at step 1."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnbook.rnn import RNNParams, forward


@dataclass(frozen=True)
class PulseResponse:
    """Hidden states driven by one input pulse, and the pulse's trace.

    Attributes
    ----------
    t : ndarray, shape (T,)
        Steps 1..T.
    h : ndarray, shape (T, n)
        Hidden states with the pulse x_1 = ``amplitude``, later inputs zero.
    trace : ndarray, shape (T,)
        ||h_t(pulse) - h_t(no pulse)||: how much of the pulse step t still carries.
    recurrent_scale : float
    activation : str
    spectral_radius : float
        rho(W) of the network used.
    """

    t: np.ndarray
    h: np.ndarray
    trace: np.ndarray
    recurrent_scale: float
    activation: str
    spectral_radius: float


def pulse_response(
    recurrent_scale: float,
    activation: str = "tanh",
    *,
    steps: int = 40,
    n_hidden: int = 32,
    amplitude: float = 1.0,
    seed: int = 0,
) -> PulseResponse:
    """Return the :class:`PulseResponse` of a random RNN whose W has entries of std g/sqrt(n).

    Parameters
    ----------
    recurrent_scale : float
        g, the scale of W (its spectral radius is close to g).
    activation : str
    steps : int
        T, the number of steps simulated.
    n_hidden : int
    amplitude : float
        Size of the pulse x_1.
    seed : int
    """
    if not np.isfinite(recurrent_scale) or recurrent_scale < 0:
        raise ValueError(f"recurrent_scale must be finite and >= 0, got {recurrent_scale}")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    params = RNNParams.random(1, n_hidden, 1, activation=activation,
                              recurrent_scale=recurrent_scale, seed=seed)
    params = params.replace(b=np.zeros(n_hidden))
    x = np.zeros((steps, 1))
    x[0, 0] = amplitude
    with_pulse = forward(params, x).h[:, 0]
    without = forward(params, np.zeros_like(x)).h[:, 0]
    with np.errstate(invalid="ignore", over="ignore"):
        trace = np.linalg.norm(with_pulse - without, axis=1)
    return PulseResponse(
        t=np.arange(1, steps + 1),
        h=with_pulse,
        trace=trace,
        recurrent_scale=float(recurrent_scale),
        activation=activation,
        spectral_radius=float(np.max(np.abs(np.linalg.eigvals(params.W)))),
    )


def describe_pulse(result: PulseResponse) -> str:
    """Return a one-sentence description of a pulse response (alt text for its figure)."""
    trace = result.trace
    picks = [k for k in (1, 10, 20, len(trace)) if k <= len(trace)]
    values = ", ".join(f"{trace[k - 1]:.2g} at step {k}" for k in dict.fromkeys(picks))
    return (
        f"Hidden units and the pulse's trace for a {result.activation} RNN whose recurrent "
        f"matrix has scale {result.recurrent_scale:g} (spectral radius "
        f"{result.spectral_radius:.2f}); the trace is {values}."
    )
