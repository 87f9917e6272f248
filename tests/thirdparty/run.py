"""Runs the test suites of libraries built on prometheus_client with pyrometer standing in for it.

Each library is pinned below. Its source distribution, which ships its tests, is fetched with pip
(once: it is kept in ``.cache/thirdparty``) and extracted; the library runs from that tree (on
``PYTHONPATH``), its test dependencies from ``.venv`` (``tests/thirdparty/requirements.txt``).
The suite runs twice in a subprocess: first on the real prometheus_client (the baseline), then
with ``PYROMETER_AS_PROMETHEUS_CLIENT=1``, so the library's own ``import prometheus_client``
gives pyrometer. The plugin ``standin_check.py`` fails a run whose ``prometheus_client`` is not
the library it should be.

Tests that fail on the real prometheus_client too (a database driver the suite needs, a check of
the library's own installed metadata) are deselected in both runs, each with its reason, in
``deselected.txt``. Every other test must pass in both.

Usage: python tests/thirdparty/run.py [--only NAME] [--no-baseline] [pytest arguments...]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CACHE = ROOT / ".cache" / "thirdparty"
VARIABLE = "PYROMETER_AS_PROMETHEUS_CLIENT"


@dataclass(frozen=True)
class Suite:
    """One library's test suite, as its source distribution ships it."""

    name: str
    version: str
    source: str  # the folder of the sdist that holds the package, for PYTHONPATH
    tests: tuple[str, ...]  # the test paths, relative to the sdist's root
    # Files the tests read that the sdist leaves out (path: content).
    missing_files: dict[str, str] = field(default_factory=dict)

    @property
    def archive_stem(self) -> str:
        return f"{self.name.replace('-', '_')}-{self.version}"


SUITES = (
    Suite(
        "starlette-exporter",
        "0.24.0",
        ".",
        ("tests",),
        missing_files={"tests/static/test.txt": "a static file\n"},
    ),
    Suite("prometheus-async", "26.1.0", "src", ("tests",)),
    Suite("django-prometheus", "2.5.0", ".", ("django_prometheus/tests",)),
    Suite("opentelemetry-exporter-prometheus", "0.66b2", "src", ("tests",)),
)


def fetch(suite: Suite) -> Path:
    sdist = CACHE / f"{suite.archive_stem}.tar.gz"
    if not sdist.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                "--no-binary", ":all:", "--no-deps", "--dest", str(CACHE),
                f"{suite.name}=={suite.version}",
            ],
            check=True,
        )
    return sdist


def extract(suite: Suite, sdist: Path) -> Path:
    """A fresh copy of the sdist's tree in the cache; returns its root."""
    root = CACHE / suite.archive_stem
    if root.exists():
        shutil.rmtree(root)
    with tarfile.open(sdist) as archive:
        archive.extractall(CACHE, filter="data")
    for relative, content in suite.missing_files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return root


def deselected(suite: Suite) -> list[str]:
    """The node ids of ``deselected.txt`` for this suite, from lines ``name node-id  # reason``."""
    ids = []
    for line in (HERE / "deselected.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        entry, _, reason = line.partition("#")
        name, _, node_id = entry.strip().partition(" ")
        if not reason.strip() or not node_id.strip():
            sys.exit(f"deselected.txt: every line needs a library, a test and a reason: {line}")
        if name == suite.name:
            ids.append(node_id.strip())
    return ids


def run_suite(suite: Suite, root: Path, library: str, argv: list[str]) -> int:
    """Runs the suite with ``library`` as prometheus_client; returns pytest's exit code."""
    env = dict(os.environ)
    env.pop(VARIABLE, None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if library == "pyrometer":
        env[VARIABLE] = "1"
    env["STANDIN_CHECK_EXPECT"] = library
    paths = [str(root / suite.source), str(HERE)]
    env["PYTHONPATH"] = os.pathsep.join(paths + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    command = [
        sys.executable, "-m", "pytest", *suite.tests,
        "--rootdir", str(root), "-p", "standin_check", "-p", "no:cacheprovider",
        *[arg for node_id in deselected(suite) for arg in ("--deselect", node_id)],
        *argv,
    ]
    print(f"\n== {suite.name} {suite.version} on {library}", flush=True)
    return subprocess.call(command, cwd=root, env=env)


def main(argv: list[str]) -> int:
    only = None
    baseline = True
    rest = []
    args = iter(argv)
    for arg in args:
        if arg == "--only":
            only = next(args, None)
        elif arg == "--no-baseline":
            baseline = False
        else:
            rest.append(arg)
    suites = [s for s in SUITES if only in (None, s.name)]
    if not suites:
        sys.exit(f"no suite named {only!r}; there are {[s.name for s in SUITES]}")
    results = []
    for suite in suites:
        root = extract(suite, fetch(suite))
        for library in ("prometheus_client", "pyrometer") if baseline else ("pyrometer",):
            results.append((suite, library, run_suite(suite, root, library, rest)))
    print("\n== third-party suites")
    for suite, library, code in results:
        print(f"{suite.name} {suite.version} on {library}: {'passed' if code == 0 else f'FAILED (pytest exit {code})'}")
    failed = [r for r in results if r[2] != 0]
    print(f"suites: {len(results) - len(failed)} passed, {len(failed)} failed")
    if any(library == "prometheus_client" for _, library, _ in failed):
        print("a baseline run failed: are the suites' dependencies installed? "
              "(.venv/bin/python -m pip install -r tests/thirdparty/requirements.txt)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
