"""The shared record helpers, and that every stored result file round-trips byte for byte."""

import json
import math

import pytest

from rnnbook import clipping_experiment, lag_experiment, longlag, records, speed

STORED = [clipping_experiment, lag_experiment, longlag, speed]


@pytest.mark.parametrize("module", STORED, ids=lambda module: module.__name__)
def test_stored_file_is_what_dump_record_writes(module):
    text = module.default_output().read_text(encoding="utf-8")
    assert module.dump_record(json.loads(text)) == text


def test_dump_record_puts_one_row_per_line():
    text = records.dump_record({"a": 1, "runs": [{"x": 1}, {"x": 2}], "b": [3, 4]}, ("runs",))
    assert text.splitlines() == ["{", ' "a": 1,', ' "runs": [', '  {"x": 1},', '  {"x": 2}',
                                 " ],", ' "b": [3, 4]', "}"]
    assert json.loads(text) == {"a": 1, "runs": [{"x": 1}, {"x": 2}], "b": [3, 4]}


def test_dump_record_can_refuse_nan():
    record = {"runs": [{"loss": math.nan}]}
    assert "NaN" in records.dump_record(record, ("runs",))
    with pytest.raises(ValueError):
        records.dump_record(record, ("runs",), allow_nan=False)


def test_missing_data_file_names_the_command():
    with pytest.raises(FileNotFoundError, match="python -m rnnbook.nothing"):
        records.load_record("no_such_file.json", "python -m rnnbook.nothing")


def test_write_record_creates_the_folder(tmp_path):
    path = tmp_path / "deeper" / "record.json"
    records.write_record(path, "{}\n")
    assert path.read_text(encoding="utf-8") == "{}\n"


def test_software_versions_name_the_stack():
    assert set(records.software_versions()) == {"python", "numpy", "torch"}
