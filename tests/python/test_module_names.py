"""Every name a prometheus_client module defines exists in pyrometer's module of the same name.

Public names are found by walking the installed prometheus_client, so a name a future upstream
release adds fails here until pyrometer has it. Private names are checked where users or
upstream's own tests reach them (the fixed list below).
"""

import __future__

import importlib
import inspect
import pkgutil
import sys
import types

import prometheus_client
import pytest

UPSTREAM_MODULES = ["prometheus_client"] + sorted(
    module.name for module in pkgutil.walk_packages(prometheus_client.__path__, "prometheus_client.")
)

# Public names upstream's modules hold that are not API, and why.
NOT_API = {
    # Left over from the vendored decorator package setting itself up for old Pythons.
    "prometheus_client.decorator": {"init", "n_args"},
    # The optional python-snappy module, or None: a slot, not a name to import.
    "prometheus_client.exposition": {"snappy"},
}

# Names outside the public set that code reaches into upstream's modules for.
REACHED_NAMES = {
    "prometheus_client.metrics": {
        # Upstream's test_core.py reads and sets the created-series switch through these.
        "_get_use_created",
        "_use_created",
        # Custom metric types and collectors build and check names with these.
        "_build_full_name",
        "_validate_labelnames",
        "_validate_metric_name",
        "_validate_exemplar",
    },
    "prometheus_client.exposition": {
        # Upstream's test_wsgi.py patches _bake_output; framework integrations call it and
        # subclass _SilentHandler.
        "_bake_output",
        "_SilentHandler",
        # Standard-library names that exporters import from upstream's exposition module.
        "make_server",
        "parse_qs",
    },
    "prometheus_client.mmap_dict": {
        # Upstream's test_multiprocess.py sizes keys by it; file tools write headers with it.
        "_INITIAL_MMAP_SIZE",
        "_pack_integer",
    },
}


def _stdlib_module(name: str) -> bool:
    return name.partition(".")[0] in sys.stdlib_module_names or name == "builtins"


def _imported_from_elsewhere(name: str, value: object) -> bool:
    """Whether upstream's module merely imports ``value`` from outside prometheus_client."""
    if inspect.isclass(value) or inspect.isfunction(value) or inspect.isbuiltin(value):
        owner = getattr(value, "__module__", None) or ""
        return not owner.startswith("prometheus_client")
    if getattr(value, "__module__", None) == "typing":
        return True  # a typing alias such as Optional[...]
    # A constant imported from the standard library: TYPE_CHECKING, sys.maxunicode, a __future__ feature.
    for module_name, module in list(sys.modules.items()):
        if module is not None and _stdlib_module(module_name) and getattr(module, name, None) is value:
            return True
    return False


def upstream_names(module: types.ModuleType) -> set:
    """The public names ``module`` defines or takes from elsewhere in prometheus_client."""
    names = set()
    for name, value in vars(module).items():
        if name.startswith("_") or isinstance(value, types.ModuleType):
            continue
        if _imported_from_elsewhere(name, value):
            continue
        names.add(name)
    return names - NOT_API.get(module.__name__, set())


@pytest.mark.parametrize("upstream_name", UPSTREAM_MODULES)
def test_every_upstream_name_exists_in_our_module_of_the_same_name(upstream_name):
    upstream = importlib.import_module(upstream_name)
    ours = importlib.import_module("pyrometer" + upstream_name[len("prometheus_client") :])
    wanted = upstream_names(upstream) | REACHED_NAMES.get(upstream_name, set())
    assert sorted(name for name in wanted if not hasattr(ours, name)) == []


def test_the_reached_names_exist_upstream():
    """The fixed list names only what upstream has, so it cannot outlive an upstream rename."""
    for module_name, names in REACHED_NAMES.items():
        upstream = importlib.import_module(module_name)
        assert sorted(name for name in names if not hasattr(upstream, name)) == []


def test_the_exclusions_are_still_upstream():
    for module_name, names in NOT_API.items():
        upstream = importlib.import_module(module_name)
        assert sorted(name for name in names if name not in vars(upstream)) == []


def test_names_imported_from_the_standard_library_are_not_asked_for():
    decorator = importlib.import_module("prometheus_client.decorator")
    names = upstream_names(decorator)
    assert "getargspec" in names and "FunctionMaker" in names
    assert not {"getfullargspec", "print_function", "_GeneratorContextManager"} & names
    assert __future__.print_function is decorator.print_function
