"""pytest plugin for the third-party suites (``-p standin_check``): fails the run unless
``prometheus_client`` is the library ``STANDIN_CHECK_EXPECT`` names.

``pyrometer``: every ``prometheus_client`` module the suite imported is the pyrometer module of
the same name (the stand-in is in effect). ``prometheus_client``: none of them is pyrometer's
(the baseline runs the real package). Checked as the session starts and again as it ends, once
the suite has imported what it uses.
"""

from __future__ import annotations

import os
import sys

import pytest

EXPECT = os.environ.get("STANDIN_CHECK_EXPECT", "")


def _wrong_modules() -> list[str]:
    """The ``prometheus_client`` modules in this process that are not the expected library's."""
    wrong = []
    for name, module in list(sys.modules.items()):
        if name != "prometheus_client" and not name.startswith("prometheus_client."):
            continue
        ours = sys.modules.get("pyrometer" + name[len("prometheus_client") :])
        if (module is ours) != (EXPECT == "pyrometer"):
            wrong.append(f"{name} ({getattr(module, '__file__', None)})")
    return wrong


def pytest_configure(config: pytest.Config) -> None:
    if EXPECT not in ("pyrometer", "prometheus_client"):
        raise pytest.UsageError("STANDIN_CHECK_EXPECT must be pyrometer or prometheus_client")
    import prometheus_client

    if EXPECT == "pyrometer" and sys.modules["prometheus_client"] is not sys.modules.get("pyrometer"):
        raise pytest.UsageError(f"the stand-in is not in effect: prometheus_client is {prometheus_client.__file__}")
    wrong = _wrong_modules()
    if wrong:
        raise pytest.UsageError(f"prometheus_client is not {EXPECT} here: {wrong}")


def pytest_report_header(config: pytest.Config) -> str:
    import prometheus_client

    return f"prometheus_client is {prometheus_client.__name__} ({prometheus_client.__file__})"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    wrong = _wrong_modules()
    if wrong:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"standin_check: prometheus_client modules that are not {EXPECT}'s: {wrong}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
