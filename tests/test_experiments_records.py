"""The shared record helpers, and that every stored result file round-trips byte for byte."""

import json
import math

import numpy as np
import pytest

from rnnbook.experiments import after_gates, clipping, lag, longlag, records, speed

STORED = [after_gates, clipping, lag, longlag, speed]


@pytest.mark.parametrize("module", STORED, ids=lambda module: module.__name__)
def test_stored_file_is_what_dump_record_writes(module):
    text = module.default_output().read_text(encoding="utf-8")
    assert module.dump_record(json.loads(text)) == text


def test_dump_record_puts_one_row_per_line():
    text = records.dump_record({"a": 1, "runs": [{"x": 1}, {"x": 2}], "b": [3, 4]}, ("runs",))
    assert text.splitlines() == ["{", ' "a": 1,', ' "runs": [', '  {"x": 1},', '  {"x": 2}',
                                 " ],", ' "b": [3, 4]', "}"]
    assert json.loads(text) == {"a": 1, "runs": [{"x": 1}, {"x": 2}], "b": [3, 4]}


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_dump_record_refuses_non_finite_values(value):
    with pytest.raises(ValueError):
        records.dump_record({"runs": [{"loss": value}]}, ("runs",))
    with pytest.raises(ValueError):
        records.dump_record({"loss": value}, ("runs",))


@pytest.mark.parametrize("module", STORED, ids=lambda module: module.__name__)
def test_every_experiment_has_the_same_shape(module):
    store = module.STORE
    assert store.module == module.__name__
    assert store.command == f"python -m {module.__name__}"
    assert module.default_output() == store.default_output()
    for name in ("run_experiment", "dump_record", "results_from_record", "load_runs", "main"):
        assert callable(getattr(module, name)), name
    assert type(module.load_runs()).__name__.endswith("Results")


def test_json_floats_round_trip_non_finite_values():
    values = [1.5, math.nan, math.inf, -math.inf, 0.1]
    written = records.json_floats(values)
    assert written[1:4] == ["nan", "inf", "-inf"]
    assert json.loads(records.dump_record({"v": written}, ()))["v"] == written
    np.testing.assert_array_equal(records.read_floats(written), values)
    assert records.json_floats([0.1], float32=True) == [float(str(np.float32(0.1)))]
    for bad in (["nan", "NaN"], [True], "1.0"):
        with pytest.raises(ValueError, match="the strings 'nan'"):
            records.read_floats(bad)


def test_missing_data_file_names_the_command():
    with pytest.raises(FileNotFoundError, match="python -m rnnbook.nothing"):
        records.load_record("no_such_file.json", "python -m rnnbook.nothing")


def test_write_record_creates_the_folder(tmp_path):
    path = tmp_path / "deeper" / "record.json"
    records.write_record(path, "{}\n")
    assert path.read_text(encoding="utf-8") == "{}\n"


def test_software_versions_name_the_stack():
    assert set(records.software_versions()) == {"python", "numpy", "torch"}
