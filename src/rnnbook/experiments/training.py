"""The seeded torch training harness of the experiments: one loop, :func:`training_loop`.

:func:`training_loop` is the one optimisation loop every experiment uses (here by
:func:`train`, and by :func:`rnnbook.experiments.clipping.train`): zero the gradients, compute
the loss of a fresh batch, back-propagate, measure (and optionally clip) the global gradient
norm, stop at a non-finite loss, step the optimizer.

:func:`train` trains a model on the long-lag tasks of :mod:`rnnbook.tasks`.

A model is one recurrent layer (``torch.nn.RNN`` with tanh, ``torch.nn.LSTM`` or
``torch.nn.GRU``, torch's default initialisation) followed by a linear read-out of the last
hidden state, in float32. Each step draws a fresh batch, minimises the mean squared error with
Adam or plain SGD, and records the loss and the global gradient norm before (and after) optional
clipping by norm (``torch.nn.utils.clip_grad_norm_``). A fixed held-out batch is evaluated every
``eval_every`` steps.

Reproducibility: torch's global generator is seeded with ``seed`` inside
``torch.random.fork_rng`` (the caller's torch state is left as it was), training batches come
from ``numpy.random.default_rng([seed, 0])`` and the held-out batch from
``numpy.random.default_rng([eval_seed, 1])``, and runs use one CPU thread; two runs with the
same config give bit-identical curves on the same machine and versions.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from rnnbook.checks import check_choice, check_count, check_real, check_seed
from rnnbook.experiments.records import json_floats, read_floats
from rnnbook.tasks import Batch, get_task, make_batch

MODELS = ("rnn", "lstm", "gru")
OPTIMIZERS = ("adam", "sgd")
#: |forget_bias| beyond this saturates sigmoid to 0 or 1 in float32; refused as a typo.
FORGET_BIAS_LIMIT = 100.0
_LAYERS = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}


@dataclass(frozen=True)
class TrainingConfig:
    """Everything that determines a training run.

    Attributes
    ----------
    model : {"rnn", "lstm", "gru"}
    task : {"adding", "copy_lag"}
    T : int
        Sequence length.
    hidden : int
        Hidden size n.
    steps : int
        Optimizer steps (one fresh batch each).
    batch : int
        Training batch size.
    lr : float
        Learning rate.
    optimizer : {"adam", "sgd"}
    clip : float or None
        Max global gradient norm for ``clip_grad_norm_``; None for no clipping.
    seed : int
        Seeds torch (initial weights) and the training batches.
    eval_batch : int
        Size of the fixed held-out batch.
    eval_every : int
        Evaluate every this many steps (and at step 0 and at the end).
    eval_seed : int
        Seed of the held-out batch (the same for every model and training seed).
    lag : int or None
        copy_lag only: the lag d (default T - 1, the first input).
    forget_bias : float or None
        LSTM only: set the forget-gate bias (bias_ih's f block; bias_hh's f block zeroed);
        None keeps torch's initialisation.
    """

    model: str = "lstm"
    task: str = "adding"
    T: int = 50
    hidden: int = 32
    steps: int = 300
    batch: int = 32
    lr: float = 0.01
    optimizer: str = "adam"
    clip: float | None = None
    seed: int = 0
    eval_batch: int = 1000
    eval_every: int = 50
    eval_seed: int = 0
    lag: int | None = None
    forget_bias: float | None = None

    def __post_init__(self) -> None:
        check_choice("model", self.model, MODELS)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        spec = get_task(self.task)
        check_count("T", self.T, 2 if spec.name == "adding" else 1)
        for name in ("hidden", "steps", "batch", "eval_batch", "eval_every"):
            check_count(name, getattr(self, name), 1)
        for name in ("seed", "eval_seed"):
            check_count(name, getattr(self, name), 0)
        if check_real("lr", self.lr) <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.clip is not None and check_real("clip", self.clip) <= 0:
            raise ValueError(f"clip must be > 0 or None, got {self.clip}")
        if self.lag is not None:
            if spec.name != "copy_lag":
                raise ValueError(f"lag applies to the copy_lag task only, not to {self.task!r}")
            check_count("lag", self.lag, 0)
            if self.lag > self.T - 1:
                raise ValueError(f"lag must be at most T - 1 = {self.T - 1}, got {self.lag}")
        if self.forget_bias is not None:
            if self.model != "lstm":
                raise ValueError(f"forget_bias applies to the lstm model only, not {self.model!r}")
            check_real("forget_bias", self.forget_bias, low=-FORGET_BIAS_LIMIT,
                       high=FORGET_BIAS_LIMIT)

    def replace(self, **changes) -> TrainingConfig:
        """Return a copy with some fields changed."""
        return dataclasses.replace(self, **changes)


class SequenceModel(torch.nn.Module):
    """One recurrent layer and a linear read-out of its last hidden state.

    ``forward(x)`` maps inputs of shape (T, B, d) to predictions of shape (B,).
    """

    def __init__(self, kind: str, n_input: int, hidden: int) -> None:
        super().__init__()
        self.kind = check_choice("model kind", kind, MODELS)
        self.recurrent = _LAYERS[kind](n_input, hidden)
        self.readout = torch.nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the prediction from the last state, shape (B,)."""
        states, _ = self.recurrent(x)
        return self.readout(states[-1]).squeeze(-1)


def make_model(kind: str, n_input: int, hidden: int, *,
               forget_bias: float | None = None) -> SequenceModel:
    """Return a float32 :class:`SequenceModel` (torch's default initialisation, global RNG).

    ``forget_bias`` (LSTM only) sets the forget-gate block of ``bias_ih_l0`` to that value and
    the one of ``bias_hh_l0`` to zero, so the forget gate starts at sigmoid(forget_bias) plus
    the input and recurrent terms.
    """
    check_choice("model kind", kind, MODELS)
    n_input = check_count("n_input", n_input)
    hidden = check_count("hidden", hidden)
    model = SequenceModel(kind, n_input, hidden)
    if forget_bias is not None:
        if kind != "lstm":
            raise ValueError(f"forget_bias applies to the lstm model only, not {kind!r}")
        value = check_real("forget_bias", forget_bias)
        with torch.no_grad():
            model.recurrent.bias_ih_l0[hidden:2 * hidden] = value
            model.recurrent.bias_hh_l0[hidden:2 * hidden] = 0.0
    return model


def _tensors(batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    return (torch.from_numpy(batch.x.astype(np.float32)),
            torch.from_numpy(batch.y.astype(np.float32)))


def evaluate(model: SequenceModel, batch: Batch) -> float:
    """Return the mean squared error of ``model`` on ``batch`` (no gradient)."""
    if not isinstance(model, SequenceModel):
        raise TypeError(f"model must be a SequenceModel, got {type(model).__name__}")
    if not isinstance(batch, Batch):
        raise TypeError(f"batch must be a rnnbook.tasks.Batch, got {type(batch).__name__}")
    x, y = _tensors(batch)
    if x.ndim != 3:
        raise ValueError(f"batch.x must be batched, shape (T, B, d), got shape {tuple(x.shape)}")
    with torch.no_grad():
        out = model(x)
        if out.shape != y.shape:
            raise ValueError(f"the model's output has shape {tuple(out.shape)} but batch.y has "
                             f"shape {tuple(y.shape)}")
        return float(torch.mean((out - y) ** 2))


def _optimizer(config: TrainingConfig, model: SequenceModel) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=config.lr)
    return torch.optim.SGD(model.parameters(), lr=config.lr)


def _eval_steps(config: TrainingConfig) -> np.ndarray:
    steps = list(range(0, config.steps, config.eval_every))
    return np.array([*steps, config.steps])


@dataclass(frozen=True, eq=False)
class TrainingRun:
    """The record of one training run.

    Attributes
    ----------
    config : TrainingConfig
    loss : ndarray, shape (steps,)
        Training MSE of each step's batch (NaN after a divergence).
    grad_norm : ndarray, shape (steps,)
        Global gradient norm before clipping.
    clipped_norm : ndarray, shape (steps,)
        Global gradient norm after clipping (equal to ``grad_norm`` without clipping).
    eval_steps : ndarray, shape (E,)
        Steps at which the held-out batch was evaluated (0, eval_every, ..., steps).
    eval_loss : ndarray, shape (E,)
        Held-out MSE at those steps.
    elapsed : float
        Wall-clock seconds of the whole run.
    torch_version, numpy_version : str
    """

    config: TrainingConfig
    loss: np.ndarray
    grad_norm: np.ndarray
    clipped_norm: np.ndarray
    eval_steps: np.ndarray
    eval_loss: np.ndarray
    elapsed: float
    torch_version: str
    numpy_version: str

    @property
    def final_loss(self) -> float:
        """Held-out MSE at the end of training."""
        return float(self.eval_loss[-1])

    @property
    def baseline(self) -> float:
        """Expected MSE of the trivial constant predictor on this task."""
        return get_task(self.config.task).baseline_mse

    @property
    def diverged(self) -> bool:
        """Whether the training loss became NaN or infinite."""
        return bool(not np.all(np.isfinite(self.loss)))

    @property
    def success(self) -> bool:
        """Whether the final held-out MSE is below the task's success threshold."""
        return bool(np.isfinite(self.final_loss)
                    and self.final_loss < get_task(self.config.task).success_mse)

    def to_dict(self) -> dict:
        """Return a JSON-ready dict (strict JSON: NaN and +-inf written as "nan", "inf", "-inf")."""
        return {
            "config": dataclasses.asdict(self.config),
            "loss": json_floats(self.loss),
            "grad_norm": json_floats(self.grad_norm),
            "clipped_norm": json_floats(self.clipped_norm),
            "eval_steps": [int(s) for s in self.eval_steps],
            "eval_loss": json_floats(self.eval_loss),
            "elapsed": float(self.elapsed),
            "torch_version": self.torch_version,
            "numpy_version": self.numpy_version,
        }

    @classmethod
    def from_dict(cls, data: dict) -> TrainingRun:
        """Return the :class:`TrainingRun` that :meth:`to_dict` wrote."""
        if not isinstance(data, dict):
            raise TypeError(f"data must be a dict, got {type(data).__name__}")
        expected = {f.name for f in dataclasses.fields(cls)}
        if set(data) != expected:
            raise ValueError(f"a TrainingRun dict needs keys {sorted(expected)}; missing "
                             f"{sorted(expected - set(data))}, unexpected "
                             f"{sorted(set(data) - expected)}")

        config = TrainingConfig(**data["config"])
        run = cls(
            config=config,
            loss=read_floats(data["loss"], "loss"),
            grad_norm=read_floats(data["grad_norm"], "grad_norm"),
            clipped_norm=read_floats(data["clipped_norm"], "clipped_norm"),
            eval_steps=np.array(data["eval_steps"], dtype=np.int64),
            eval_loss=read_floats(data["eval_loss"], "eval_loss"),
            elapsed=float(data["elapsed"]),
            torch_version=str(data["torch_version"]),
            numpy_version=str(data["numpy_version"]),
        )
        for name in ("loss", "grad_norm", "clipped_norm"):
            if getattr(run, name).shape != (config.steps,):
                raise ValueError(f"{name} has {getattr(run, name).shape[0]} entries, the config "
                                 f"says steps = {config.steps}")
        if run.eval_loss.shape != run.eval_steps.shape:
            raise ValueError(f"eval_loss has shape {run.eval_loss.shape} but eval_steps "
                             f"{run.eval_steps.shape}")
        return run


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the body with one torch thread, then restore the caller's thread count."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@dataclass(frozen=True, eq=False)
class Curves:
    """Per-step records of :func:`training_loop`.

    Attributes
    ----------
    loss : ndarray, shape (steps,)
        Loss of each step's batch, before the update (NaN after an early stop).
    grad_norm : ndarray, shape (steps,)
        Global gradient norm before clipping.
    clipped_norm : ndarray, shape (steps,)
        Global gradient norm after clipping (equal to ``grad_norm`` without clipping).
    taken : int
        Steps recorded: ``steps``, or fewer when a non-finite loss stopped the loop (that step is
        recorded, and not applied).
    """

    loss: np.ndarray
    grad_norm: np.ndarray
    clipped_norm: np.ndarray
    taken: int


def training_loop(
    batch_loss: Callable[[], torch.Tensor],
    parameters: Sequence[torch.nn.Parameter],
    optimizer: torch.optim.Optimizer,
    steps: int,
    *,
    clip: float | None = None,
    after_step: Callable[[int], None] | None = None,
) -> Curves:
    """Return the :class:`Curves` of ``steps`` optimizer steps.

    Parameters
    ----------
    batch_loss : callable
        Draws a fresh batch and returns its scalar loss (with a graph to ``parameters``).
    parameters : sequence of torch.nn.Parameter
        Everything ``optimizer`` updates; the gradient norm is taken over them.
    optimizer : torch.optim.Optimizer
    steps : int
    clip : float or None
        Clip the global gradient norm at this value (``torch.nn.utils.clip_grad_norm_``).
    after_step : callable, optional
        Called with the number of steps done after every applied update.
    """
    parameters = list(parameters)
    curves = {name: np.full(steps, np.nan) for name in ("loss", "grad_norm", "clipped_norm")}
    taken = 0
    for step in range(steps):
        optimizer.zero_grad()
        loss = batch_loss()
        loss.backward()
        if clip is None:
            norm = torch.nn.utils.get_total_norm([p.grad for p in parameters])
            clipped = norm
        else:
            norm = torch.nn.utils.clip_grad_norm_(parameters, clip)
            clipped = torch.nn.utils.get_total_norm([p.grad for p in parameters])
        curves["loss"][step] = loss.item()
        curves["grad_norm"][step] = norm.item()
        curves["clipped_norm"][step] = clipped.item()
        taken = step + 1
        if not math.isfinite(loss.item()):
            break
        optimizer.step()
        if after_step is not None:
            after_step(step + 1)
    return Curves(taken=taken, **curves)


def train(config: TrainingConfig) -> TrainingRun:
    """Return the :class:`TrainingRun` of training ``config.model`` on ``config.task``.

    Training stops early if the loss becomes NaN or infinite; the remaining entries of the
    curves are NaN.
    """
    if not isinstance(config, TrainingConfig):
        raise TypeError(f"config must be a TrainingConfig, got {type(config).__name__}")
    spec = get_task(config.task)
    lag = config.lag if spec.name == "copy_lag" else None
    started = time.perf_counter()
    with one_thread():
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            model = make_model(config.model, spec.n_input, config.hidden,
                               forget_bias=config.forget_bias)
        optimizer = _optimizer(config, model)
        rng = np.random.default_rng([config.seed, 0])
        held_out = make_batch(spec.name, config.T, config.eval_batch,
                              np.random.default_rng([config.eval_seed, 1]), lag=lag)
        eval_steps = _eval_steps(config)
        eval_loss = np.full(len(eval_steps), np.nan)
        eval_loss[0] = evaluate(model, held_out)

        def batch_loss() -> torch.Tensor:
            x, y = _tensors(make_batch(spec.name, config.T, config.batch, rng, lag=lag))
            return torch.mean((model(x) - y) ** 2)

        def after_step(done: int) -> None:
            if done in eval_steps:
                eval_loss[np.searchsorted(eval_steps, done)] = evaluate(model, held_out)

        curves = training_loop(batch_loss, list(model.parameters()), optimizer, config.steps,
                               clip=config.clip, after_step=after_step)
    return TrainingRun(
        config=config,
        elapsed=time.perf_counter() - started,
        eval_steps=eval_steps,
        eval_loss=eval_loss,
        torch_version=torch.__version__,
        numpy_version=np.__version__,
        loss=curves.loss,
        grad_norm=curves.grad_norm,
        clipped_norm=curves.clipped_norm,
    )


@dataclass(frozen=True, eq=False)
class StepTiming:
    """Wall-clock time of one training step (forward, backward, optimizer update).

    Attributes
    ----------
    model : str
    hidden, T, batch : int
    fused : bool
        Whether torch's fused oneDNN path was allowed (see :func:`measure_step_time`).
    seconds : ndarray, shape (repeats,)
        Wall-clock seconds per step, one per repeat (each the mean over ``steps_per_repeat``).
    cpu_seconds : ndarray, shape (repeats,)
        CPU seconds of this process per step (``time.process_time``): less sensitive than wall
        time to other programs competing for the cores.
    """

    model: str
    hidden: int
    T: int
    batch: int
    fused: bool
    seconds: np.ndarray
    cpu_seconds: np.ndarray

    @property
    def median(self) -> float:
        """Median wall-clock seconds per step."""
        return float(np.median(self.seconds))

    @property
    def cpu_median(self) -> float:
        """Median CPU seconds per step."""
        return float(np.median(self.cpu_seconds))


def measure_step_time(
    model: str,
    hidden: int,
    *,
    T: int = 100,
    batch: int = 32,
    n_input: int = 2,
    repeats: int = 5,
    steps_per_repeat: int = 3,
    warmup: int = 2,
    threads: int = 1,
    fused: bool = True,
    seed: int = 0,
) -> StepTiming:
    """Return the :class:`StepTiming` of Adam training steps of a float32 model on one batch.

    A step is zero_grad, forward, MSE, backward and ``optimizer.step()``, on a fixed random
    batch of shape (T, batch, n_input). ``warmup`` steps run first and are not timed. torch runs
    with ``threads`` threads (restored afterwards).

    On CPU, torch runs ``torch.nn.LSTM`` through a fused oneDNN kernel (``mkldnn_rnn_layer``)
    when it can, while ``torch.nn.GRU`` and ``torch.nn.RNN`` run step by step as separate ops; so
    a timing compares implementations as much as cells. ``fused=False`` switches oneDNN off
    (``torch.backends.mkldnn.enabled = False``) for the measurement, so that all three run the
    same unfused way.
    """
    check_choice("model", model, MODELS)
    for name, value, minimum in (("hidden", hidden, 1), ("T", T, 1), ("batch", batch, 1),
                                 ("n_input", n_input, 1), ("repeats", repeats, 1),
                                 ("steps_per_repeat", steps_per_repeat, 1),
                                 ("warmup", warmup, 0), ("threads", threads, 1)):
        check_count(name, value, minimum)
    if not isinstance(fused, bool):
        raise TypeError(f"fused must be a bool, got {type(fused).__name__}")
    previous = torch.get_num_threads()
    previous_mkldnn = torch.backends.mkldnn.enabled
    torch.set_num_threads(threads)
    torch.backends.mkldnn.enabled = previous_mkldnn and fused
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = make_model(model, n_input, hidden)
        optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
        rng = np.random.default_rng(check_seed("seed", seed))
        x = torch.from_numpy(rng.standard_normal((T, batch, n_input)).astype(np.float32))
        y = torch.from_numpy(rng.standard_normal(batch).astype(np.float32))

        def step() -> None:
            optimizer.zero_grad()
            torch.mean((net(x) - y) ** 2).backward()
            optimizer.step()

        for _ in range(warmup):
            step()
        seconds = np.empty(repeats)
        cpu_seconds = np.empty(repeats)
        for r in range(repeats):
            start, cpu_start = time.perf_counter(), time.process_time()
            for _ in range(steps_per_repeat):
                step()
            seconds[r] = (time.perf_counter() - start) / steps_per_repeat
            cpu_seconds[r] = (time.process_time() - cpu_start) / steps_per_repeat
    finally:
        torch.set_num_threads(previous)
        torch.backends.mkldnn.enabled = previous_mkldnn
    return StepTiming(model=model, hidden=int(hidden), T=int(T), batch=int(batch),
                      fused=fused, seconds=seconds, cpu_seconds=cpu_seconds)
