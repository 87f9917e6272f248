"""pytest plugin for prometheus_client's suite run against pyrometer (copied in as conftest.py).

Marks the tests named in ``expected_failures.txt`` as strict expected failures, and fails the
run if an entry names no test, so a stale entry cannot hide.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--expected-failures", required=True, help="the list of expected failures")


def read_expected_failures(path: Path) -> dict[str, str]:
    """Test id (``file::Class::test``) to its reason, from lines ``id  # reason``."""
    expected = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        test_id, _, reason = line.partition("#")
        if not reason.strip():
            raise pytest.UsageError(f"expected failure without a reason: {line}")
        expected[test_id.strip()] = reason.strip()
    return expected


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    expected = read_expected_failures(Path(config.getoption("--expected-failures")))
    seen = set()
    for item in items:
        reason = expected.get(item.nodeid)
        if reason is not None:
            seen.add(item.nodeid)
            item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
    unknown = sorted(set(expected) - seen)
    if unknown:
        raise pytest.UsageError(f"expected failures that name no test: {unknown}")
