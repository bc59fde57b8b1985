"""The long-lag experiment of chapters 6 and 7: vanilla RNN, LSTM and GRU on the adding problem.

Every model (``torch.nn.RNN`` with tanh, ``torch.nn.LSTM``, ``torch.nn.GRU``, torch's default
initialisation, a linear read-out of the last state) is trained by
:func:`rnnbook.experiments.training.train`
on the adding problem (:func:`rnnbook.tasks.adding_problem`, the Le et al. 2015 variant) at
several sequence lengths T, with several seeds, the same step budget, optimiser, learning rate and
gradient-norm clipping for all. A run succeeds when its final held-out MSE is below 0.01 (the
constant predictor scores 1/6).

The grid takes minutes, so it is not rerun by the book: ``python -m rnnbook.experiments.longlag``
writes ``rnnbook/data/adding_runs.json`` (seeds, library versions, the command line, the configs,
the curves and final metrics of every run, and small reference runs), :func:`load_runs` reads it,
and the test suite reruns the reference configurations and checks they reproduce the stored
numbers.

Stored curves. The held-out MSE (``eval_loss``, every ``eval_every`` steps) is stored exactly.
The per-step training curves are stored subsampled, as statistics over consecutive blocks of
``curve_every`` steps: the mean training loss and the largest gradient norm (before and after
clipping) of each block. A loaded :class:`~rnnbook.experiments.training.TrainingRun` has per-step
arrays
again, piecewise constant: every step of a block holds its block's value. The reference runs are
stored step by step, exactly.
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnbook.checks import MAX_SEED, check_count
from rnnbook.experiments.records import (
    StoredExperiment,
    base_config,
    check_record_keys,
    count_arg,
    json_floats,
    read_floats,
    software_versions,
    table_rows,
)
from rnnbook.experiments.training import MODELS, TrainingConfig, TrainingRun, train
from rnnbook.tasks import get_task

STORE = StoredExperiment("rnnbook.experiments.longlag", "adding_runs.json", ("runs", "reference"))
#: Sequence lengths of the full grid.
DEFAULT_LENGTHS = (10, 50, 100)
#: Training seeds of the full grid (torch initial weights and training batches).
DEFAULT_SEEDS = (0, 1, 2)
#: The settings every run of the full grid shares; model, T and seed vary.
BASE_CONFIG = TrainingConfig(
    model="lstm", task="adding", T=10, hidden=32, steps=2000, batch=32, lr=0.01,
    optimizer="adam", clip=1.0, seed=0, eval_batch=1000, eval_every=100, eval_seed=0,
)
#: Block length of the stored training curves.
CURVE_EVERY = 25
#: The small runs the test suite repeats (one per model).
REFERENCE_CONFIGS = tuple(
    TrainingConfig(model=model, task="adding", T=12, hidden=8, steps=60, batch=16, lr=0.01,
                   optimizer="adam", clip=1.0, seed=3, eval_batch=200, eval_every=20,
                   eval_seed=0)
    for model in MODELS
)
#: The reduced grid of ``--quick`` (a check of the pipeline, about a minute).
QUICK_LENGTHS = (10, 20)
QUICK_SEEDS = (0, 1)
QUICK_STEPS = 200


@dataclass(frozen=True, eq=False)
class LongLagResults:
    """The stored experiment.

    Attributes
    ----------
    runs : tuple of TrainingRun
        Every run of the grid, in the order model, T, seed. Per-step curves are piecewise
        constant over blocks of ``meta["curve_every"]`` steps (see the module docstring).
    meta : dict
        ``description``, ``command``, ``versions`` (python, numpy, torch), ``models``,
        ``lengths``, ``seeds``, ``base_config``, ``curve_every``, ``workers``,
        ``wall_seconds`` (of the whole grid), ``success_mse``, ``baseline_mse`` and
        ``reference`` (the reference runs as :meth:`TrainingRun.to_dict` dicts).
    """

    runs: tuple[TrainingRun, ...]
    meta: dict


def grid_configs(
    lengths: Sequence[int] = DEFAULT_LENGTHS,
    seeds: Sequence[int] = DEFAULT_SEEDS,
    models: Sequence[str] = MODELS,
    *,
    base: TrainingConfig = BASE_CONFIG,
) -> list[TrainingConfig]:
    """Return the configs of the grid, ordered by model, then T, then seed.

    Parameters
    ----------
    lengths : sequence of int
        Sequence lengths T (each >= 2, distinct).
    seeds : sequence of int
        Training seeds (each >= 0, distinct).
    models : sequence of str
        Models among ``rnn``, ``lstm``, ``gru`` (distinct).
    base : TrainingConfig
        Shared settings; its ``model``, ``T`` and ``seed`` are replaced.
    """
    if not isinstance(base, TrainingConfig):
        raise TypeError(f"base must be a TrainingConfig, got {type(base).__name__}")
    named = {"lengths": lengths, "seeds": seeds, "models": models}
    for name, values in named.items():
        if isinstance(values, str) or not isinstance(values, Sequence) or len(values) == 0:
            raise ValueError(f"{name} must be a non-empty sequence, got {values!r}")
        if len(set(values)) != len(values):
            raise ValueError(f"{name} must be distinct, got {list(values)}")
    lengths = [check_count("T", T, 2) for T in lengths]
    seeds = [check_count("seed", s, 0) for s in seeds]
    return [base.replace(model=model, T=T, seed=seed)
            for model in models for T in lengths for seed in seeds]


def _block_stat(values: np.ndarray, every: int, reduce) -> list:
    blocks = [values[i:i + every] for i in range(0, values.size, every)]
    with np.errstate(all="ignore"):
        out = []
        for block in blocks:
            finite = block[np.isfinite(block)]
            out.append(float(reduce(finite)) if finite.size == block.size else math.nan)
    return json_floats(out, float32=True)


def run_to_record(run: TrainingRun, curve_every: int = CURVE_EVERY) -> dict:
    """Return a JSON-ready dict of ``run`` with its per-step curves in blocks of ``curve_every``.

    Keys: ``config``, ``eval_steps``, ``eval_loss`` (exact), ``curve_every``, ``loss_mean``,
    ``grad_norm_max``, ``clipped_norm_max`` (one value per block; NaN for a block with a non-finite
    step), ``final_mse``, ``success``, ``diverged``, ``elapsed``, ``torch_version``,
    ``numpy_version``.
    """
    if not isinstance(run, TrainingRun):
        raise TypeError(f"run must be a TrainingRun, got {type(run).__name__}")
    every = check_count("curve_every", curve_every, 1)
    return {
        "config": dataclasses.asdict(run.config),
        "eval_steps": [int(s) for s in run.eval_steps],
        "eval_loss": json_floats(run.eval_loss, float32=True),
        "curve_every": every,
        "loss_mean": _block_stat(run.loss, every, np.mean),
        "grad_norm_max": _block_stat(run.grad_norm, every, np.max),
        "clipped_norm_max": _block_stat(run.clipped_norm, every, np.max),
        "final_mse": json_floats([run.final_loss], float32=True)[0],
        "success": run.success,
        "diverged": run.diverged,
        "elapsed": round(float(run.elapsed), 3),
        "torch_version": run.torch_version,
        "numpy_version": run.numpy_version,
    }


RECORD_KEYS = frozenset({"config", "eval_steps", "eval_loss", "curve_every", "loss_mean",
                         "grad_norm_max", "clipped_norm_max", "final_mse", "success", "diverged",
                         "elapsed", "torch_version", "numpy_version"})


def run_from_record(record: dict) -> TrainingRun:
    """Return the :class:`TrainingRun` of a :func:`run_to_record` dict (curves piecewise constant).

    Raises ValueError if keys are missing or the curves do not match the config's steps.
    """
    check_record_keys(record, RECORD_KEYS, "run record")
    config = TrainingConfig(**record["config"])
    every = check_count("curve_every", record["curve_every"], 1)
    blocks = math.ceil(config.steps / every)
    curves = {}
    for key, name in (("loss_mean", "loss"), ("grad_norm_max", "grad_norm"),
                      ("clipped_norm_max", "clipped_norm")):
        values = read_floats(record[key], key)
        if values.shape != (blocks,):
            raise ValueError(f"{key} has {values.size} blocks; steps = {config.steps} in blocks "
                             f"of {every} needs {blocks}")
        curves[name] = np.repeat(values, every)[:config.steps]
    eval_steps = np.array(record["eval_steps"], dtype=np.int64)
    eval_loss = read_floats(record["eval_loss"], "eval_loss")
    if eval_loss.shape != eval_steps.shape:
        raise ValueError(f"eval_loss has shape {eval_loss.shape} but eval_steps "
                         f"{eval_steps.shape}")
    return TrainingRun(config=config, eval_steps=eval_steps, eval_loss=eval_loss,
                       elapsed=float(record["elapsed"]),
                       torch_version=str(record["torch_version"]),
                       numpy_version=str(record["numpy_version"]), **curves)


def _cost(config: TrainingConfig) -> float:
    # Rough relative cost, to start the longest runs first (the unfused tanh RNN is the slowest).
    return config.T * config.steps * {"rnn": 3.0, "lstm": 1.0, "gru": 2.2}[config.model]


def _pool(workers: int):
    # Spawned, not forked: forking a process that has started torch's threads can deadlock.
    return multiprocessing.get_context("spawn").Pool(workers)


def run_configs(configs: Sequence[TrainingConfig], workers: int = 1) -> list[TrainingRun]:
    """Return the :class:`TrainingRun` of every config, in order, trained in ``workers`` processes.

    Each run uses one torch thread (:func:`rnnbook.experiments.training.train`); with
    ``workers`` > 1 the runs
    are spread over that many spawned processes, longest first. The results do not depend on
    ``workers``.
    """
    configs = list(configs)
    if not configs or not all(isinstance(c, TrainingConfig) for c in configs):
        raise TypeError("configs must be a non-empty sequence of TrainingConfig")
    workers = check_count("workers", workers, 1)
    if workers == 1:
        return [train(config) for config in configs]
    order = sorted(range(len(configs)), key=lambda i: -_cost(configs[i]))
    with _pool(workers) as pool:
        done = pool.map(train, [configs[i] for i in order], chunksize=1)
    runs: list[TrainingRun | None] = [None] * len(configs)
    for i, run in zip(order, done, strict=True):
        runs[i] = run
    return runs  # type: ignore[return-value]


def run_experiment(
    configs: Sequence[TrainingConfig],
    *,
    workers: int = 1,
    curve_every: int = CURVE_EVERY,
    command: str = "",
    reference: Sequence[TrainingConfig] = REFERENCE_CONFIGS,
) -> dict:
    """Return the JSON-ready record of training every config (and the reference configs).

    Parameters
    ----------
    configs : sequence of TrainingConfig
        The grid (see :func:`grid_configs`).
    workers : int
        Processes to train in.
    curve_every : int
        Block length of the stored training curves.
    command : str
        The command line to record.
    reference : sequence of TrainingConfig
        Small runs stored step by step, for the reproduction test.
    """
    configs = list(configs)
    every = check_count("curve_every", curve_every, 1)
    started = time.perf_counter()
    runs = run_configs(configs, workers)
    wall = time.perf_counter() - started
    reference_runs = run_configs(list(reference), 1)
    models = list(dict.fromkeys(c.model for c in configs))
    base = base_config(configs)
    return {
        "description": "Adding problem (Le et al. 2015 variant; success: held-out MSE < 0.01, "
                       "constant predictor 1/6). Vanilla tanh RNN, LSTM and GRU, torch default "
                       "initialisation, float32, one torch thread per run. Written by "
                       "rnnbook.experiments.longlag.",
        "command": command,
        "versions": software_versions(),
        "models": models,
        "lengths": sorted({c.T for c in configs}),
        "seeds": sorted({c.seed for c in configs}),
        "base_config": base,
        "curve_every": every,
        "workers": workers,
        "wall_seconds": round(wall, 1),
        "success_mse": 0.01,
        "baseline_mse": 1.0 / 6.0,
        "runs": [run_to_record(run, every) for run in runs],
        "reference": [run.to_dict() for run in reference_runs],
    }


META_KEYS = frozenset({"description", "command", "versions", "models", "lengths", "seeds",
                       "base_config", "curve_every", "workers", "wall_seconds", "success_mse",
                       "baseline_mse", "reference"})


def results_from_record(record: dict) -> LongLagResults:
    """Return the :class:`LongLagResults` held in a :func:`run_experiment` record."""
    check_record_keys(record, META_KEYS | {"runs"}, "long-lag record")
    runs = tuple(run_from_record(r) for r in record["runs"])
    meta = {key: record[key] for key in sorted(META_KEYS)}
    for run in meta["reference"]:
        TrainingRun.from_dict(run)  # validate now rather than in the test
    return LongLagResults(runs=runs, meta=meta)


def load_runs() -> LongLagResults:
    """Return the stored :class:`LongLagResults` from ``rnnbook/data/adding_runs.json``."""
    return results_from_record(STORE.load())


def reference_runs(results: LongLagResults) -> tuple[TrainingRun, ...]:
    """Return the stored reference runs (full per-step curves), one per model."""
    if not isinstance(results, LongLagResults):
        raise TypeError(f"results must be LongLagResults, got {type(results).__name__}")
    return tuple(TrainingRun.from_dict(r) for r in results.meta["reference"])


def runs_at(results: LongLagResults, model: str, T: int) -> tuple[TrainingRun, ...]:
    """Return the runs of ``model`` at length ``T``, ordered by seed (empty if none)."""
    if not isinstance(results, LongLagResults):
        raise TypeError(f"results must be LongLagResults, got {type(results).__name__}")
    chosen = [r for r in results.runs if r.config.model == model and r.config.T == T]
    return tuple(sorted(chosen, key=lambda r: r.config.seed))


def first_success_step(run: TrainingRun) -> int | None:
    """Return the first evaluation step whose held-out MSE is below the success threshold.

    None if the run never got there. The resolution is the run's ``eval_every``.
    """
    if not isinstance(run, TrainingRun):
        raise TypeError(f"run must be a TrainingRun, got {type(run).__name__}")
    below = np.isfinite(run.eval_loss) & (run.eval_loss < get_task(run.config.task).success_mse)
    return int(run.eval_steps[np.argmax(below)]) if below.any() else None


def results_table(results: LongLagResults) -> list[dict]:
    """Return one row per (model, T), ordered by T then model (rnn, lstm, gru).

    Keys: ``model``, ``T``, ``runs``, ``successes``, ``success_rate`` (successes / runs),
    ``median_final_mse`` (median over seeds of the final held-out MSE; NaN counts as +inf),
    ``median_seconds`` (median wall-clock seconds of a run).
    """
    if not isinstance(results, LongLagResults):
        raise TypeError(f"results must be LongLagResults, got {type(results).__name__}")
    lengths = sorted({r.config.T for r in results.runs})
    models = [m for m in MODELS if any(r.config.model == m for r in results.runs)]
    rows = []
    for T in lengths:
        for model in models:
            runs = runs_at(results, model, T)
            if not runs:
                continue
            finals = np.array([r.final_loss if np.isfinite(r.final_loss) else np.inf
                               for r in runs])
            successes = sum(r.success for r in runs)
            rows.append({
                "model": model,
                "T": T,
                "runs": len(runs),
                "successes": successes,
                "success_rate": successes / len(runs),
                "median_final_mse": float(np.median(finals)),
                "median_seconds": float(np.median([r.elapsed for r in runs])),
            })
    return rows


TABLE_COLUMNS = ("model", "T", "runs", "successes", "success_rate", "median_final_mse",
                 "median_seconds")
_NAMES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def format_table(rows: Sequence[dict]) -> str:
    """Return the rows of :func:`results_table` as a fixed-width text table.

    Rounding is fixed: success rate to 2 decimals, MSE to 3 significant digits (e-notation),
    the median seconds per run to whole seconds. The table is 67 characters wide.
    """
    rows = table_rows(rows)
    header = (f"{'model':<6}{'T':>5}{'runs':>6}{'successes':>11}{'success rate':>14}"
              f"{'median final MSE':>18}{'s/run':>7}")
    lines = [header, "-" * len(header)]
    for row in rows:
        if not isinstance(row, dict) or set(row) != set(TABLE_COLUMNS):
            raise ValueError(f"each row must be a dict with keys {TABLE_COLUMNS}, got {row!r}")
        lines.append(
            f"{_NAMES.get(row['model'], row['model']):<6}{row['T']:>5d}{row['runs']:>6d}"
            f"{row['successes']:>11d}{row['success_rate']:>14.2f}"
            f"{row['median_final_mse']:>18.2e}{row['median_seconds']:>7.0f}"
        )
    return "\n".join(lines)


#: The record as JSON text, one line per key and per row (:meth:`StoredExperiment.dump`).
dump_record = STORE.dump
#: The data file in the (editable) source tree.
default_output = STORE.default_output


def main(argv: Sequence[str] | None = None) -> int:
    """Regenerate the stored runs: ``python -m rnnbook.experiments.longlag [--quick] [options]``.

    ``--quick`` trains a reduced grid (T in 10, 20; seeds 0, 1; 200 steps) to check the pipeline
    and, unless ``--output`` is given, writes ``adding_runs_quick.json`` in the current directory,
    never the book's data file.
    """
    parser, argv = STORE.parser(__doc__.splitlines()[0], argv)
    parser.set_defaults(output=None)
    parser.add_argument("--quick", action="store_true", help="a reduced grid, for checking")
    parser.add_argument("--lengths", type=count_arg(), nargs="+", default=None)
    parser.add_argument("--seeds", type=count_arg(0, MAX_SEED), nargs="+",
                        default=None)
    parser.add_argument("--steps", type=count_arg(), default=None)
    parser.add_argument("--workers", type=count_arg(), default=2)
    args = parser.parse_args(argv)
    lengths = args.lengths if args.lengths is not None else (
        QUICK_LENGTHS if args.quick else DEFAULT_LENGTHS)
    seeds = args.seeds if args.seeds is not None else (QUICK_SEEDS if args.quick else DEFAULT_SEEDS)
    steps = args.steps if args.steps is not None else (
        QUICK_STEPS if args.quick else BASE_CONFIG.steps)
    output = STORE.output(parser, args,
                          Path("adding_runs_quick.json") if args.quick else default_output())
    configs = grid_configs(lengths, seeds, base=BASE_CONFIG.replace(steps=steps))
    record = run_experiment(configs, workers=args.workers, command=STORE.command_line(argv))
    STORE.write(output, record)
    print(format_table(results_table(results_from_record(record))))
    print(f"grid wall time {record['wall_seconds']:.0f} s with {args.workers} worker(s); "
          f"wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
