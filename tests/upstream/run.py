"""Runs prometheus_client's own test suite against pyrometer.

The suite ships in upstream's source distribution. This script fetches that sdist with pip
(once: it is kept in ``.cache/upstream``), extracts its ``tests/``, rewrites every reference to
``prometheus_client`` into ``pyrometer``, and runs it with pytest against the installed package.

Each test passes, or is named in ``expected_failures.txt`` with the row of ``docs/compat.md``
that explains it. Those tests run as strict expected failures: one that starts passing fails the
run, so the list can only shrink.

Usage: python tests/upstream/run.py [pytest arguments...]
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

VERSION = "0.26.0"
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CACHE = ROOT / ".cache" / "upstream"
SDIST = CACHE / f"prometheus_client-{VERSION}.tar.gz"
WORK = CACHE / f"tests-{VERSION}"

# Whole words only: ``prometheus_client`` in imports, strings given to mock.patch, and reprs.
UPSTREAM_NAME = re.compile(r"\bprometheus_client\b")


def fetch_sdist() -> Path:
    if not SDIST.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                "--no-binary", ":all:", "--no-deps", "--dest", str(CACHE),
                f"prometheus_client=={VERSION}",
            ],
            check=True,
        )
    return SDIST


def extract_tests(sdist: Path) -> Path:
    """Lays out upstream's tests in ``WORK``, rewritten for pyrometer; returns the tests folder."""
    if WORK.exists():
        shutil.rmtree(WORK)
    prefix = f"prometheus_client-{VERSION}/tests/"
    with tarfile.open(sdist) as archive:
        members = [m for m in archive.getmembers() if m.name.startswith(prefix)]
        archive.extractall(WORK, members=members, filter="data")
    tests = WORK / f"prometheus_client-{VERSION}" / "tests"
    for path in tests.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        path.write_text(UPSTREAM_NAME.sub("pyrometer", text), encoding="utf-8")
    shutil.copy(HERE / "conftest_upstream.py", tests / "conftest.py")
    return tests


def main(argv: list[str]) -> int:
    tests = extract_tests(fetch_sdist())
    command = [
        sys.executable, "-m", "pytest", str(tests),
        "--rootdir", str(tests), "-p", "no:cacheprovider",
        f"--expected-failures={HERE / 'expected_failures.txt'}",
        *argv,
    ]
    return subprocess.call(command, cwd=tests)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
