"""How long a hidden state remembers one input: the response to a pulse at step 1."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnbook.checks import check_count, check_real, check_type
from rnnbook.rnn import RNNParams, forward
from rnnbook.spectra import spectral_radius


@dataclass(frozen=True, eq=False)
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
    g : float
    activation : str
    rho : float
        rho(W) of the network used.
    """

    t: np.ndarray
    h: np.ndarray
    trace: np.ndarray
    g: float
    activation: str
    rho: float


def pulse_response(
    g: float,
    activation: str = "tanh",
    *,
    T: int = 40,
    n: int = 32,
    amplitude: float = 1.0,
    seed: int = 0,
) -> PulseResponse:
    """Return the :class:`PulseResponse` of a random RNN whose W has entries of std g/sqrt(n).

    Parameters
    ----------
    g : float
        g, the scale of W (its spectral radius is close to g).
    activation : str
    T : int
        The number of steps simulated.
    n : int
        Hidden size.
    amplitude : float
        Size of the pulse x_1.
    seed : int
    """
    g = check_real("g", g, low=0.0)
    T = check_count("T", T)
    amplitude = check_real("amplitude", amplitude)
    params = RNNParams.random(1, n, 1, activation=activation,
                              g=g, seed=seed)
    params = params.replace(b=np.zeros(n))
    x = np.zeros((T, 1))
    x[0, 0] = amplitude
    with_pulse = forward(params, x).h[:, 0]
    without = forward(params, np.zeros_like(x)).h[:, 0]
    with np.errstate(invalid="ignore", over="ignore"):
        trace = np.linalg.norm(with_pulse - without, axis=1)
    return PulseResponse(
        t=np.arange(1, T + 1),
        h=with_pulse,
        trace=trace,
        g=float(g),
        activation=activation,
        rho=spectral_radius(params.W),
    )


def describe_pulse(result: PulseResponse) -> str:
    """Return a one-sentence description of a pulse response (alt text for its figure)."""
    trace = check_type("result", result, PulseResponse).trace
    picks = [k for k in (1, 10, 20, len(trace)) if k <= len(trace)]
    values = ", ".join(f"{trace[k - 1]:.2g} at step {k}" for k in dict.fromkeys(picks))
    return (
        f"Hidden units and the pulse's trace for a {result.activation} RNN whose recurrent "
        f"matrix has scale {result.g:g} (spectral radius "
        f"{result.rho:.2f}); the trace is {values}."
    )
