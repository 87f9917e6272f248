"""The process, platform and GC collectors produce what prometheus_client's do."""

import gc
import importlib
import os
import platform

import pytest

PAGESIZE = os.sysconf("SC_PAGESIZE")
TICKS = os.sysconf("SC_CLK_TCK")
BTIME = 1700000000

# Fields after the command name, numbered as in proc(5) minus three: utime is [11], stime [12],
# starttime [19], vsize [20] and rss [21].
_STAT_TAIL = (
    "S 1 42 42 0 -1 4194560 2500 0 12 0 1234 567 0 0 20 0 3 0 98765 123456789 4321 "
    "18446744073709551615 1 1 0 0 0 0 0 16781312 134234626 0 0 0 17 1 0 0 0 0 0"
)

_LIMITS = """\
Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max processes             96364                96364                processes
Max open files            20000                524288               files
Max locked memory         8388608              8388608              bytes
"""


def _module(lib, name):
    return importlib.import_module(f"{lib.__name__}.{name}")


def _modules(both, name):
    return [_module(lib, name) for lib in both]


def _shape(metrics, values=True):
    """Everything a scrape sees of `metrics`, as plain data comparable across the two libraries."""
    shaped = []
    for m in metrics:
        samples = [
            (s.name, dict(s.labels), (type(s.value).__name__, s.value) if values else None, s.timestamp, s.exemplar,
             s.native_histogram)
            for s in m.samples
        ]
        shaped.append((m.name, m.documentation, m.type, m.unit, samples))
    return shaped


def _write_process(proc, pid, command="(python3)", fds=3, limits=_LIMITS, stat=True):
    process = proc / str(pid)
    process.mkdir(parents=True)
    if stat:
        (process / "stat").write_text(f"{pid} {command} {_STAT_TAIL}\n")
    if limits is not None:
        (process / "limits").write_text(limits)
    if fds is not None:
        (process / "fd").mkdir()
        for fd in range(fds):
            (process / "fd" / str(fd)).write_text("")


@pytest.fixture
def fake_proc(tmp_path):
    """A procfs tree with fixed contents for pid 4242 and for `self`."""
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "stat").write_text(f"cpu  1 2 3 4\nintr 5\nctxt 6\nbtime {BTIME}\nprocesses 7\n")
    _write_process(proc, 4242, fds=5)
    _write_process(proc, "self", command="(my) odd (name))", fds=2)
    return proc


class RecordingRegistry:
    """Stands in for a registry and remembers what was registered."""

    def __init__(self):
        self.registered = []

    def register(self, collector):
        self.registered.append(collector)


def _collect_both(both, module, make):
    return [_shape(make(m).collect()) for m in _modules(both, module)]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"namespace": "app"},
        {"pid": lambda: 4242},
        {"pid": lambda: " 4242\n", "namespace": "svc"},
    ],
    ids=["self", "namespace", "int-pid", "padded-pid"],
)
def test_process_metrics_from_a_fake_proc_are_identical(both, fake_proc, kwargs):
    want, got = _collect_both(both, "process_collector",
                              lambda m: m.ProcessCollector(proc=str(fake_proc), registry=None, **kwargs))
    assert got == want
    assert [name for name, *_ in got] == [
        f"{kwargs['namespace']}_process_{n}" if "namespace" in kwargs else f"process_{n}"
        for n in ("virtual_memory_bytes", "resident_memory_bytes", "start_time_seconds", "cpu_seconds",
                  "open_fds", "max_fds")
    ]


def test_process_values_are_read_from_the_stat_limits_and_fd_entries(lib, fake_proc):
    pc = _module(lib, "process_collector").ProcessCollector(pid=lambda: 4242, proc=str(fake_proc), registry=None)
    values = {s.name: s.value for m in pc.collect() for s in m.samples}
    assert values == {
        "process_virtual_memory_bytes": 123456789.0,
        "process_resident_memory_bytes": 4321.0 * PAGESIZE,
        "process_start_time_seconds": 98765 / TICKS + BTIME,
        "process_cpu_seconds_total": 1234 / TICKS + 567 / TICKS,
        "process_open_fds": 5,
        "process_max_fds": 20000.0,
    }


def test_namespace_prefixes_every_metric_name(lib, fake_proc):
    pc = _module(lib, "process_collector").ProcessCollector(namespace="ns", proc=str(fake_proc), registry=None)
    metrics = list(pc.collect())
    assert len(metrics) == 6
    assert all(m.name.startswith("ns_process_") for m in metrics)


@pytest.mark.parametrize(
    "layout",
    ["no-proc", "no-btime", "no-pid", "no-stat", "no-limits", "no-fd-dir", "empty-fd-dir"],
)
def test_unreadable_proc_parts_are_left_out_alike(both, tmp_path, layout):
    proc = tmp_path / "proc"
    if layout != "no-proc":
        proc.mkdir()
        btime = "" if layout == "no-btime" else f"btime {BTIME}\n"
        (proc / "stat").write_text(f"cpu  1 2 3 4\n{btime}")
        if layout != "no-pid":
            _write_process(
                proc, 7,
                stat=layout != "no-stat",
                limits=None if layout == "no-limits" else _LIMITS,
                fds={"no-fd-dir": None, "empty-fd-dir": 0}.get(layout, 1),
            )
    want, got = _collect_both(both, "process_collector",
                              lambda m: m.ProcessCollector(pid=lambda: 7, proc=str(proc), registry=None))
    assert got == want
    expected = {"no-proc": 0, "no-btime": 0, "no-pid": 0, "no-stat": 2, "no-limits": 4, "no-fd-dir": 4,
                "empty-fd-dir": 6}
    assert len(got) == expected[layout]


def test_the_proc_tree_is_read_afresh_on_each_collect(both, fake_proc):
    for module in _modules(both, "process_collector"):
        pc = module.ProcessCollector(pid=lambda: 4242, proc=str(fake_proc), registry=None)
        before = {m.name: m.samples[0].value for m in pc.collect()}
        (fake_proc / "4242" / "fd" / "99").write_text("")
        after = {m.name: m.samples[0].value for m in pc.collect()}
        assert after["process_open_fds"] == before["process_open_fds"] + 1
        (fake_proc / "4242" / "fd" / "99").unlink()


def test_live_process_metrics_match_by_name_and_roughly_by_value(both):
    if not os.path.exists("/proc/self/stat"):
        pytest.skip("needs procfs")
    upstream, ours = _modules(both, "process_collector")
    want = list(upstream.ProcessCollector(registry=None).collect())
    got = list(ours.ProcessCollector(registry=None).collect())
    assert _shape(got, values=False) == _shape(want, values=False)
    assert len(got) == 6
    for w, g in zip(want, got):
        tolerance = {"process_cpu_seconds_total": 1.0, "process_open_fds": 8}.get(w.samples[0].name, 0)
        if w.name.endswith("memory_bytes"):
            tolerance = 64 * 1024 * 1024
        assert g.samples[0].value == pytest.approx(w.samples[0].value, abs=tolerance), w.name


def test_process_collector_registers_only_when_given_a_registry(lib, fake_proc):
    module = _module(lib, "process_collector")
    registry = RecordingRegistry()
    pc = module.ProcessCollector(proc=str(fake_proc), registry=registry)
    assert registry.registered == [pc]
    # A missing proc tree still registers; the collector just reports nothing.
    absent = module.ProcessCollector(proc=str(fake_proc / "absent"), registry=registry)
    assert registry.registered == [pc, absent]
    assert list(absent.collect()) == []


class FakePlatform:
    """Answers the `platform` calls the platform collector makes, with fixed values."""

    def __init__(self, system="Linux"):
        self._system = system

    def python_version_tuple(self):
        return ("3", "99", "7")

    def python_version(self):
        return "3.99.7"

    def python_implementation(self):
        return "FakePython"

    def system(self):
        return self._system

    def java_ver(self):
        return ("17.0.2", "Example Vendor", ("OpenJDK 64-Bit Server VM", "17.0.2+8", "Example Corp"),
                ("Linux", "6.1", "amd64"))


@pytest.mark.parametrize("system", ["Linux", "Java"])
def test_platform_info_from_a_fake_platform_is_identical(both, system):
    want, got = _collect_both(both, "platform_collector",
                              lambda m: m.PlatformCollector(registry=None, platform=FakePlatform(system)))
    assert got == want
    labels = got[0][4][0][1]
    assert got[0][4][0][2] == ("int", 1)
    assert labels["version"] == "3.99.7" and labels["implementation"] == "FakePython"
    assert ("jvm_vendor" in labels) == (system == "Java")


def test_platform_info_for_the_running_interpreter_is_identical(both):
    want, got = _collect_both(both, "platform_collector", lambda m: m.PlatformCollector(registry=None))
    assert got == want
    assert got[0][4][0][1]["version"] == platform.python_version()


def test_platform_collector_registers_only_when_given_a_registry(lib):
    registry = RecordingRegistry()
    pc = _module(lib, "platform_collector").PlatformCollector(registry=registry, platform=FakePlatform())
    assert registry.registered == [pc]
    assert _shape(pc.collect()) == _shape(pc.collect())


def test_gc_statistics_are_identical_while_collection_is_paused(both):
    upstream, ours = _modules(both, "gc_collector")
    registries = [RecordingRegistry(), RecordingRegistry()]
    collectors = [upstream.GCCollector(registry=registries[0]), ours.GCCollector(registry=registries[1])]
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        want, got = [_shape(c.collect()) for c in collectors]
    finally:
        if was_enabled:
            gc.enable()
    assert got == want
    assert [name for name, *_ in got] == [
        "python_gc_objects_collected", "python_gc_objects_uncollectable", "python_gc_collections"]
    assert [labels for _, labels, *_ in got[0][4]] == [{"generation": str(g)} for g in range(len(gc.get_stats()))]


def test_gc_collector_registers_on_cpython_only(both, monkeypatch):
    registered = []
    for module in _modules(both, "gc_collector"):
        registry = RecordingRegistry()
        collector = module.GCCollector(registry=registry)
        registered.append(registry.registered == [collector])
    assert registered == [platform.python_implementation() == "CPython"] * 2

    monkeypatch.setattr(platform, "python_implementation", lambda: "PyPy")
    for module in _modules(both, "gc_collector"):
        registry = RecordingRegistry()
        module.GCCollector(registry=registry)
        assert registry.registered == []


def test_gc_collector_without_a_registry_fails_alike(both):
    if platform.python_implementation() != "CPython":
        pytest.skip("only CPython registers")
    raised = []
    for module in _modules(both, "gc_collector"):
        with pytest.raises(Exception) as info:
            module.GCCollector(registry=None)
        raised.append((type(info.value).__name__, str(info.value)))
    assert raised[0] == raised[1]


@pytest.mark.parametrize(
    "module, instance, cls",
    [
        ("process_collector", "PROCESS_COLLECTOR", "ProcessCollector"),
        ("platform_collector", "PLATFORM_COLLECTOR", "PlatformCollector"),
        ("gc_collector", "GC_COLLECTOR", "GCCollector"),
    ],
)
def test_default_collectors_exist_at_module_level(lib, module, instance, cls):
    loaded = _module(lib, module)
    assert isinstance(getattr(loaded, instance), getattr(loaded, cls))


def _expositions(lib, make_collectors):
    registry = lib.CollectorRegistry()
    for make in make_collectors:
        make(lib, registry)
    openmetrics = importlib.import_module(f"{lib.__name__}.openmetrics.exposition")
    return lib.generate_latest(registry), openmetrics.generate_latest(registry)


def test_registered_collectors_expose_byte_identical_text(both, fake_proc):
    makers = [
        lambda lib, r: _module(lib, "process_collector").ProcessCollector(
            namespace="app", pid=lambda: 4242, proc=str(fake_proc), registry=r),
        lambda lib, r: _module(lib, "platform_collector").PlatformCollector(registry=r, platform=FakePlatform("Java")),
    ]
    upstream, ours = both
    assert _expositions(ours, makers) == _expositions(upstream, makers)


def test_importing_the_modules_registers_the_defaults_in_the_default_registry(lib):
    for module in ("process_collector", "platform_collector", "gc_collector"):
        _module(lib, module)
    assert lib.REGISTRY.get_sample_value("python_info", {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        **dict(zip(("major", "minor", "patchlevel"), platform.python_version_tuple())),
    }) == 1.0
    if platform.python_implementation() == "CPython":
        assert lib.REGISTRY.get_sample_value("python_gc_collections_total", {"generation": "0"}) is not None
    if os.path.exists("/proc/self/stat"):
        assert lib.REGISTRY.get_sample_value("process_max_fds") is not None
