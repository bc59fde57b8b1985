"""Copying an input from d steps back: where its gradient signal sits, and whether an RNN learns it.

The task is :func:`rnnbook.tasks.copy_lag`: standard normal inputs x_1..x_T, target
y = x_{T-d} (d = the *lag*), read from the last hidden state; the best constant scores MSE 1.
The target depends on one input only, so everything the network must learn about it enters
the gradient through the terms at distance >= d from the loss (chapter 3).

Two measurements:

- :func:`lag_gradient_shares`, at initialisation (fast, computed in the book): for each lag,
  the share of dL/dU's term norms that comes from distances >= d, and from the one term that
  multiplies x_{T-d} (the input weights U are where x_{T-d} enters the network; dL/dW's term
  at distance d multiplies h_{T-d-1}, the state before that input arrived).
- :func:`run_experiment`, training (minutes): a tanh ``torch.nn.RNN`` trained with Adam by
  :func:`rnnbook.experiments.training.train` on a grid of lags and seeds, with a fixed step budget.

The training runs do not run on every build. ``python -m rnnbook.experiments.lag`` writes them
to ``rnnbook/data/lag_runs.json`` with the seeds, the library versions, the command line,
per-run curves (training curves averaged over windows of ``curve_every`` steps; the held-out
MSE at every evaluation) and a *reference* run: one reduced configuration stored in full,
which the test suite re-runs to check that the file reproduces. :func:`load_runs` reads the
file.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from rnnbook.checks import MAX_SEED, check_array, check_count, check_real
from rnnbook.decomposition import distance_decomposition, far_share
from rnnbook.experiments.records import (
    StoredExperiment,
    count_arg,
    json_floats,
    read_floats,
    software_versions,
)
from rnnbook.experiments.training import TrainingConfig, TrainingRun, make_model, train
from rnnbook.rnn import RNNParams, from_torch
from rnnbook.tasks import copy_lag, get_task

STORE = StoredExperiment("rnnbook.experiments.lag", "lag_runs.json", ("runs", "summary"))
DEFAULT_LAGS = (2, 5, 10, 20, 40)
DEFAULT_SEEDS = (0, 1, 2)
#: The reduced configuration stored in full and re-run by the tests: lag, seed and steps.
REFERENCE = {"lag": 2, "seed": 0, "steps": 100}
#: A run has *learned something* when its final MSE is below this fraction of the baseline.
LEARNED_FRACTION = 0.5
RUN_KEYS = ("lag", "seed", "final_loss", "success", "elapsed", "eval_steps", "eval_loss",
            "curve_steps", "train_loss", "grad_norm")
RECORD_KEYS = ("description", "command", "versions", "elapsed_total", "cpu_total", "config",
               "lags", "seeds", "success_mse", "baseline_mse", "summary", "reference", "runs")


@dataclass(frozen=True)
class LagExperimentConfig:
    """The model, optimiser and budget shared by every run of the lag experiment.

    Attributes
    ----------
    T : int
        Sequence length; every lag must be at most T - 1.
    hidden : int
        Hidden size n of the tanh RNN.
    steps : int
        Adam steps per run (one fresh batch each).
    batch : int
        Training sequences per step.
    lr : float
        Adam learning rate.
    eval_every : int
        Steps between evaluations on the held-out batch.
    eval_batch : int
        Size of the held-out batch (the same for every run).
    curve_every : int
        Window (in steps) over which the stored training loss and gradient norm are averaged;
        must divide ``steps`` and the reference run's steps.
    """

    T: int = 50
    hidden: int = 32
    steps: int = 1200
    batch: int = 32
    lr: float = 0.005
    eval_every: int = 50
    eval_batch: int = 500
    curve_every: int = 25

    def __post_init__(self) -> None:
        for name in ("T", "hidden", "steps", "batch", "eval_every", "eval_batch",
                     "curve_every"):
            check_count(name, getattr(self, name), 2 if name == "T" else 1)
        if check_real("lr", self.lr) <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        for name, steps in (("steps", self.steps), ("the reference run's steps",
                                                    REFERENCE["steps"])):
            if steps % self.curve_every:
                raise ValueError(f"curve_every = {self.curve_every} must divide {name} "
                                 f"= {steps}")

    def training_config(self, lag: int, seed: int) -> TrainingConfig:
        """Return the :class:`~rnnbook.experiments.training.TrainingConfig` of one run.

        The run of the grid at ``lag`` and ``seed``.
        """
        return TrainingConfig(model="rnn", task="copy_lag", T=self.T, hidden=self.hidden,
                              steps=self.steps, batch=self.batch, lr=self.lr, optimizer="adam",
                              clip=None, seed=seed, eval_batch=self.eval_batch,
                              eval_every=self.eval_every, eval_seed=0, lag=lag)

    def reference_config(self) -> TrainingConfig:
        """Return the reduced configuration stored in full: :data:`REFERENCE`'s lag, seed, steps.

        Apart from the number of steps and a smaller, more frequent evaluation, it is the grid's
        run at the same lag and seed, so its first steps are that run's first steps.
        """
        return self.training_config(REFERENCE["lag"], REFERENCE["seed"]).replace(
            steps=REFERENCE["steps"], eval_every=25, eval_batch=200)


def _check_lags(lags, T: int) -> list[int]:
    if isinstance(lags, str | bytes) or not isinstance(lags, Sequence | np.ndarray):
        raise TypeError(f"lags must be a list of integers, got {type(lags).__name__}")
    checked = [check_count("lag", lag, 1) for lag in lags]
    if not checked or len(set(checked)) != len(checked):
        raise ValueError(f"lags must be a non-empty list of distinct integers, got {checked}")
    if max(checked) > T - 1:
        raise ValueError(f"every lag must be at most T - 1 = {T - 1}, got {max(checked)}")
    return checked


def initial_params(config: LagExperimentConfig, seed: int) -> RNNParams:
    """Return the float64 :class:`RNNParams` of the network a training run starts from.

    The same initial weights as :func:`rnnbook.experiments.training.train` with this seed
    (torch's default
    initialisation under ``torch.manual_seed(seed)``, the global generator left as it was).
    """
    if not isinstance(config, LagExperimentConfig):
        raise TypeError(f"config must be a LagExperimentConfig, got {type(config).__name__}")
    seed = check_count("seed", seed, 0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = make_model("rnn", 1, config.hidden)
    return from_torch(model.recurrent, model.readout)


@dataclass(frozen=True, eq=False)
class LagSignal:
    """Where the gradient of the copy-at-lag-d loss sits, at initialisation, for several lags.

    Attributes
    ----------
    lags : ndarray of int, shape (L,)
    far_share : ndarray, shape (L,)
        Share of dL/dU's term norms from distances >= d: the terms of the inputs
        x_1..x_{T-d}, sum_{d' >= d} ||G_{d'}|| / sum_{d'} ||G_{d'}||, G_{d'} = delta_k x_k^T
        at k = T - d' (summed over the batch).
    input_share : ndarray, shape (L,)
        ||G_d|| / sum_{d'} ||G_{d'}||: the one term that multiplies the input x_{T-d} the
        target copies.
    total_norm : ndarray, shape (L,)
        ||dL/dU||_F of the batch loss (the norm of the sum of the terms).
    T, batch, seed : int
    """

    lags: np.ndarray
    far_share: np.ndarray
    input_share: np.ndarray
    total_norm: np.ndarray
    T: int
    batch: int
    seed: int


def lag_gradient_shares(
    lags: Sequence[int] = DEFAULT_LAGS,
    config: LagExperimentConfig | None = None,
    *,
    seed: int = 0,
    batch: int = 64,
) -> LagSignal:
    """Return the :class:`LagSignal` of the initial network of the run with this seed.

    For each lag d a batch of :func:`rnnbook.tasks.copy_lag` (``default_rng([seed, 2])``) is fed
    to :func:`initial_params`; the squared error of the last step, summed over the batch, is
    split by distance with :func:`rnnbook.decomposition.distance_decomposition`.

    Parameters
    ----------
    lags : sequence of int
        Lags d, each in 1..T-1.
    config : LagExperimentConfig, optional
        Supplies T and the hidden size (default :class:`LagExperimentConfig()`).
    seed : int
        Seeds the initial weights and the batches.
    batch : int
        Sequences per batch.
    """
    config = LagExperimentConfig() if config is None else config
    params = initial_params(config, seed)
    lags = _check_lags(lags, config.T)
    batch = check_count("batch", batch, 1)
    far, inputs, totals = [], [], []
    for lag in lags:
        data = copy_lag(config.T, batch, lag, np.random.default_rng([seed, 2]))
        parts = distance_decomposition(params, data.x, data.y[:, None], "mse_last",
                                       keep_terms=False)
        far.append(far_share(parts.U_norms)[lag - 1])
        inputs.append(parts.U_norms[lag] / parts.U_norms.sum())
        totals.append(np.linalg.norm(parts.grads["U"]))
    return LagSignal(lags=np.array(lags), far_share=np.array(far),
                     input_share=np.array(inputs), total_norm=np.array(totals),
                     T=config.T, batch=batch, seed=int(seed))


def window_means(values, window: int) -> np.ndarray:
    """Return the means of consecutive windows of ``window`` values, shape (len // window,).

    Parameters
    ----------
    values : array_like, shape (S,)
        S must be a multiple of ``window``.
    window : int
    """
    array = check_array("values", values, finite=False)
    window = check_count("window", window, 1)
    if array.ndim != 1 or array.size % window:
        raise ValueError(f"values must have shape (S,) with S a multiple of {window}, got "
                         f"{array.shape}")
    return array.reshape(-1, window).mean(axis=1)


@dataclass(frozen=True, eq=False)
class LagRun:
    """One stored training run of the grid.

    Attributes
    ----------
    lag, seed : int
    final_loss : float
        Held-out MSE at the end of training.
    success : bool
        ``final_loss`` below the task's success threshold.
    elapsed : float
        Wall-clock seconds of the run.
    eval_steps, eval_loss : ndarray, shape (E,)
        Held-out MSE at every evaluation.
    curve_steps : ndarray of int, shape (C,)
        Last step of each averaging window.
    train_loss, grad_norm : ndarray, shape (C,)
        Training MSE and global gradient norm, averaged over each window.
    """

    lag: int
    seed: int
    final_loss: float
    success: bool
    elapsed: float
    eval_steps: np.ndarray
    eval_loss: np.ndarray
    curve_steps: np.ndarray
    train_loss: np.ndarray
    grad_norm: np.ndarray

    @classmethod
    def from_training(cls, run: TrainingRun, curve_every: int) -> LagRun:
        """Return the stored form of a :class:`~rnnbook.experiments.training.TrainingRun`."""
        if not isinstance(run, TrainingRun):
            raise TypeError(f"run must be a TrainingRun, got {type(run).__name__}")
        steps = run.loss.size
        return cls(lag=int(run.config.lag), seed=int(run.config.seed),
                   final_loss=run.final_loss, success=run.success, elapsed=run.elapsed,
                   eval_steps=run.eval_steps.copy(), eval_loss=run.eval_loss.copy(),
                   curve_steps=np.arange(curve_every, steps + 1, curve_every),
                   train_loss=window_means(run.loss, curve_every),
                   grad_norm=window_means(run.grad_norm, curve_every))

    def to_dict(self) -> dict:
        """Return a JSON-ready dict (keys :data:`RUN_KEYS`)."""
        return {"lag": self.lag, "seed": self.seed,
                "final_loss": json_floats([self.final_loss])[0], "success": self.success,
                "elapsed": round(self.elapsed, 2),
                "eval_steps": [int(s) for s in self.eval_steps],
                "eval_loss": json_floats(self.eval_loss),
                "curve_steps": [int(s) for s in self.curve_steps],
                "train_loss": json_floats(self.train_loss),
                "grad_norm": json_floats(self.grad_norm)}

    @classmethod
    def from_dict(cls, data: dict) -> LagRun:
        """Return the run that :meth:`to_dict` wrote; raise ``ValueError`` on a bad schema."""
        if not isinstance(data, dict) or set(data) != set(RUN_KEYS):
            got = sorted(data) if isinstance(data, dict) else type(data).__name__
            raise ValueError(f"a stored run needs keys {sorted(RUN_KEYS)}, got {got}")
        run = cls(lag=check_count("lag", data["lag"], 0), seed=check_count("seed", data["seed"], 0),
                  final_loss=float(read_floats([data["final_loss"]], "final_loss")[0]),
                  success=data["success"], elapsed=float(data["elapsed"]),
                  eval_steps=np.array(data["eval_steps"], dtype=np.int64),
                  eval_loss=read_floats(data["eval_loss"], "eval_loss"),
                  curve_steps=np.array(data["curve_steps"], dtype=np.int64),
                  train_loss=read_floats(data["train_loss"], "train_loss"),
                  grad_norm=read_floats(data["grad_norm"], "grad_norm"))
        if not isinstance(run.success, bool):
            raise ValueError(f"success must be true or false, got {run.success!r}")
        if run.eval_loss.shape != run.eval_steps.shape or run.eval_steps.size == 0:
            raise ValueError(f"eval_loss {run.eval_loss.shape} and eval_steps "
                             f"{run.eval_steps.shape} must have the same non-zero length")
        if not run.train_loss.shape == run.grad_norm.shape == run.curve_steps.shape:
            raise ValueError(f"train_loss {run.train_loss.shape}, grad_norm "
                             f"{run.grad_norm.shape} and curve_steps {run.curve_steps.shape} "
                             f"must have the same length")
        if not (run.final_loss == run.eval_loss[-1]
                or (np.isnan(run.final_loss) and np.isnan(run.eval_loss[-1]))):
            raise ValueError("final_loss must be the last held-out MSE")
        return run


@dataclass(frozen=True, eq=False)
class LagSummary:
    """Results of the runs at one lag.

    Attributes
    ----------
    lag : int
    runs : int
    successes : int
        Runs whose final held-out MSE is below the success threshold.
    learned : int
        Runs whose final held-out MSE is below :data:`LEARNED_FRACTION` times the baseline.
    median_final, best_final, worst_final : float
        Median, lowest and highest final held-out MSE.
    """

    lag: int
    runs: int
    successes: int
    learned: int
    median_final: float
    best_final: float
    worst_final: float


@dataclass(frozen=True, eq=False)
class LagResults:
    """The stored lag experiment, as written by :func:`run_experiment`.

    Attributes
    ----------
    config : LagExperimentConfig
    runs : tuple of LagRun
        One run per lag and seed.
    reference : TrainingRun
        The reduced configuration (:meth:`LagExperimentConfig.reference_config`), in full.
    success_mse, baseline_mse : float
        The task's success threshold and the MSE of the best constant prediction.
    versions : dict
        Python, numpy and torch versions.
    command : str
        The command line that wrote the file.
    elapsed_total : float
        Wall-clock seconds of the whole grid (with the reference run).
    cpu_total : float
        CPU seconds of the process for the same work (less sensitive to a busy machine).
    """

    config: LagExperimentConfig
    runs: tuple[LagRun, ...]
    reference: TrainingRun
    success_mse: float
    baseline_mse: float
    versions: dict
    command: str
    elapsed_total: float
    cpu_total: float

    @property
    def lags(self) -> list[int]:
        """The lags, in increasing order."""
        return sorted({run.lag for run in self.runs})

    @property
    def seeds(self) -> list[int]:
        """The seeds, in increasing order."""
        return sorted({run.seed for run in self.runs})

    def runs_at(self, lag: int) -> list[LagRun]:
        """Return the runs at ``lag``, by seed."""
        found = sorted((run for run in self.runs if run.lag == lag), key=lambda run: run.seed)
        if not found:
            raise ValueError(f"no stored run at lag {lag!r}; lags {self.lags}")
        return found

    def summary(self) -> list[LagSummary]:
        """Return one :class:`LagSummary` per lag, in increasing order of lag."""
        rows = []
        for lag in self.lags:
            finals = np.array([run.final_loss for run in self.runs_at(lag)])
            rows.append(LagSummary(lag=lag, runs=finals.size,
                                   successes=sum(run.success for run in self.runs_at(lag)),
                                   learned=int(np.sum(finals < LEARNED_FRACTION
                                                      * self.baseline_mse)),
                                   median_final=float(np.median(finals)),
                                   best_final=float(np.min(finals)),
                                   worst_final=float(np.max(finals))))
        return rows

    def setup_text(self) -> str:
        """Return four short lines describing the stored experiment: model, runs, versions, task."""
        c = self.config
        return "\n".join([
            f"T = {c.T}, tanh RNN with {c.hidden} units, {c.steps} Adam steps of batch {c.batch}, "
            f"lr {c.lr:g}",
            f"seeds {self.seeds}, {len(self.runs)} runs, {self.cpu_total:.0f} s of CPU in all",
            f"numpy {self.versions['numpy']}, torch {self.versions['torch']}",
            f"baseline MSE {self.baseline_mse:g} (predict 0); success below {self.success_mse:g}; "
            f"learned below {LEARNED_FRACTION * self.baseline_mse:g}",
        ])

    def summary_table(self) -> str:
        """Return :meth:`summary` as a text table, one line per lag (3 significant digits)."""
        lines = ["lag  runs  successes  learned  median final MSE  best     worst"]
        for row in self.summary():
            lines.append(f"{row.lag:>3}  {row.runs:>4}  {row.successes:>9}  {row.learned:>7}  "
                         f"{row.median_final:>16.3g}  {row.best_final:<7.3g}  "
                         f"{row.worst_final:.3g}")
        return "\n".join(lines)

    def failing_lag(self) -> int | None:
        """Return the smallest lag at which no run succeeds, or None if every lag has one."""
        for row in self.summary():
            if row.successes == 0:
                return row.lag
        return None

    def nothing_learned_lag(self) -> int | None:
        """Return the smallest lag at which no run learns anything (see :class:`LagSummary`)."""
        for row in self.summary():
            if row.learned == 0:
                return row.lag
        return None


def _summary_row(row: LagSummary) -> dict:
    return {"lag": row.lag, "runs": row.runs, "successes": row.successes, "learned": row.learned,
            "median_final": round(row.median_final, 5), "best_final": round(row.best_final, 5),
            "worst_final": round(row.worst_final, 5)}


def run_experiment(
    lags: Sequence[int] = DEFAULT_LAGS,
    seeds: Sequence[int] = DEFAULT_SEEDS,
    config: LagExperimentConfig | None = None,
    *,
    command: str = "",
    progress=None,
) -> dict:
    """Return the JSON-ready record of the grid of runs and of the reference run.

    Parameters
    ----------
    lags, seeds : sequence of int
    config : LagExperimentConfig, optional
    command : str
        The command line to record.
    progress : callable, optional
        Called with each finished :class:`LagRun`.
    """
    config = LagExperimentConfig() if config is None else config
    if not isinstance(config, LagExperimentConfig):
        raise TypeError(f"config must be a LagExperimentConfig, got {type(config).__name__}")
    lags = _check_lags(lags, config.T)
    seeds = [check_count("seed", seed, 0) for seed in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be a non-empty list of distinct integers, got {seeds}")
    started, cpu_started = time.perf_counter(), time.process_time()
    reference = train(config.reference_config())
    runs = []
    for lag in lags:
        for seed in seeds:
            runs.append(LagRun.from_training(train(config.training_config(lag, seed)),
                                             config.curve_every))
            if progress is not None:
                progress(runs[-1])
    spec = get_task("copy_lag")
    results = LagResults(config=config, runs=tuple(runs), reference=reference,
                         success_mse=spec.success_mse, baseline_mse=spec.baseline_mse,
                         versions=software_versions(), command=command,
                         elapsed_total=time.perf_counter() - started,
                         cpu_total=time.process_time() - cpu_started)
    return {
        "description": "Copy at lag d (y = x_{T-d}), tanh torch.nn.RNN and a linear read-out of "
                       "the last state, Adam, float32, one CPU thread; held-out MSE and "
                       "window-averaged training curves for every lag and seed, and one "
                       "reduced reference run in full. Written by rnnbook.experiments.lag.",
        "command": command,
        "versions": results.versions,
        "elapsed_total": round(results.elapsed_total, 1),
        "cpu_total": round(results.cpu_total, 1),
        "config": dataclasses.asdict(config),
        "lags": lags,
        "seeds": seeds,
        "success_mse": spec.success_mse,
        "baseline_mse": spec.baseline_mse,
        "summary": [_summary_row(row) for row in results.summary()],
        "reference": reference.to_dict(),
        "runs": [run.to_dict() for run in runs],
    }


#: The record as JSON text, one line per key and per row (:meth:`StoredExperiment.dump`).
dump_record = STORE.dump
#: The data file in the (editable) source tree.
default_output = STORE.default_output


def results_from_record(record: dict) -> LagResults:
    """Return the :class:`LagResults` held in a record; raise ``ValueError`` on a bad schema.

    Checks the keys, that the runs cover every lag and seed once with the configuration's
    step budget, and that the reference run has the configuration's reference settings.
    """
    if not isinstance(record, dict) or set(record) != set(RECORD_KEYS):
        got = sorted(record) if isinstance(record, dict) else type(record).__name__
        raise ValueError(f"a lag-experiment record needs keys {sorted(RECORD_KEYS)}, got {got}")
    try:
        config = LagExperimentConfig(**record["config"])
    except TypeError as error:
        raise ValueError(f"bad config in the record: {error}") from None
    runs = tuple(LagRun.from_dict(run) for run in record["runs"])
    grid = sorted((lag, seed) for lag in record["lags"] for seed in record["seeds"])
    if sorted((run.lag, run.seed) for run in runs) != grid:
        raise ValueError(f"the runs must cover every lag {record['lags']} and seed "
                         f"{record['seeds']} exactly once")
    for run in runs:
        if run.eval_steps[-1] != config.steps or run.curve_steps.size != (
                config.steps // config.curve_every):
            raise ValueError(f"run (lag {run.lag}, seed {run.seed}) does not have "
                             f"steps = {config.steps} with curve_every = {config.curve_every}")
    reference = TrainingRun.from_dict(record["reference"])
    if reference.config != config.reference_config():
        raise ValueError(f"the reference run's config {reference.config} is not the "
                         f"configuration's reference {config.reference_config()}")
    versions = record["versions"]
    if not isinstance(versions, dict) or not {"numpy", "torch", "python"} <= set(versions):
        raise ValueError("versions must record python, numpy and torch")
    return LagResults(config=config, runs=runs, reference=reference,
                      success_mse=float(record["success_mse"]),
                      baseline_mse=float(record["baseline_mse"]), versions=dict(versions),
                      command=str(record["command"]),
                      elapsed_total=float(record["elapsed_total"]),
                      cpu_total=float(record["cpu_total"]))


def load_runs() -> LagResults:
    """Return the stored :class:`LagResults` from ``rnnbook/data/lag_runs.json``."""
    return results_from_record(STORE.load())


def main(argv: Sequence[str] | None = None) -> int:
    """Regenerate the stored runs: ``python -m rnnbook.experiments.lag [options]``."""
    parser, argv = STORE.parser(__doc__.splitlines()[0], argv)
    parser.add_argument("--lags", type=count_arg(0), nargs="+", default=list(DEFAULT_LAGS))
    parser.add_argument("--seeds", type=count_arg(0, MAX_SEED), nargs="+",
                        default=list(DEFAULT_SEEDS))
    parser.add_argument("--steps", type=count_arg(), default=LagExperimentConfig.steps)
    args = parser.parse_args(argv)
    output = STORE.output(parser, args)
    config = LagExperimentConfig(steps=args.steps)

    def report(run: LagRun) -> None:
        print(f"lag {run.lag:3d} seed {run.seed}: final held-out MSE {run.final_loss:.4f} "
              f"({'success' if run.success else 'failure'}, {run.elapsed:.0f} s)", flush=True)

    record = run_experiment(args.lags, args.seeds, config, command=STORE.command_line(argv),
                            progress=report)
    STORE.write(output, record)
    print(f"wrote {output} ({record['elapsed_total']:.0f} s wall, "
          f"{record['cpu_total']:.0f} s CPU)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
