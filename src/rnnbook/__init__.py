"""rnnbook: the tested helper package behind the rnnbook textbook.

The top level re-exports the vocabulary every chapter shares (below, ``__all__``); each concept
keeps its own module (``rnnbook.bptt``, ``rnnbook.jacobian``, ``rnnbook.lstm``, ...), the figures
live in ``rnnbook.plots`` and the torch experiments in ``rnnbook.experiments``.

Glossary of parameter names
---------------------------
One name per concept, in function arguments, dataclass fields and explorer sliders:

============  =========================================================================
name          meaning
============  =========================================================================
``T``         sequence length (number of time steps); ``t`` a step, ``k`` an earlier
              step, ``d = T - k`` a distance back from the last step
``n``         hidden size (``params.n_hidden`` on a parameter set, beside ``n_input``
              = d and ``n_output`` = m; the torch experiments' configs and their stored
              records say ``hidden``, as torch does)
``d``         input size as a matrix dimension; as an index, the distance ``T - k``
``B``         batch size (``batch`` as an argument)
``g``         scale of a Gaussian initialisation: W has entries N(0, g^2 / n), so rho(W)
              is close to g (circular law); never a spectral radius
``rho``       spectral radius rho(W) = max |eigenvalue|, set exactly
              (:func:`~rnnbook.spectra.rescale_to_spectral_radius`)
``sigma_max`` largest singular value ||W||_2
``gamma``     sup |f'| of an activation f
``gain``      the multiplier of :func:`~rnnbook.initializers.orthogonal` (torch's name);
              ``scale`` is an initialiser's own scale in
              :func:`~rnnbook.initializers.recurrent_init` (gain, diagonal or g)
``seed``      seed of ``numpy.random.default_rng`` (or of torch, for torch models)
``steps``     a count of steps that is not a sequence's length: optimiser steps of a
              training run, or how far a quantity is followed (the powers of
              ``nonnormal_transient``, the span of ``initial_gradient`` after its warm-up,
              the distances of ``pascanu_bound``)
============  =========================================================================

Argument order: sizes first, then scales, then the seed, e.g. ``gaussian_matrix(n, g, seed)``
and ``circular_law(n, g, seed)``.

Conventions
-----------
- Spans of one-step Jacobians are indexed by distance: :func:`~rnnbook.jacobian.span_products`
  and :func:`~rnnbook.jacobian.span_norms` (overflow-free) serve the RNN, LSTM and GRU alike.
- Results are frozen dataclasses with ``eq=False`` (they hold arrays; tests compare fields with
  numpy); configurations and specs (scalars only) are frozen with value equality.
- Arguments are checked with :mod:`rnnbook.checks`; a wrong type raises ``TypeError``, a wrong
  value ``ValueError``, naming the argument.
- Overflow is not an error and never becomes NaN: a value beyond the float64 range is ``+inf``
  or ``-inf`` with its true sign, and results record where it happened (``overflow_step``).
  NaN appears only where the mathematics is undefined (NaN in the input), never from finite
  input; see the module docstrings of :mod:`rnnbook.rnn`, :mod:`rnnbook.bptt`,
  :mod:`rnnbook.jacobian` and :mod:`rnnbook.losses`, and :mod:`rnnbook.numerics`.
- Alt text of a figure comes from a ``describe_*(result)`` function, which
  :func:`~rnnbook.explorer.explorer` takes directly (``alt=describe_pulse``).
"""

from rnnbook.activations import ACTIVATIONS, Activation, get_activation
from rnnbook.bptt import bptt, relative_error
from rnnbook.explorer import explorer
from rnnbook.gru import GRUParams, gru_forward
from rnnbook.jacobian import span_norms, span_products, step_jacobians
from rnnbook.lstm import LSTMParams, lstm_forward
from rnnbook.rnn import RNNParams, Trajectory, count_params, forward, from_torch, to_torch
from rnnbook.spectra import (
    eigenvalues,
    gaussian_matrix,
    power_norms,
    rescale_to_spectral_radius,
    singular_values,
    spectral_norm,
    spectral_radius,
)

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "GRUParams",
    "LSTMParams",
    "RNNParams",
    "Trajectory",
    "bptt",
    "count_params",
    "eigenvalues",
    "explorer",
    "forward",
    "from_torch",
    "gaussian_matrix",
    "get_activation",
    "gru_forward",
    "lstm_forward",
    "power_norms",
    "relative_error",
    "rescale_to_spectral_radius",
    "singular_values",
    "span_norms",
    "span_products",
    "spectral_norm",
    "spectral_radius",
    "step_jacobians",
    "to_torch",
]
__version__ = "0.1.0"
