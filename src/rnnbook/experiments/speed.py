"""Time per training step of LSTM and GRU, measured; and the arithmetic of a step, counted.

Arithmetic. One step of a gated layer computes k blocks of the same shape, each a product with
the input weights (n x d) and with the recurrent weights (n x n): k = 4 for the LSTM (i, f, g, o),
k = 3 for the GRU (r, z, n), k = 1 for the Elman RNN. Counting a multiply-add as two FLOPs, a
training step on a batch of B sequences of length T needs

    forward                 2 k n (d + n) T B
    backward, dU            2 k n d T B          (the input x needs no gradient)
    backward, dW            2 k n n T B
    backward, dh_{t-1}      2 k n n (T - 1) B    (h_0 is fixed, so the first step needs none)

in matrix products, which is what ``torch.utils.flop_counter`` counts for ``torch.nn.LSTM``,
``torch.nn.GRU`` and ``torch.nn.RNN`` run step by step. The elementwise work (gates,
nonlinearities, products) is O(k n T B) and left out. Every term is proportional to k, so the
GRU needs exactly 3/4 of the LSTM's matrix arithmetic, at every size.

Time. Arithmetic is not time: on a CPU torch runs ``torch.nn.LSTM`` through one fused oneDNN
kernel when it can, while ``torch.nn.GRU`` runs as a sequence of separate small operations.
``python -m rnnbook.experiments.speed`` measures both, with oneDNN allowed (torch's default)
and switched off, at a few hidden sizes (:func:`rnnbook.experiments.training.measure_step_time`:
Adam steps on one
float32 batch, one thread). The configurations are measured in interleaved rounds (every
configuration once per round, LSTM and GRU in alternating order), so a change in the machine's
load hits all of them alike; the median over rounds is reported. The record, written to
``rnnbook/data/speed.json``, holds the library versions, the CPU, the load average before and
after, and the command line. Timings depend on the machine: they are data, not a result that
reproduces digit by digit.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rnnbook.checks import check_choice, check_count
from rnnbook.experiments.records import StoredExperiment, count_arg, software_versions
from rnnbook.experiments.training import StepTiming, measure_step_time

STORE = StoredExperiment("rnnbook.experiments.speed", "speed.json", ("timings",))
#: Weight blocks per step: one matrix product with U and one with W each.
BLOCKS = {"rnn": 1, "gru": 3, "lstm": 4}
RECORD_KEYS = ("description", "command", "created", "versions", "machine", "load_average",
               "config", "timings")
TIMING_KEYS = ("model", "hidden", "fused", "seconds", "cpu_seconds")


@dataclass(frozen=True, eq=False)
class FlopCount:
    """Matrix-product FLOPs of one training step of a recurrent layer (see the module notes).

    Attributes
    ----------
    model : {"rnn", "lstm", "gru"}
    n_input, hidden, T, batch : int
    forward : int
        FLOPs of the forward pass.
    backward : int
        FLOPs of the backward pass (weight gradients and the gradient through h_{t-1}).
    """

    model: str
    n_input: int
    hidden: int
    T: int
    batch: int
    forward: int
    backward: int

    @property
    def blocks(self) -> int:
        """Weight blocks k: 1 (RNN), 3 (GRU), 4 (LSTM)."""
        return BLOCKS[self.model]

    @property
    def total(self) -> int:
        """Forward plus backward FLOPs."""
        return self.forward + self.backward


def recurrent_flops(model: str, n_input: int, hidden: int, *, T: int = 100,
                    batch: int = 32) -> FlopCount:
    """Return the :class:`FlopCount` of one training step of a one-layer recurrent network.

    Parameters
    ----------
    model : {"rnn", "lstm", "gru"}
    n_input : int
        Input size d.
    hidden : int
        Hidden size n.
    T : int
        Sequence length.
    batch : int
        Sequences per batch B.
    """
    k = BLOCKS[check_choice("model", model, tuple(BLOCKS))]
    d, n = check_count("n_input", n_input), check_count("hidden", hidden)
    T, B = check_count("T", T), check_count("batch", batch)
    forward = 2 * k * n * (d + n) * T * B
    backward = 2 * k * n * d * T * B + 2 * k * n * n * T * B + 2 * k * n * n * (T - 1) * B
    return FlopCount(model=model, n_input=d, hidden=n, T=T, batch=B, forward=forward,
                     backward=backward)


@dataclass(frozen=True)
class BenchmarkConfig:
    """What ``python -m rnnbook.experiments.speed`` measures.

    Attributes
    ----------
    hiddens : tuple of int
        Hidden sizes n.
    models : tuple of str
        Models to time (from "rnn", "lstm", "gru").
    fused : tuple of bool
        True: torch's default (oneDNN allowed); False: oneDNN switched off.
    T, batch, n_input : int
        Sequence length, batch size and input size of the timed batch.
    rounds : int
        Interleaved rounds; each configuration is timed once per round (median reported).
    steps_per_round : int
        Training steps averaged in one timing.
    warmup : int
        Untimed steps before each timing.
    threads : int
        torch threads during the measurement.
    """

    hiddens: tuple[int, ...] = (32, 128, 256)
    models: tuple[str, ...] = ("lstm", "gru")
    fused: tuple[bool, ...] = (True, False)
    T: int = 100
    batch: int = 32
    n_input: int = 2
    rounds: int = 7
    steps_per_round: int = 3
    warmup: int = 1
    threads: int = 1

    def __post_init__(self) -> None:
        for name in ("hiddens", "models", "fused"):
            values = getattr(self, name)
            if isinstance(values, str) or not isinstance(values, Sequence) or not values:
                raise TypeError(f"{name} must be a non-empty tuple, got {values!r}")
            if len(set(values)) != len(values):
                raise ValueError(f"{name} has repeated values: {values!r}")
            object.__setattr__(self, name, tuple(values))
        for hidden in self.hiddens:
            check_count("hiddens entry", hidden)
        for model in self.models:
            check_choice("model", model, tuple(BLOCKS))
        for fused in self.fused:
            if not isinstance(fused, bool):
                raise TypeError(f"fused entries must be bools, got {fused!r}")
        for name, minimum in (("T", 1), ("batch", 1), ("n_input", 1), ("rounds", 1),
                              ("steps_per_round", 1), ("warmup", 0), ("threads", 1)):
            check_count(name, getattr(self, name), minimum)

    def combinations(self) -> list[tuple[str, int, bool]]:
        """Return every (model, hidden, fused) triple, in the order of the record."""
        return [(model, hidden, fused) for fused in self.fused for hidden in self.hiddens
                for model in self.models]


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict:
    """Return a JSON-ready description of this machine: CPU, cores, OS, torch's CPU features."""
    import torch

    return {
        "cpu": _cpu_name(),
        "logical_cores": os.cpu_count(),
        "platform": platform.platform(),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "onednn_available": bool(torch.backends.mkldnn.is_available()),
    }


def _load_average() -> list[float]:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return []


def run_experiment(config: BenchmarkConfig | None = None, command: str = "") -> dict:
    """Return the JSON-ready record of timing every configuration of ``config``.

    Each of ``config.rounds`` rounds times every (model, hidden, fused) configuration once
    with :func:`rnnbook.experiments.training.measure_step_time` (one repeat of
    ``steps_per_round`` steps);
    the order of the models alternates between rounds.
    """
    config = BenchmarkConfig() if config is None else config
    if not isinstance(config, BenchmarkConfig):
        raise TypeError(f"config must be a BenchmarkConfig, got {type(config).__name__}")
    combos = config.combinations()
    seconds = {combo: [] for combo in combos}
    cpu_seconds = {combo: [] for combo in combos}
    before = _load_average()
    for round_index in range(config.rounds):
        order = combos if round_index % 2 == 0 else combos[::-1]
        for combo in order:
            model, hidden, fused = combo
            timing = measure_step_time(
                model, hidden, T=config.T, batch=config.batch, n_input=config.n_input,
                repeats=1, steps_per_repeat=config.steps_per_round, warmup=config.warmup,
                threads=config.threads, fused=fused, seed=round_index)
            seconds[combo].append(float(timing.seconds[0]))
            cpu_seconds[combo].append(float(timing.cpu_seconds[0]))
    return {
        "description": "Wall-clock and CPU seconds per training step (Adam, MSE, float32) of a "
                       "one-layer LSTM or GRU with a linear read-out, with torch's oneDNN "
                       "path allowed (fused) or switched off. Written by "
                       "rnnbook.experiments.speed.",
        "command": command,
        "created": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%MZ"),
        "versions": software_versions(),
        "machine": machine_info(),
        "load_average": {"before": before, "after": _load_average()},
        "config": {key: list(value) if isinstance(value, tuple) else value
                   for key, value in dataclasses.asdict(config).items()},
        "timings": [{"model": model, "hidden": hidden, "fused": fused,
                     "seconds": seconds[(model, hidden, fused)],
                     "cpu_seconds": cpu_seconds[(model, hidden, fused)]}
                    for model, hidden, fused in combos],
    }


def _config_from(record_config) -> BenchmarkConfig:
    if not isinstance(record_config, dict):
        raise ValueError(f"record 'config' must be an object, got {type(record_config).__name__}")
    fields = {f.name for f in dataclasses.fields(BenchmarkConfig)}
    if set(record_config) != fields:
        raise ValueError(f"record 'config' needs keys {sorted(fields)}, got "
                         f"{sorted(record_config)}")
    values = dict(record_config)
    for name in ("hiddens", "models", "fused"):
        if not isinstance(values[name], list | tuple):
            raise ValueError(f"config {name!r} must be a list, got {values[name]!r}")
        values[name] = tuple(values[name])
    try:
        return BenchmarkConfig(**values)
    except (TypeError, ValueError) as error:
        raise ValueError(f"record 'config' is not a valid BenchmarkConfig: {error}") from None


def _positive_list(name: str, values, length: int) -> None:
    if not isinstance(values, list) or len(values) != length:
        raise ValueError(f"{name} must be a list of {length} numbers (one per round), got "
                         f"{values!r}")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must hold positive finite seconds, got {value!r}")


def validate_record(record) -> BenchmarkConfig:
    """Return the record's :class:`BenchmarkConfig`, or raise ``ValueError`` naming the flaw.

    Checks the keys, the config, the machine and version fields, and that every configuration
    of the config has exactly one timing with one positive number of seconds per round.
    """
    if not isinstance(record, dict):
        raise ValueError(f"a speed record is a JSON object, got {type(record).__name__}")
    missing = [key for key in RECORD_KEYS if key not in record]
    if missing:
        raise ValueError(f"speed record is missing keys {missing}; it has {sorted(record)}")
    config = _config_from(record["config"])
    for key, fields in (("versions", ("python", "numpy", "torch")),
                        ("machine", ("cpu", "logical_cores", "platform")),
                        ("load_average", ("before", "after"))):
        if not isinstance(record[key], dict) or any(f not in record[key] for f in fields):
            raise ValueError(f"record {key!r} must be an object with keys {list(fields)}, got "
                             f"{record[key]!r}")
    if not isinstance(record["command"], str) or not record["command"].startswith("python -m"):
        raise ValueError(f"record 'command' must be the command line, got {record['command']!r}")
    timings = record["timings"]
    if not isinstance(timings, list):
        raise ValueError(f"record 'timings' must be a list, got {type(timings).__name__}")
    seen = set()
    for entry in timings:
        if not isinstance(entry, dict) or set(entry) != set(TIMING_KEYS):
            raise ValueError(f"each timing needs exactly the keys {list(TIMING_KEYS)}, got "
                             f"{entry!r}")
        combo = (entry["model"], entry["hidden"], entry["fused"])
        if combo not in config.combinations():
            raise ValueError(f"timing {combo} is not a configuration of the record's config")
        if combo in seen:
            raise ValueError(f"timing {combo} appears twice")
        seen.add(combo)
        for name in ("seconds", "cpu_seconds"):
            _positive_list(f"timing {combo} {name}", entry[name], config.rounds)
    absent = [combo for combo in config.combinations() if combo not in seen]
    if absent:
        raise ValueError(f"speed record has no timing for {absent}")
    return config


@dataclass(frozen=True, eq=False)
class SpeedResults:
    """A stored speed benchmark.

    Attributes
    ----------
    config : BenchmarkConfig
    timings : tuple of StepTiming
        One per (model, hidden, fused); ``seconds`` holds one value per round.
    meta : dict
        command, created, versions, machine and load_average, as recorded.
    """

    config: BenchmarkConfig
    timings: tuple[StepTiming, ...]
    meta: dict

    def timing(self, model: str, hidden: int, fused: bool) -> StepTiming:
        """Return the :class:`StepTiming` of one configuration."""
        for timing in self.timings:
            if (timing.model, timing.hidden, timing.fused) == (model, hidden, fused):
                return timing
        raise ValueError(f"no timing for model={model!r}, hidden={hidden}, fused={fused}; "
                         f"configurations: {self.config.combinations()}")


def results_from_record(record: dict) -> SpeedResults:
    """Return the :class:`SpeedResults` of a record written by :func:`run_experiment`."""
    config = validate_record(record)
    timings = tuple(
        StepTiming(model=entry["model"], hidden=int(entry["hidden"]), T=config.T,
                   batch=config.batch, fused=entry["fused"],
                   seconds=np.array(entry["seconds"], dtype=np.float64),
                   cpu_seconds=np.array(entry["cpu_seconds"], dtype=np.float64))
        for entry in record["timings"]
    )
    meta = {key: record[key] for key in RECORD_KEYS if key not in ("config", "timings")}
    return SpeedResults(config=config, timings=timings, meta=meta)


def load_runs() -> SpeedResults:
    """Return the stored :class:`SpeedResults` from ``rnnbook/data/speed.json``."""
    return results_from_record(STORE.load())


def speed_table(results: SpeedResults) -> list[dict]:
    """Return one row per (fused, hidden): LSTM and GRU medians (ms) and the GRU/LSTM ratios.

    Keys: fused, hidden, lstm_ms, gru_ms, ratio (GRU / LSTM, wall clock), lstm_cpu_ms,
    gru_cpu_ms, cpu_ratio (GRU / LSTM, CPU time), flop_ratio (GRU / LSTM, matrix FLOPs).
    """
    if not isinstance(results, SpeedResults):
        raise TypeError(f"expected SpeedResults, got {type(results).__name__}")
    if not {"lstm", "gru"} <= set(results.config.models):
        raise ValueError(f"the table compares lstm and gru; the record has "
                         f"{results.config.models}")
    config = results.config
    rows = []
    for fused in config.fused:
        for hidden in config.hiddens:
            lstm, gru = (results.timing(m, hidden, fused) for m in ("lstm", "gru"))
            flops = [recurrent_flops(m, config.n_input, hidden, T=config.T,
                                     batch=config.batch).total for m in ("lstm", "gru")]
            rows.append({
                "fused": fused, "hidden": hidden,
                "lstm_ms": 1e3 * lstm.median, "gru_ms": 1e3 * gru.median,
                "ratio": gru.median / lstm.median,
                "lstm_cpu_ms": 1e3 * lstm.cpu_median, "gru_cpu_ms": 1e3 * gru.cpu_median,
                "cpu_ratio": gru.cpu_median / lstm.cpu_median,
                "flop_ratio": flops[1] / flops[0],
            })
    return rows


def format_speed_table(rows: list[dict]) -> str:
    """Return the rows of :func:`speed_table` as a fixed-width text table (3 significant digits)."""
    if not isinstance(rows, list) or not rows:
        raise ValueError("rows must be a non-empty list from speed_table")
    header = (f"{'torch path':<16}{'n':>5}{'LSTM ms':>10}{'GRU ms':>10}{'GRU/LSTM':>10}"
              f"{'(CPU time)':>12}{'FLOPs':>8}")
    lines = [header]
    for row in rows:
        path = "default (oneDNN)" if row["fused"] else "oneDNN off"
        lines.append(f"{path:<16}{row['hidden']:>5}{row['lstm_ms']:>10.3g}{row['gru_ms']:>10.3g}"
                     f"{row['ratio']:>10.2f}{row['cpu_ratio']:>12.2f}{row['flop_ratio']:>8.2f}")
    return "\n".join(lines)


#: The record as JSON text, one line per key and per row (:meth:`StoredExperiment.dump`).
dump_record = STORE.dump
#: The data file in the (editable) source tree.
default_output = STORE.default_output


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and store the timings: ``python -m rnnbook.experiments.speed [options]``."""
    parser, argv = STORE.parser(__doc__.splitlines()[0], argv)
    defaults = BenchmarkConfig()
    parser.add_argument("--hidden", type=count_arg(), nargs="+", default=list(defaults.hiddens))
    parser.add_argument("--T", type=count_arg(), default=defaults.T)
    parser.add_argument("--batch", type=count_arg(), default=defaults.batch)
    parser.add_argument("--rounds", type=count_arg(), default=defaults.rounds)
    parser.add_argument("--steps", type=count_arg(), default=defaults.steps_per_round)
    parser.add_argument("--threads", type=count_arg(), default=defaults.threads)
    args = parser.parse_args(argv)
    output = STORE.output(parser, args)
    config = BenchmarkConfig(hiddens=tuple(args.hidden), T=args.T, batch=args.batch,
                             rounds=args.rounds, steps_per_round=args.steps,
                             threads=args.threads)
    record = run_experiment(config, command=STORE.command_line(argv))
    STORE.write(output, record)
    print(format_speed_table(speed_table(results_from_record(record))))
    print(f"load average before {record['load_average']['before']}, after "
          f"{record['load_average']['after']}")
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
