"""Chapter 8's experiment: six sequence models on the adding problem at T = 100 and 200.

Models (float32, one torch thread, hidden width ``hidden`` for all):

- ``rnn``, ``lstm``, ``gru``: one ``torch.nn`` recurrent layer on the raw inputs, torch's default
  initialisation, a linear read-out of the last state (as in :mod:`rnnbook.longlag`);
- ``lru``: a per-step encoder (linear + ReLU), one LRU layer (Orvieto et al. 2023: n complex
  eigenvalues lambda = exp(-exp(nu) + i exp(theta)) on the ring [r_min, r_max], input
  normalisation gamma, trainable), computed by a parallel scan, and a linear read-out of
  (Re h_T, Im h_T);
- ``mingru``: the same encoder, one minGRU layer (Feng et al. 2024) computed by a parallel scan,
  a linear read-out of h_T;
- ``attention``: the same encoder, one causal single-head self-attention layer
  (``scaled_dot_product_attention``), a linear read-out of the last position's output. It has no
  position information: the adding problem's target, a sum, does not depend on order.

Every run draws fresh batches, minimises the MSE with Adam, clips the gradient norm, and
evaluates a fixed held-out batch every ``eval_every`` steps. A run stops at the first evaluation
whose held-out MSE is below 0.01 (a success; that step is its "steps to success") or after
``steps`` steps (a failure). Wall-clock and CPU seconds per training step are recorded; they
are specific to the machine.

``python -m rnnbook.experiments.after_gates`` writes ``rnnbook/data/after_gates_runs.json``
(about 7 minutes of one core, 8 minutes wall clock, on the 2-core development machine);
:func:`load_runs` reads it; the test suite re-runs the stored reference configurations (tiny,
a few seconds) and checks that they reproduce.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rnnbook.checks import check_choice, check_count, check_real
from rnnbook.experiments.records import (
    StoredExperiment,
    base_config,
    check_record_keys,
    json_floats,
    software_versions,
    table_rows,
)
from rnnbook.experiments.training import one_thread
from rnnbook.tasks import adding_problem

STORE = StoredExperiment("rnnbook.experiments.after_gates", "after_gates_runs.json",
                         ("runs", "reference"))
MODELS = ("rnn", "lstm", "gru", "lru", "mingru", "attention")
NAMES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU", "lru": "LRU", "mingru": "minGRU",
         "attention": "attention"}
SUCCESS_MSE = 0.01
DEFAULT_LENGTHS = (100, 200)
DEFAULT_SEEDS = (0, 1, 2)
#: The reduced grid of ``--quick`` (a check of the pipeline, well under a minute).
QUICK_LENGTHS = (20,)
QUICK_SEEDS = (0,)
QUICK_STEPS = 200


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines one run (see the module docstring)."""

    model: str = "lstm"
    T: int = 100
    hidden: int = 32
    steps: int = 3000
    batch: int = 32
    lr: float = 0.01
    clip: float = 1.0
    seed: int = 0
    eval_batch: int = 500
    eval_every: int = 50
    eval_seed: int = 0
    r_min: float = 0.9
    r_max: float = 0.999
    max_phase: float = math.pi / 10
    stop_at_success: bool = True

    def __post_init__(self) -> None:
        check_choice("model", self.model, MODELS)
        check_count("T", self.T, 2)
        for name in ("hidden", "steps", "batch", "eval_batch", "eval_every"):
            check_count(name, getattr(self, name), 1)
        for name in ("seed", "eval_seed"):
            check_count(name, getattr(self, name), 0)
        check_real("lr", self.lr, low=0.0, strict=True)
        check_real("clip", self.clip, low=0.0, strict=True)
        check_real("r_min", self.r_min, low=0.0)
        if not 0 < check_real("r_max", self.r_max) < 1 or self.r_min > self.r_max:
            raise ValueError(f"need 0 <= r_min <= r_max < 1, got r_min = {self.r_min}, "
                             f"r_max = {self.r_max}")
        check_real("max_phase", self.max_phase, low=0.0, strict=True)

    def replace(self, **changes) -> RunConfig:
        """Return a copy with some fields changed."""
        return dataclasses.replace(self, **changes)


BASE_CONFIG = RunConfig()
#: Tiny runs stored step by step; the test suite repeats them.
REFERENCE_CONFIGS = tuple(
    RunConfig(model=m, T=12, hidden=8, steps=30, batch=16, eval_batch=100, eval_every=10,
              seed=3, stop_at_success=False)
    for m in MODELS
)


# --- models ---------------------------------------------------------------------------------


def scan_torch(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Return h (T, ...) with h_t = a_t h_{t-1} + b_t, h_0 = 0, by Hillis-Steele (autograd)."""
    if b.ndim < 1 or b.shape[0] == 0:
        raise ValueError(f"b must be a sequence (T, ...) with T >= 1, got {tuple(b.shape)}")
    a = a.expand_as(b)
    offset = 1
    while offset < b.shape[0]:
        b = torch.cat([b[:offset], a[offset:] * b[:-offset] + b[offset:]])
        a = torch.cat([a[:offset], a[offset:] * a[:-offset]])
        offset *= 2
    return b


class Encoder(torch.nn.Module):
    """A per-step linear map and ReLU: (T, B, d) -> (T, B, hidden)."""

    def __init__(self, n_input: int, hidden: int) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(n_input, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.linear(x))


class LRULayer(torch.nn.Module):
    """One LRU layer: h_t = lambda * h_{t-1} + gamma * (B e_t), lambda on the ring."""

    def __init__(self, hidden: int, r_min: float, r_max: float, max_phase: float) -> None:
        super().__init__()
        u1, u2 = torch.rand(hidden), torch.rand(hidden)
        radius = torch.sqrt(r_min ** 2 + u1 * (r_max ** 2 - r_min ** 2))
        self.nu_log = torch.nn.Parameter(torch.log(-torch.log(radius)))
        self.theta_log = torch.nn.Parameter(torch.log(max_phase * u2 + 1e-12))
        self.gamma_log = torch.nn.Parameter(0.5 * torch.log(1 - radius ** 2))
        scale = 1.0 / math.sqrt(2 * hidden)
        self.b_re = torch.nn.Parameter(scale * torch.randn(hidden, hidden))
        self.b_im = torch.nn.Parameter(scale * torch.randn(hidden, hidden))

    def eigenvalues(self) -> torch.Tensor:
        """Return lambda (n,), complex."""
        return torch.exp(torch.complex(-torch.exp(self.nu_log), torch.exp(self.theta_log)))

    def forward(self, e: torch.Tensor) -> torch.Tensor:
        u = torch.complex(e @ self.b_re.T, e @ self.b_im.T) * torch.exp(self.gamma_log)
        return scan_torch(self.eigenvalues(), u)


class MinGRULayer(torch.nn.Module):
    """One minGRU layer: z_t = sigmoid(W_z e_t), c_t = W_h e_t, h_t = (1-z_t) h_{t-1} + z_t c_t."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.gate = torch.nn.Linear(hidden, hidden)
        self.candidate = torch.nn.Linear(hidden, hidden)

    def forward(self, e: torch.Tensor) -> torch.Tensor:
        z = torch.sigmoid(self.gate(e))
        return scan_torch(1 - z, z * self.candidate(e))


class AttentionLayer(torch.nn.Module):
    """One causal self-attention head (no position information)."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.qkv = torch.nn.Linear(hidden, 3 * hidden)

    def forward(self, e: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(e.transpose(0, 1)).chunk(3, dim=-1)  # (B, T, hidden)
        out = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        return out.transpose(0, 1)


class AdderModel(torch.nn.Module):
    """A sequence model and a linear read-out of its last step: (T, B, 2) -> (B,)."""

    def __init__(self, config: RunConfig, n_input: int = 2) -> None:
        super().__init__()
        self.kind = config.model
        h = config.hidden
        if self.kind in ("rnn", "lstm", "gru"):
            layer = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[self.kind]
            self.encoder = None
            self.layer = layer(n_input, h)
            width = h
        else:
            self.encoder = Encoder(n_input, h)
            if self.kind == "lru":
                self.layer = LRULayer(h, config.r_min, config.r_max, config.max_phase)
                width = 2 * h
            elif self.kind == "mingru":
                self.layer = MinGRULayer(h)
                width = h
            else:
                self.layer = AttentionLayer(h)
                width = h
        self.readout = torch.nn.Linear(width, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.encoder is None:
            states, _ = self.layer(x)
            last = states[-1]
        else:
            last = self.layer(self.encoder(x))[-1]
            if torch.is_complex(last):
                last = torch.cat([last.real, last.imag], dim=-1)
        return self.readout(last).squeeze(-1)


def make_model(config: RunConfig) -> AdderModel:
    """Return the float32 model of ``config``, initialised from torch's generator seeded by it."""
    if not isinstance(config, RunConfig):
        raise TypeError(f"config must be a RunConfig, got {type(config).__name__}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        return AdderModel(config)


def count_parameters(model: torch.nn.Module) -> int:
    """Return the number of trainable scalars of ``model``."""
    return sum(p.numel() for p in model.parameters())


# --- training -------------------------------------------------------------------------------


def _tensors(T: int, batch: int, rng) -> tuple[torch.Tensor, torch.Tensor]:
    data = adding_problem(T, batch, rng)
    return (torch.from_numpy(data.x.astype(np.float32)),
            torch.from_numpy(data.y.astype(np.float32)))


def train_run(config: RunConfig) -> dict:
    """Return the JSON-ready record of one run.

    Keys: ``config``, ``parameters``, ``eval_steps``, ``eval_loss``, ``loss`` (per step, rounded
    to float32; :func:`run_experiment` stores it in blocks, see :func:`compress_losses`),
    ``steps_done``, ``success``, ``steps_to_success`` (None on failure), ``seconds``,
    ``cpu_seconds`` (of the training steps, not the evaluations) and ``seconds_per_step``.
    """
    if not isinstance(config, RunConfig):
        raise TypeError(f"config must be a RunConfig, got {type(config).__name__}")
    # This loop is not rnnbook.experiments.training.training_loop, on purpose: it stops at the
    # first evaluation below SUCCESS_MSE (the stored "steps to success" and the early stop the
    # whole grid's CPU budget relies on), and its clock covers the optimizer step alone (not the
    # batch draw, nor training_loop's second gradient-norm pass after clipping), which is what
    # the stored seconds, cpu_seconds and the chapter's "CPU ms/step" measure. The losses and
    # weights it produces are the same as training_loop's for finite losses.
    with one_thread():
        model = make_model(config)
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
        rng = np.random.default_rng([config.seed, 0])
        x_eval, y_eval = _tensors(config.T, config.eval_batch,
                                  np.random.default_rng([config.eval_seed, 1]))

        def evaluate() -> float:
            with torch.no_grad():
                return float(torch.mean((model(x_eval) - y_eval) ** 2))

        eval_steps, eval_loss, losses = [0], [evaluate()], []
        wall = cpu = 0.0
        success_step = 0 if eval_loss[0] < SUCCESS_MSE else None
        step = 0
        while step < config.steps and not (config.stop_at_success and success_step is not None):
            x, y = _tensors(config.T, config.batch, rng)
            w0, c0 = time.perf_counter(), time.process_time()
            optimizer.zero_grad()
            loss = torch.mean((model(x) - y) ** 2)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip)
            optimizer.step()
            wall += time.perf_counter() - w0
            cpu += time.process_time() - c0
            losses.append(loss.item())
            step += 1
            if not math.isfinite(losses[-1]):
                break
            if step % config.eval_every == 0 or step == config.steps:
                eval_steps.append(step)
                eval_loss.append(evaluate())
                if success_step is None and eval_loss[-1] < SUCCESS_MSE:
                    success_step = step
    return {
        "config": dataclasses.asdict(config),
        "parameters": count_parameters(model),
        "eval_steps": eval_steps,
        "eval_loss": json_floats(eval_loss, float32=True),
        "loss": json_floats(losses, float32=True),
        "steps_done": step,
        "success": success_step is not None,
        "steps_to_success": success_step,
        "seconds": round(wall, 3),
        "cpu_seconds": round(cpu, 3),
        "seconds_per_step": wall / max(step, 1),
    }


#: Block length of the stored training-loss curves of the grid (reference runs: every step).
LOSS_EVERY = 25


def compress_losses(run: dict, every: int = LOSS_EVERY) -> dict:
    """Return ``run`` with its per-step ``loss`` replaced by means over blocks of ``every`` steps.

    The means are taken over the stored (float32-rounded) values; a block holding a non-finite
    loss becomes "nan". The key ``loss_every`` records the block length.
    """
    every = check_count("every", every)
    values = np.array([float(v) for v in run["loss"]], dtype=np.float64)
    means = []
    for start in range(0, values.size, every):
        block = values[start:start + every]
        means.append(float(block.mean()) if np.all(np.isfinite(block)) else math.nan)
    return {**run, "loss": json_floats(means, float32=True), "loss_every": every}


def grid_configs(lengths: Sequence[int] = DEFAULT_LENGTHS, seeds: Sequence[int] = DEFAULT_SEEDS,
                 models: Sequence[str] = MODELS, *, base: RunConfig = BASE_CONFIG
                 ) -> list[RunConfig]:
    """Return the configs of the grid, ordered by model, then T, then seed."""
    if not isinstance(base, RunConfig):
        raise TypeError(f"base must be a RunConfig, got {type(base).__name__}")
    for name, values in {"lengths": lengths, "seeds": seeds, "models": models}.items():
        if isinstance(values, str) or not isinstance(values, Sequence) or len(values) == 0:
            raise ValueError(f"{name} must be a non-empty sequence, got {values!r}")
        if len(set(values)) != len(values):
            raise ValueError(f"{name} must be distinct, got {list(values)}")
    return [base.replace(model=m, T=T, seed=s) for m in models for T in lengths for s in seeds]


def run_experiment(configs: Sequence[RunConfig], *, command: str = STORE.command,
                   reference: Sequence[RunConfig] | None = None) -> dict:
    """Return the JSON-ready record of every config's run and the reference runs.

    ``reference`` defaults to :data:`REFERENCE_CONFIGS`.
    """
    reference = REFERENCE_CONFIGS if reference is None else reference
    configs = list(configs)
    if not configs or not all(isinstance(c, RunConfig) for c in configs):
        raise TypeError("configs must be a non-empty sequence of RunConfig")
    started = time.perf_counter()
    cpu_started = time.process_time()
    runs = [compress_losses(train_run(c)) for c in configs]
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    base = base_config(configs)
    return {
        "description": "Adding problem (Le et al. 2015 variant; success: held-out MSE < 0.01 at "
                       "an evaluation, then the run stops). RNN, LSTM, GRU (torch.nn), LRU and "
                       "minGRU (parallel scan) and one causal attention head; float32, one torch "
                       "thread, one process. Written by rnnbook.experiments.after_gates.",
        "command": command,
        "versions": software_versions(),
        "models": list(dict.fromkeys(c.model for c in configs)),
        "lengths": sorted({c.T for c in configs}),
        "seeds": sorted({c.seed for c in configs}),
        "base_config": base,
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "success_mse": SUCCESS_MSE,
        "runs": runs,
        "reference": [compress_losses(train_run(c), 1) for c in reference],
    }


# --- reading the record ---------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class AfterGatesResults:
    """The stored experiment.

    Attributes
    ----------
    runs : tuple of dict
        Every run of the grid (the dicts of :func:`train_run`, losses in blocks of
        ``loss_every`` steps), in the order model, T, seed.
    meta : dict
        ``description``, ``command``, ``versions`` (python, numpy, torch), ``models``,
        ``lengths``, ``seeds``, ``base_config``, ``wall_seconds``, ``cpu_seconds`` (of the whole
        grid), ``success_mse`` and ``reference`` (the reference runs, losses step by step).
    """

    runs: tuple[dict, ...]
    meta: dict


META_KEYS = frozenset({"description", "command", "versions", "models", "lengths", "seeds",
                       "base_config", "wall_seconds", "cpu_seconds", "success_mse", "reference"})


def results_from_record(record: dict) -> AfterGatesResults:
    """Return the :class:`AfterGatesResults` held in a :func:`run_experiment` record."""
    check_record_keys(record, META_KEYS | {"runs"}, "after-gates record")
    for run in record["runs"] + record["reference"]:
        RunConfig(**run["config"])  # validates
    return AfterGatesResults(runs=tuple(record["runs"]),
                             meta={key: record[key] for key in sorted(META_KEYS)})


def load_runs() -> AfterGatesResults:
    """Return the stored :class:`AfterGatesResults` from ``rnnbook/data/after_gates_runs.json``."""
    return results_from_record(STORE.load())


def summary_table(results: AfterGatesResults) -> list[dict]:
    """Return one row per (T, model): runs, successes, median steps to success, ms per step.

    ``median_steps`` is the median over the successful runs (None if none succeeded);
    ``ms_per_step`` the median over the seeds of the CPU milliseconds per training step (process
    time of the one-thread run: less sensitive than wall-clock time to other programs sharing
    the cores, still specific to the machine); ``cpu_seconds_to_success`` the median CPU seconds
    of training steps until success, over the successful runs (None if none succeeded).
    """
    if not isinstance(results, AfterGatesResults):
        raise TypeError(f"results must be AfterGatesResults, got {type(results).__name__}")
    rows = []
    for T in results.meta["lengths"]:
        for model in results.meta["models"]:
            runs = [r for r in results.runs
                    if r["config"]["model"] == model and r["config"]["T"] == T]
            if not runs:
                continue
            won = [r["steps_to_success"] for r in runs if r["success"]]
            rows.append({
                "model": model, "T": T, "runs": len(runs), "successes": len(won),
                "median_steps": float(np.median(won)) if won else None,
                "ms_per_step": 1000 * float(np.median(
                    [r["cpu_seconds"] / max(r["steps_done"], 1) for r in runs])),
                "cpu_seconds_to_success": float(np.median(
                    [r["cpu_seconds"] for r in runs if r["success"]])) if won else None,
                "parameters": runs[0]["parameters"],
            })
    return rows


def format_table(rows: Sequence[dict]) -> str:
    """Return :func:`summary_table` rows as fixed-width text (ms per step to 2 digits)."""
    rows = table_rows(rows)
    header = (f"{'model':<10}{'T':>5}{'params':>8}{'successes':>11}{'median steps':>14}"
              f"{'CPU ms/step':>13}{'CPU s to success':>18}")
    lines = [header, "-" * len(header)]
    for row in rows:
        ms = float(f"{row['ms_per_step']:.2g}")
        steps = "-" if row["median_steps"] is None else f"{row['median_steps']:.0f}"
        to_success = row["cpu_seconds_to_success"]
        to_success = "-" if to_success is None else f"{float(f'{to_success:.2g}'):g}"
        lines.append(f"{NAMES.get(row['model'], row['model']):<10}{row['T']:>5d}"
                     f"{row['parameters']:>8d}{row['successes']:>7d} / {row['runs']}"
                     f"{steps:>14}{ms:>13g}{to_success:>18}")
    return "\n".join(lines)


#: The record as JSON text, one line per key and per run (:meth:`StoredExperiment.dump`).
dump_record = STORE.dump
#: The data file in the (editable) source tree.
default_output = STORE.default_output


def main(argv: Sequence[str] | None = None) -> int:
    """Regenerate the stored runs: ``python -m rnnbook.experiments.after_gates [options]``.

    ``--quick`` trains a reduced grid (T = 20; seed 0; 200 steps) to check the pipeline and,
    unless ``--output`` is given, writes ``after_gates_runs_quick.json`` in the current
    directory, never the book's data file. Every option is checked before any training.
    """
    parser, argv = STORE.parser(__doc__.splitlines()[0], argv)
    parser.set_defaults(output=None)
    parser.add_argument("--quick", action="store_true", help="a reduced grid, for checking")
    parser.add_argument("--lengths", type=int, nargs="+", default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=None)
    parser.add_argument("--models", nargs="+", default=None)
    parser.add_argument("--steps", type=int, default=None)
    args = parser.parse_args(argv)

    def chosen(value, quick, full):
        return value if value is not None else (quick if args.quick else full)

    lengths = chosen(args.lengths, QUICK_LENGTHS, DEFAULT_LENGTHS)
    seeds = chosen(args.seeds, QUICK_SEEDS, DEFAULT_SEEDS)
    steps = chosen(args.steps, QUICK_STEPS, BASE_CONFIG.steps)
    output = STORE.output(parser, args,
                          Path("after_gates_runs_quick.json") if args.quick else default_output())
    # grid_configs and RunConfig refuse bad lengths, seeds, models and steps before any training
    configs = grid_configs(lengths, seeds, args.models or MODELS,
                           base=BASE_CONFIG.replace(steps=steps))
    record = run_experiment(configs, command=STORE.command_line(argv))
    STORE.write(output, record)
    print(format_table(summary_table(results_from_record(record))))
    print(f"wall {record['wall_seconds']:.0f} s, CPU {record['cpu_seconds']:.0f} s; wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
