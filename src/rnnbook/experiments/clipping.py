"""A vanilla-RNN training run whose loss spikes without gradient clipping and not with it.

The task is an echo: the input x_t is N(0, 1) noise and the target is y_t = x_{t-d}, the input
d steps earlier; the loss is the mean squared error over t = d..T-1. The network is a ReLU
Elman RNN (torch.nn.RNN, float32) with orthogonal recurrent weights and an affine read-out,
trained by plain SGD with a fresh random batch at every step. Each seed is trained twice from
the same weights and the same batches: once without clipping, once with the gradient norm
clipped at each of ``thresholds`` (``torch.nn.utils.clip_grad_norm_``, which equals
:func:`rnnbook.clipping.clip_by_norm`).

A *spike* is a step t >= m whose loss exceeds k times the median loss of the m steps before
it (k = ``spike_factor``, m = ``spike_window``); consecutive spike steps count as one spike.

The runs take tens of seconds, so they are not redone on every build:
``python -m rnnbook.experiments.clipping`` writes them to ``rnnbook/data/clipping_runs.json``
(with the seeds, library versions and the command line), :func:`load_runs` reads that file,
and the test suite re-runs a reduced configuration to check that it reproduces. The steps are
taken by the shared loop :func:`rnnbook.experiments.training.training_loop`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import ArrayLike

from rnnbook.checks import (
    MAX_SEED,
    check_array,
    check_count,
    check_positive,
    check_real,
    check_seed,
)
from rnnbook.experiments.records import (
    StoredExperiment,
    count_arg,
    json_floats,
    read_floats,
    software_versions,
)
from rnnbook.experiments.training import one_thread, training_loop
from rnnbook.initializers import orthogonal

#: Config keys of records written before the fields took the package's names (hidden, T).
LEGACY_KEYS = {"n_hidden": "hidden", "seq_len": "T"}
STORE = StoredExperiment("rnnbook.experiments.clipping", "clipping_runs.json",
                         ("runs", "summary"))
DEFAULT_SEEDS = (0, 1, 2, 3, 4)
#: Steps at the end of a run whose mean loss is reported as its final loss.
FINAL_WINDOW = 50


@dataclass(frozen=True)
class ExperimentConfig:
    """The model, task, optimiser and spike definition of the clipping experiment.

    Attributes
    ----------
    hidden : int
        Hidden size n of the ReLU RNN.
    T : int
        The length of each training sequence.
    delay : int
        d: the target at step t is the input at step t - d.
    batch : int
        Sequences per step.
    steps : int
        SGD steps per run.
    learning_rate : float
        SGD learning rate (no momentum).
    thresholds : tuple of float
        Gradient-norm clipping thresholds; each seed is also trained once per threshold.
    spike_factor : float
        k: a spike is a loss above k times the running median.
    spike_window : int
        m: the running median is over the m previous steps.
    """

    hidden: int = 32
    T: int = 25
    delay: int = 5
    batch: int = 32
    steps: int = 300
    learning_rate: float = 0.03
    thresholds: tuple[float, ...] = (3.0, 5.0)
    spike_factor: float = 3.0
    spike_window: int = 10

    def __post_init__(self) -> None:
        for name in ("hidden", "T", "delay", "batch", "steps", "spike_window"):
            check_count(name, getattr(self, name))
        if self.delay >= self.T:
            raise ValueError(f"delay ({self.delay}) must be smaller than T "
                             f"({self.T}): no step would have a target")
        if not isinstance(self.thresholds, tuple) or not self.thresholds:
            raise TypeError(f"thresholds must be a non-empty tuple of numbers, got "
                            f"{self.thresholds!r}")
        named = [("learning_rate", self.learning_rate), ("spike_factor", self.spike_factor)]
        named += [(f"thresholds[{i}]", t) for i, t in enumerate(self.thresholds)]
        for name, value in named:
            check_positive(name, value)
        if self.spike_factor <= 1:
            raise ValueError(f"spike_factor must be > 1, got {self.spike_factor}")


def find_spikes(losses: ArrayLike, factor: float = 3.0, window: int = 10) -> np.ndarray:
    """Return the steps t (0-based) with losses[t] > factor * median(losses[t-window:t]).

    A non-finite loss is a spike too. The first ``window`` steps have no history and are
    never spikes.

    Parameters
    ----------
    losses : array_like, shape (S,)
    factor : float
        k > 1.
    window : int
        m >= 1.
    """
    losses = check_array("losses", losses, finite=False)
    if losses.ndim != 1:
        raise ValueError(f"losses must be one-dimensional, got shape {losses.shape}")
    window = check_count("window", window)
    check_real("factor", factor, low=1.0, strict=True)
    steps = []
    for t in range(window, losses.size):
        if not np.isfinite(losses[t]) or losses[t] > factor * np.median(losses[t - window:t]):
            steps.append(t)
    return np.array(steps, dtype=int)


def count_spike_events(spike_steps: ArrayLike) -> int:
    """Return the number of spikes: runs of consecutive spike steps count once."""
    spike_steps = np.asarray(spike_steps, dtype=int)
    if spike_steps.ndim != 1:
        raise ValueError(f"spike_steps must be one-dimensional, got shape {spike_steps.shape}")
    if spike_steps.size == 0:
        return 0
    return int(1 + np.count_nonzero(np.diff(spike_steps) > 1))


@dataclass(frozen=True, eq=False)
class ClippingRun:
    """One training run: per-step loss and gradient norm.

    Attributes
    ----------
    seed : int
    threshold : float or None
        The clipping threshold, None for the run without clipping.
    losses : ndarray, shape (S,)
        Training loss of the batch at each step, before the update (float32 values).
    grad_norms : ndarray, shape (S,)
        Global gradient norm at each step, before clipping.
    spike_factor, spike_window :
        The spike definition (see :func:`find_spikes`).
    """

    seed: int
    threshold: float | None
    losses: np.ndarray
    grad_norms: np.ndarray
    spike_factor: float = 3.0
    spike_window: int = 10

    @property
    def spike_steps(self) -> np.ndarray:
        """Steps (0-based) flagged as spikes."""
        return find_spikes(self.losses, self.spike_factor, self.spike_window)

    @property
    def spike_count(self) -> int:
        """Number of spikes (consecutive spike steps count once)."""
        return count_spike_events(self.spike_steps)

    @property
    def final_loss(self) -> float:
        """Mean loss over the last :data:`FINAL_WINDOW` steps."""
        return float(np.mean(self.losses[-FINAL_WINDOW:]))

    @property
    def clipped_fraction(self) -> float:
        """Share of steps whose gradient norm reached the threshold (0 without clipping)."""
        if self.threshold is None:
            return 0.0
        return float(np.mean(self.grad_norms >= self.threshold))


@dataclass(frozen=True, eq=False)
class ClippingComparison:
    """The runs of one seed without clipping and with clipping at one threshold."""

    unclipped: ClippingRun
    clipped: ClippingRun


def describe_clipping_comparison(result: ClippingComparison) -> str:
    """Return one sentence with the measured numbers of a comparison, for alt text."""
    if not isinstance(result, ClippingComparison):
        raise TypeError(f"expected a ClippingComparison, got {type(result).__name__}")
    u, c = result.unclipped, result.clipped
    return (
        f"Seed {u.seed}, loss and gradient norm over {u.losses.size} training steps. "
        f"Without clipping: {u.spike_count} loss spikes, largest gradient norm "
        f"{float(u.grad_norms.max()):.3g}, final loss {u.final_loss:.3g}. Clipped at "
        f"{c.threshold:g}: {c.spike_count} spikes, clipping on "
        f"{100 * c.clipped_fraction:.0f}% of steps, final loss {c.final_loss:.3g}."
    )


def echo_batch(rng: np.random.Generator,
               config: ExperimentConfig) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(x, y)``: inputs (T, B, 1) of N(0, 1) noise and targets y_t = x_{t-d}, (T-d, B, 1).

    Both are float32 numpy arrays; y lines up with the outputs o_d..o_{T-1}.
    """
    x = rng.standard_normal((config.T, config.batch, 1)).astype(np.float32)
    return x, x[: config.T - config.delay]


def make_model(seed: int,
               config: ExperimentConfig) -> tuple[torch.nn.RNN, torch.nn.Linear]:
    """Return ``(rnn, readout)``: a float32 ReLU ``torch.nn.RNN`` and ``torch.nn.Linear``.

    W (``weight_hh_l0``) is :func:`rnnbook.initializers.orthogonal` with this seed; U and
    the read-out keep torch's default initialisation under ``torch.manual_seed(seed)``; the
    hidden biases start at zero.
    """
    torch.manual_seed(seed)
    rnn = torch.nn.RNN(1, config.hidden, nonlinearity="relu")
    readout = torch.nn.Linear(config.hidden, 1)
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(torch.from_numpy(orthogonal(config.hidden, seed=seed)))
        rnn.bias_ih_l0.zero_()
        rnn.bias_hh_l0.zero_()
    return rnn, readout


def train(seed: int, threshold: float | None, config: ExperimentConfig | None = None,
          ) -> ClippingRun:
    """Return the :class:`ClippingRun` of one training run, on one CPU thread.

    Parameters
    ----------
    seed : int
        Seeds the weights (torch and numpy) and the batches (``default_rng([seed, 1])``).
    threshold : float or None
        Clip the global gradient norm at this value, or None for no clipping.
    config : ExperimentConfig, optional
        Default :class:`ExperimentConfig()`.

    Notes
    -----
    A non-finite loss ends the run early (it is recorded, and counts as a spike).
    """
    config = ExperimentConfig() if config is None else config
    if not isinstance(config, ExperimentConfig):
        raise TypeError(f"config must be an ExperimentConfig, got {type(config).__name__}")
    check_count("seed", seed, 0)
    if threshold is not None:
        check_positive("threshold", threshold)
    with one_thread():
        rnn, readout = make_model(seed, config)
        params = [*rnn.parameters(), *readout.parameters()]
        optimiser = torch.optim.SGD(params, lr=config.learning_rate)
        rng = np.random.default_rng([seed, 1])

        def batch_loss() -> torch.Tensor:
            x, y = echo_batch(rng, config)
            hidden, _ = rnn(torch.from_numpy(x))
            output = readout(hidden[config.delay:])
            return torch.mean((output - torch.from_numpy(y)) ** 2)

        curves = training_loop(batch_loss, params, optimiser, config.steps, clip=threshold)
    return ClippingRun(
        seed=seed,
        threshold=None if threshold is None else float(threshold),
        losses=curves.loss[:curves.taken].astype(np.float32),
        grad_norms=curves.grad_norm[:curves.taken].astype(np.float32),
        spike_factor=config.spike_factor,
        spike_window=config.spike_window,
    )


@dataclass(frozen=True, eq=False)
class ClippingResults:
    """Stored runs of the experiment, as written by :func:`run_experiment`.

    Attributes
    ----------
    config : ExperimentConfig
    runs : tuple of ClippingRun
        For every seed, the run without clipping and one run per threshold.
    versions : dict
        Python, numpy and torch versions the runs were made with.
    command : str
        The command line that wrote the file.
    """

    config: ExperimentConfig
    runs: tuple[ClippingRun, ...]
    versions: dict
    command: str

    @property
    def seeds(self) -> list[int]:
        """The seeds, in order."""
        return sorted({run.seed for run in self.runs})

    def run(self, seed: int, threshold: float | None) -> ClippingRun:
        """Return the stored run of ``seed`` at ``threshold`` (None: without clipping)."""
        for run in self.runs:
            if run.seed == seed and run.threshold == threshold:
                return run
        raise ValueError(f"no stored run for seed {seed!r} and threshold {threshold!r}; "
                         f"seeds {self.seeds}, thresholds {self.config.thresholds} and None")

    def compare(self, seed: int, threshold: float | None = None) -> ClippingComparison:
        """Return the :class:`ClippingComparison` of one seed (default: the first threshold)."""
        threshold = self.config.thresholds[0] if threshold is None else threshold
        return ClippingComparison(unclipped=self.run(seed, None),
                                  clipped=self.run(seed, threshold))

    def summary(self) -> list[dict]:
        """Return one row per run: seed, clipping, spikes, final loss, largest gradient norm."""
        return [_summary_row(run) for run in self.runs]


def _summary_row(run: ClippingRun) -> dict:
    return {
        "seed": run.seed,
        "threshold": run.threshold,
        "spikes": run.spike_count,
        "final_loss": round(run.final_loss, 4),
        "min_loss": round(float(np.min(run.losses)), 4),
        "max_grad_norm": round(float(np.max(run.grad_norms)), 3),
        "median_grad_norm": round(float(np.median(run.grad_norms)), 3),
        "clipped_fraction": round(run.clipped_fraction, 3),
    }


def run_experiment(seeds: Sequence[int] = DEFAULT_SEEDS, config: ExperimentConfig | None = None,
                   command: str = "") -> dict:
    """Return the JSON-ready record of every seed trained without and with clipping.

    Parameters
    ----------
    seeds : sequence of int
    config : ExperimentConfig, optional
    command : str
        The command line to record.
    """
    config = ExperimentConfig() if config is None else config
    if isinstance(seeds, str) or not isinstance(seeds, Sequence):
        raise TypeError(f"seeds must be a sequence of integers, got {type(seeds).__name__}")
    seeds = [check_seed(f"seeds[{i}]", s) for i, s in enumerate(seeds)]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be a non-empty list of distinct integers, got {seeds}")
    runs = [train(seed, threshold, config) for seed in seeds
            for threshold in (None, *config.thresholds)]
    return {
        "description": "Echo task (y_t = x_{t-d}), ReLU RNN with orthogonal W, SGD; per-step "
                       "training loss and gradient norm before clipping, without and with "
                       "gradient-norm clipping. Written by rnnbook.experiments.clipping.",
        "command": command,
        "versions": software_versions(),
        "config": dataclasses.asdict(config),
        "seeds": seeds,
        "summary": [_summary_row(run) for run in runs],
        "runs": [
            {"seed": run.seed, "threshold": run.threshold,
             "losses": json_floats(run.losses, float32=True),
             "grad_norms": json_floats(run.grad_norms, float32=True)}
            for run in runs
        ],
    }


#: The record as JSON text, one line per key and per row (:meth:`StoredExperiment.dump`).
dump_record = STORE.dump
#: The data file in the (editable) source tree.
default_output = STORE.default_output


def results_from_record(record: dict) -> ClippingResults:
    """Return the :class:`ClippingResults` held in a record from :func:`run_experiment`."""
    try:
        fields = {LEGACY_KEYS.get(key, key): value for key, value in record["config"].items()}
        fields["thresholds"] = tuple(float(t) for t in fields["thresholds"])
        config = ExperimentConfig(**fields)
        runs = tuple(
            ClippingRun(
                seed=int(run["seed"]),
                threshold=None if run["threshold"] is None else float(run["threshold"]),
                losses=read_floats(run["losses"], "losses").astype(np.float32),
                grad_norms=read_floats(run["grad_norms"], "grad_norms").astype(np.float32),
                spike_factor=config.spike_factor,
                spike_window=config.spike_window,
            )
            for run in record["runs"]
        )
        return ClippingResults(config=config, runs=runs, versions=dict(record["versions"]),
                               command=str(record["command"]))
    except (KeyError, TypeError) as error:
        raise ValueError(f"not a clipping-experiment record: {error}") from None


def load_runs() -> ClippingResults:
    """Return the stored :class:`ClippingResults` from ``rnnbook/data/clipping_runs.json``."""
    return results_from_record(STORE.load())


def main(argv: Sequence[str] | None = None) -> int:
    """Regenerate the stored runs: ``python -m rnnbook.experiments.clipping [options]``."""
    parser, argv = STORE.parser(__doc__.splitlines()[0], argv)
    parser.add_argument("--seeds", type=count_arg(0, MAX_SEED), nargs="+",
                        default=list(DEFAULT_SEEDS))
    parser.add_argument("--steps", type=count_arg(), default=ExperimentConfig.steps)
    args = parser.parse_args(argv)
    output = STORE.output(parser, args)
    config = ExperimentConfig(steps=args.steps)
    record = run_experiment(args.seeds, config, command=STORE.command_line(argv))
    STORE.write(output, record)
    for row in record["summary"]:
        clip = "none" if row["threshold"] is None else f"{row['threshold']:g}"
        print(f"seed {row['seed']} clip {clip:>4}: {row['spikes']:2d} spikes, final loss "
              f"{row['final_loss']:.4f}, largest |g| {row['max_grad_norm']:.3g}")
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
