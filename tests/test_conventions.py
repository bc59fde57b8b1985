"""The package speaks one vocabulary (see the glossary in rnnbook's docstring): checked here."""

import dataclasses
import importlib
import inspect
import pkgutil

import pytest

import rnnbook
from rnnbook import jacobian

MODULES = [importlib.import_module(info.name)
           for info in pkgutil.walk_packages(rnnbook.__path__, "rnnbook.")]
#: Frozen dataclasses that keep value equality: configurations and specs, scalars only.
VALUE_CLASSES = {"Activation", "Loss", "TaskSpec"}
#: Names the glossary retired, with the name that replaced them. ``eta`` was the bound
#: gamma sigma_max(W); the book keeps eta for the learning rate (tests/test_notation.py).
RETIRED = {"recurrent_scale": "g", "spectral_radius": "rho", "seq_len": "T", "eta": "kappa"}


def is_dataclass_type(member) -> bool:
    return inspect.isclass(member) and dataclasses.is_dataclass(member)


def own_members(predicate):
    for module in MODULES:
        for name, member in inspect.getmembers(module, predicate):
            if getattr(member, "__module__", None) == module.__name__:
                yield f"{module.__name__}.{name}", member


def test_top_level_namespace_is_explicit():
    assert sorted(rnnbook.__all__) == rnnbook.__all__
    homes = [module for module in MODULES if not module.__name__.startswith("rnnbook.plots")]
    for name in rnnbook.__all__:
        member = getattr(rnnbook, name)
        assert any(vars(module).get(name) is member for module in homes), name


def test_dataclasses_are_frozen_and_results_have_no_value_equality():
    found = list(own_members(is_dataclass_type))
    assert len(found) > 40
    for name, cls in found:
        params = cls.__dataclass_params__
        assert params.frozen, name
        if params.eq:
            assert cls.__name__.endswith("Config") or cls.__name__ in VALUE_CLASSES, name


def test_exactly_one_span_products():
    owners = {module.__name__ for module in MODULES
              if getattr(module, "span_products", None) is not None
              and module.span_products is not jacobian.span_products}
    assert owners == set()
    assert jacobian.span_products.__module__ == "rnnbook.jacobian"


@pytest.mark.parametrize("kind", ["function", "dataclass field"])
def test_retired_parameter_names_are_gone(kind):
    used = []
    if kind == "function":
        for name, function in own_members(inspect.isfunction):
            used += [(name, p) for p in inspect.signature(function).parameters if p in RETIRED]
        for name, cls in own_members(inspect.isclass):
            for attribute, member in vars(cls).items():
                if inspect.isfunction(member) or isinstance(member, classmethod):
                    function = member.__func__ if isinstance(member, classmethod) else member
                    used += [(f"{name}.{attribute}", p)
                             for p in inspect.signature(function).parameters if p in RETIRED]
    else:
        for name, cls in own_members(is_dataclass_type):
            used += [(name, f.name) for f in dataclasses.fields(cls) if f.name in RETIRED]
    assert used == []


def test_explorer_describe_functions_take_the_result_only():
    for name, function in own_members(inspect.isfunction):
        if name.rsplit(".", 1)[1].startswith("describe_"):
            required = [p for p in inspect.signature(function).parameters.values()
                        if p.default is inspect.Parameter.empty]
            assert len(required) == 1, name
