"""pyrometer standing in for prometheus_client (pyrometer.standin): each test runs its scenario in a
fresh interpreter, since the stand-in changes how the whole process imports."""

import os
import subprocess
import sys
import sysconfig
import textwrap
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PTH = ROOT / "python" / "pyrometer.data" / "purelib" / "pyrometer_standin.pth"
VARIABLE = "PYROMETER_AS_PROMETHEUS_CLIENT"
TIMEOUT = 60


def run(*parts, env=None):
    """Runs the code `parts` in a new interpreter (the variable unset unless `env` sets it);
    returns its stdout, failing with its stderr if it fails."""
    environment = {k: v for k, v in os.environ.items() if k not in (VARIABLE, "PROMETHEUS_MULTIPROC_DIR")}
    environment.update(env or {})
    result = subprocess.run(
        [sys.executable, "-c", "\n".join(textwrap.dedent(part) for part in parts)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


# Asserts that no module of the real package was loaded: every prometheus_client entry is ours.
NOTHING_REAL = """
import sys
for name, module in list(sys.modules.items()):
    if name == "prometheus_client" or name.startswith("prometheus_client."):
        assert module is sys.modules["pyrometer" + name[len("prometheus_client"):]], name
        assert "site-packages/prometheus_client/" not in (getattr(module, "__file__", None) or ""), name
"""


def test_every_prometheus_client_module_is_the_pyrometer_module_of_the_same_name():
    run(
        """
        import importlib, pkgutil, sys
        import pyrometer
        pyrometer.install()
        import prometheus_client
        assert prometheus_client is pyrometer
        names = ["core", "openmetrics.exposition", "openmetrics.parser", "bridge.graphite"]
        names += [m.name.partition(".")[2] for m in pkgutil.walk_packages(pyrometer.__path__, "pyrometer.")]
        checked = 0
        for name in names:
            if any(part.startswith("_") for part in name.split(".")):
                continue
            alias = importlib.import_module("prometheus_client." + name)
            assert alias is importlib.import_module("pyrometer." + name), name
            assert sys.modules["prometheus_client." + name] is alias
            assert alias.__spec__.name == "pyrometer." + name, "the module keeps its own spec"
            checked += 1
        assert checked >= 20, checked
        from prometheus_client.core import CollectorRegistry
        assert CollectorRegistry is pyrometer.CollectorRegistry
        assert importlib.util.find_spec("prometheus_client") is not None
        """,
        NOTHING_REAL,
    )


def test_mock_patch_through_the_alias_reaches_pyrometer():
    run(
        """
        from unittest import mock
        import pyrometer
        pyrometer.install()
        import pyrometer.exposition
        with mock.patch("prometheus_client.exposition.generate_latest", return_value=b"patched"):
            assert pyrometer.exposition.generate_latest() == b"patched"
            from prometheus_client.exposition import generate_latest
            assert generate_latest() == b"patched"
        assert pyrometer.exposition.generate_latest() != b"patched"
        """
    )


def test_isinstance_holds_across_the_two_names():
    run(
        """
        import pyrometer
        pyrometer.install()
        import prometheus_client
        from prometheus_client.metrics_core import GaugeMetricFamily
        from prometheus_client.registry import CollectorRegistry
        registry = pyrometer.CollectorRegistry()
        counter = pyrometer.Counter("c", "C.", registry=registry)
        assert isinstance(counter, prometheus_client.Counter)
        assert isinstance(pyrometer.metrics_core.GaugeMetricFamily("g", "G.", value=1), GaugeMetricFamily)
        assert isinstance(registry, CollectorRegistry)
        assert isinstance(prometheus_client.Gauge("g", "G.", registry=None), pyrometer.Gauge)
        """
    )


def test_install_refuses_when_the_real_package_was_imported_first():
    out = run(
        """
        import sys
        import prometheus_client, pyrometer
        finders = list(sys.meta_path)
        try:
            pyrometer.install()
        except RuntimeError as error:
            print(error)
        else:
            raise AssertionError("install() accepted a process that already has the real package")
        assert sys.meta_path == finders
        assert sys.modules["prometheus_client"] is prometheus_client
        """
    )
    assert "real package is already imported (prometheus_client" in out
    assert "before anything imports prometheus_client" in out


def test_install_twice_is_harmless():
    run(
        """
        import importlib, sys
        import pyrometer
        from pyrometer import standin
        pyrometer.install()
        import prometheus_client
        pyrometer.install()
        standin.install()
        importlib.reload(standin)
        standin.install()
        assert sum(getattr(finder, "_pyrometer_standin", False) for finder in sys.meta_path) == 1
        assert prometheus_client is pyrometer
        """
    )


def test_a_module_pyrometer_lacks_is_not_found_rather_than_loaded_from_the_real_package():
    run(
        """
        import pyrometer
        pyrometer.install()
        try:
            import prometheus_client.no_such_module
        except ModuleNotFoundError as error:
            assert error.name == "prometheus_client.no_such_module", error.name
            assert "pyrometer stands in" in str(error)
        else:
            raise AssertionError("imported a module that does not exist")
        """,
        NOTHING_REAL,
    )


def test_metadata_answers_from_the_real_distribution_where_it_is_installed():
    out = run(
        """
        import pyrometer
        pyrometer.install()
        from importlib import metadata
        print(metadata.version("prometheus_client"), metadata.version("prometheus-client"))
        print(metadata.metadata("prometheus_client")["Summary"])
        assert sum(d.metadata["Name"].lower().replace("-", "_") == "prometheus_client"
                   for d in metadata.distributions()) == 1
        """
    )
    version, summary = out.splitlines()
    assert version == "0.26.0 0.26.0"
    assert "pyrometer" not in summary


def test_metadata_has_a_stand_in_distribution_where_the_real_one_is_not_installed():
    out = run(
        """
        import sys
        import pyrometer
        pyrometer.install()
        import prometheus_client
        # Hides every installed distribution, the real prometheus_client's with them.
        sys.path[:] = [p for p in sys.path if "-packages" not in p]
        from importlib import metadata
        print(metadata.version("prometheus_client"), metadata.version("Prometheus-Client"))
        print(metadata.metadata("prometheus_client")["Summary"])
        print(metadata.packages_distributions()["prometheus_client"])
        """
    )
    version, summary, distributions = out.splitlines()
    assert version == "0.26.0 0.26.0"
    assert "pyrometer standing in for prometheus_client" in summary
    assert distributions == "['prometheus_client']"


def test_the_environment_variable_installs_the_stand_in_at_start():
    code = """
        import sys
        import prometheus_client
        print(prometheus_client.__name__)
        """
    assert run(code, NOTHING_REAL, env={VARIABLE: "1"}).strip() == "pyrometer"
    assert run(code, env={VARIABLE: "0"}).strip() == "prometheus_client"
    assert run(code, env={VARIABLE: ""}).strip() == "prometheus_client"


def test_without_the_variable_the_start_up_hook_imports_nothing():
    assert run("import sys; print('pyrometer' in sys.modules)").strip() == "False"


def test_the_start_up_hook_and_the_launcher_are_installed_with_the_package():
    # Both come from the build (pyproject.toml: [tool.maturin] data, [project.scripts]); a
    # failure here means the installed package predates them: reinstall it (maturin develop).
    installed = Path(sysconfig.get_paths()["purelib"]) / PTH.name
    assert installed.read_text() == PTH.read_text(), f"{installed} is missing or stale"
    files = [str(f) for f in metadata.files("pyrometer") or []]
    assert PTH.name in files, "the .pth file is not in pyrometer's RECORD: reinstall pyrometer"
    scripts = {e.name: e.value for e in metadata.entry_points(group="console_scripts")}
    assert scripts.get("pyrometer-run") == "pyrometer.standin:run"


def test_the_launcher_runs_a_command_whose_python_processes_see_the_stand_in():
    child = textwrap.dedent(
        """
        import subprocess, sys
        import prometheus_client, pyrometer
        assert prometheus_client is pyrometer
        grandchild = "import prometheus_client, pyrometer; assert prometheus_client is pyrometer"
        subprocess.run([sys.executable, "-c", grandchild], check=True, timeout=60)
        print("stand-in seen")
        """
    )
    environment = {k: v for k, v in os.environ.items() if k != VARIABLE}
    result = subprocess.run(
        [sys.executable, "-m", "pyrometer.standin", sys.executable, "-c", child],
        env=environment,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "stand-in seen"


def test_the_launcher_reports_a_missing_command_and_a_missing_argument():
    launcher = [sys.executable, "-m", "pyrometer.standin"]
    missing = subprocess.run([*launcher, "no-such-command-here"], capture_output=True, text=True, timeout=TIMEOUT)
    assert missing.returncode == 127
    assert "no-such-command-here: command not found" in missing.stderr
    bare = subprocess.run(launcher, capture_output=True, text=True, timeout=TIMEOUT)
    assert bare.returncode == 2
    assert "usage: pyrometer-run CMD" in bare.stderr


# Writes prometheus_client's own .db files, as a process that runs the real package does.
UPSTREAM_WRITER = """
import prometheus_client as p
p.Counter("up_requests", "Requests.", ["method"]).labels("GET").inc(2)
h = p.Histogram("up_latency", "Latency.", buckets=[1, 2])
h.observe(0.5)
h.observe(1.5)
p.Gauge("up_in_progress", "In progress.", multiprocess_mode="livesum").set(4)
p.Gauge("up_temperature", "Temperature.").set(7)
p.Summary("up_size", "Size.").observe(3)
p.Counter("shared", "In both stores.").inc(5)
"""


@pytest.fixture
def upstream_files(tmp_path):
    run(UPSTREAM_WRITER, env={"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})
    assert sorted(p.name.partition("_")[0] for p in tmp_path.glob("*.db")) == ["counter", "gauge", "gauge", "histogram", "summary"]
    return tmp_path


def test_upstream_db_files_are_merged_into_the_scrape_as_prometheus_client_merges_them(upstream_files):
    out = run(
        """
        import warnings
        warnings.simplefilter("error")
        import prometheus_client, pyrometer
        from prometheus_client import multiprocess as upstream_mp, parser as upstream_parser
        from pyrometer import multiprocess
        ours = pyrometer.CollectorRegistry()
        multiprocess.MultiProcessCollector(ours)
        theirs = prometheus_client.CollectorRegistry()
        upstream_mp.MultiProcessCollector(theirs)
        def families(text):
            return sorted((f.name, f.type, sorted(map(tuple, f.samples), key=repr))
                          for f in upstream_parser.text_string_to_metric_families(text.decode()))
        assert families(pyrometer.generate_latest(ours)) == families(prometheus_client.generate_latest(theirs))
        print(len(families(pyrometer.generate_latest(ours))))
        """,
        env={"PROMETHEUS_MULTIPROC_DIR": str(upstream_files)},
    )
    assert out.strip() == "6"


def test_an_upstream_family_the_store_also_has_is_left_out_with_one_warning(upstream_files):
    out = run(
        """
        import warnings
        import pyrometer
        from pyrometer import multiprocess
        pyrometer.Counter("shared", "In both stores.").inc(1)
        registry = pyrometer.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            first = pyrometer.generate_latest(registry).decode()
            second = pyrometer.generate_latest(registry).decode()
        assert first == second
        assert first.count("# TYPE shared_total counter") == 1 and "shared_total 1.0" in first, first
        assert 'up_requests_total{method="GET"} 2.0' in first, first
        assert len(caught) == 1, [str(w.message) for w in caught]
        print(caught[0].message)
        """,
        env={"PROMETHEUS_MULTIPROC_DIR": str(upstream_files)},
    )
    assert out.startswith("shared: series from .db files in")
    assert "not added up" in out


def test_upstream_db_files_are_reported_once_each_where_they_cannot_be_read(upstream_files):
    (upstream_files / "counter_999.db").write_bytes(b"\xff\xff\xff\x7f" + b"\0" * 60)
    (upstream_files / "cache.db").write_bytes(b"SQLite format 3\0")
    out = run(
        """
        import os, warnings
        import pyrometer
        import pyrometer.mmap_dict
        from pyrometer import multiprocess
        registry = pyrometer.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            text = pyrometer.generate_latest(registry).decode()
            pyrometer.generate_latest(registry)
        # The corrupt file is reported and left out; the others are read.
        assert 'up_requests_total{method="GET"} 2.0' in text, text
        assert sorted(os.path.basename(str(w.message).partition(":")[0]) for w in caught) == ["cache.db", "counter_999.db"]
        # A pyrometer whose mmap_dict has no reader reports every file, once.
        del pyrometer.mmap_dict.MmapedDict.read_all_values_from_file
        registry = pyrometer.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            text = pyrometer.generate_latest(registry).decode()
            pyrometer.generate_latest(registry)
        assert "up_requests" not in text
        for warning in caught:
            print(warning.message)
        """,
        env={"PROMETHEUS_MULTIPROC_DIR": str(upstream_files)},
    )
    lines = out.splitlines()
    # cache.db and counter_999.db were reported already in this process; the five others now are.
    assert len(lines) == 5, lines
    assert all("multiprocess file in prometheus_client's format, left out" in line for line in lines)
