"""rnnbook: the tested helper package behind the rnnbook textbook."""

from rnnbook.activations import ACTIVATIONS, Activation, get_activation
from rnnbook.explorer import explorer
from rnnbook.rnn import RNNParams, Trajectory, count_params, forward, from_torch, to_torch

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "RNNParams",
    "Trajectory",
    "count_params",
    "explorer",
    "forward",
    "from_torch",
    "get_activation",
    "to_torch",
]
__version__ = "0.1.0"
