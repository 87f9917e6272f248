import importlib

import pytest


@pytest.fixture(params=["prometheus_client", "pyrometer"])
def lib(request):
    """The library under test: each test body runs against both."""
    return importlib.import_module(request.param)


@pytest.fixture
def both():
    """Both libraries, for tests that compare them directly."""
    return importlib.import_module("prometheus_client"), importlib.import_module("pyrometer")
