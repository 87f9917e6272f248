import importlib

import pytest

# The registry's differential tests assert in their shared helpers; rewritten, a failure shows the diff.
pytest.register_assert_rewrite("_registry_compat")


@pytest.fixture(params=["prometheus_client", "pyrometer"])
def lib(request):
    """The library under test: each test body runs against both."""
    return importlib.import_module(request.param)


@pytest.fixture
def both():
    """Both libraries, for tests that compare them directly."""
    return importlib.import_module("prometheus_client"), importlib.import_module("pyrometer")


@pytest.fixture
def raises_alike(both):
    """Runs `mistake(lib, registry)` with both libraries and asserts the same exception class and text."""

    def check(mistake):
        raised = []
        for lib in both:
            with pytest.raises(Exception) as info:
                mistake(lib, lib.CollectorRegistry())
            raised.append((type(info.value).__name__, str(info.value)))
        assert raised[0] == raised[1]

    return check
