"""GraphiteBridge sends what prometheus_client's sends, to a listener on loopback."""

import importlib
import socket
import socketserver
import threading
import time

import pytest

TIMEOUT = 10.0


class _Recorder(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        self.received = []
        self.arrived = threading.Condition()

        class Handler(socketserver.StreamRequestHandler):
            def handle(handler):
                data = handler.rfile.read()
                with self.arrived:
                    self.received.append(data)
                    self.arrived.notify_all()

        super().__init__(("127.0.0.1", 0), Handler)

    def wait_for(self, count):
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.received) >= count, TIMEOUT)
            return list(self.received)


@pytest.fixture
def recorder():
    server = _Recorder()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(TIMEOUT)


def _scenario(lib):
    registry = lib.CollectorRegistry()
    c = lib.Counter("requests", "Requests.", ["method", "path"], registry=registry)
    c.labels("GET", "/api/v1").inc(3)
    c.labels("PUT", 'ü "x".y').inc(0.5)
    lib.Gauge("temp", "T.", registry=registry).set(float("-inf"))
    lib.Gauge("ratio", "R.", registry=registry).set(1e-7)
    h = lib.Histogram("lat", "L.", buckets=[0.25, 1e6], registry=registry)
    h.observe(0.125)
    lib.Info("build", "B.", registry=registry).info({"version": "1.2-rc"})
    return registry


def _without_created(data):
    return b"".join(line for line in data.splitlines(keepends=True) if b"_created" not in line)


def _bridge_module(lib):
    return importlib.import_module(f"{lib.__name__}.bridge.graphite")


@pytest.mark.parametrize("tags", [False, True], ids=["path", "tags"])
@pytest.mark.parametrize("prefix", ["", "pre.fix"], ids=["no-prefix", "prefix"])
def test_push_sends_the_same_lines(both, recorder, tags, prefix):
    for lib in both:
        bridge = _bridge_module(lib).GraphiteBridge(
            recorder.server_address, registry=_scenario(lib), _timer=lambda: 1700000000.7, tags=tags
        )
        bridge.push(prefix=prefix)
    upstream, ours = recorder.wait_for(2)
    assert _without_created(ours) == _without_created(upstream)
    assert b"requests_total.method.GET.path._api_v1 3.0 1700000000\n" in ours or tags


def test_a_custom_collector_is_pushed_too(both, recorder):
    for lib in both:
        registry = lib.CollectorRegistry()

        class Custom:
            def collect(self):
                yield lib.metrics_core.GaugeMetricFamily("custom", "C.", value=2, labels=None)

        registry.register(Custom())
        _bridge_module(lib).GraphiteBridge(recorder.server_address, registry=registry, _timer=lambda: 5).push()
    upstream, ours = recorder.wait_for(2)
    assert ours == upstream == b"custom 2.0 5\n"


def test_start_pushes_on_an_interval_until_stopped(recorder):
    import pyrometer.bridge.graphite as graphite

    bridge = graphite.GraphiteBridge(recorder.server_address, registry=_scenario(importlib.import_module("pyrometer")))
    bridge.start(interval=0.05, prefix="p")
    try:
        pushes = recorder.wait_for(3)
    finally:
        bridge.stop()
    assert all(p.startswith(b"p.") for p in pushes)


def test_an_unreachable_graphite_raises_the_same_error(both):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connections are refused
        raised = []
        for lib in both:
            bridge = _bridge_module(lib).GraphiteBridge(("127.0.0.1", port), registry=lib.CollectorRegistry())
            with pytest.raises(OSError) as info:
                bridge.push()
            raised.append((type(info.value), info.value.errno, str(info.value)))
    assert raised[0] == raised[1]
    assert raised[0][0] is ConnectionRefusedError


def test_a_name_that_does_not_resolve_raises_the_same_error(both):
    raised = []
    for lib in both:
        bridge = _bridge_module(lib).GraphiteBridge(("name.invalid", 2003), registry=lib.CollectorRegistry())
        with pytest.raises(OSError) as info:
            bridge.push()
        raised.append((type(info.value), info.value.errno, str(info.value)))
    assert raised[0] == raised[1]
    assert raised[0][0] is socket.gaierror


def test_a_listener_that_never_accepts_times_out_as_upstream(both):
    """A full backlog on a listener that never accepts: connecting outlasts the timeout."""
    raised = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        fillers = []
        try:
            for _ in range(64):  # fill the accept queue so that later connections hang
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(listener.getsockname())
                fillers.append(filler)
            for lib in both:
                bridge = _bridge_module(lib).GraphiteBridge(
                    listener.getsockname(), registry=lib.CollectorRegistry(), timeout_seconds=0.2
                )
                started = time.monotonic()
                try:
                    bridge.push()
                    raised.append(None)
                except OSError as e:
                    raised.append((type(e), str(e)))
                assert time.monotonic() - started < 5
        finally:
            for filler in fillers:
                filler.close()
    assert raised[0] == raised[1] == (TimeoutError, "timed out")


@pytest.mark.parametrize("text", ["plain", "a.b c/d", "ünï-code_1", "", "x:y{z}"])
def test_sanitize_replaces_what_graphite_paths_cannot_hold(both, text):
    upstream, ours = (_bridge_module(lib) for lib in both)
    assert ours._sanitize(text) == upstream._sanitize(text)
    assert ours._INVALID_GRAPHITE_CHARS.pattern == upstream._INVALID_GRAPHITE_CHARS.pattern


@pytest.mark.parametrize("timeout", [0, -1, float("nan")])
def test_a_timeout_python_s_sockets_refuse_or_cannot_wait_for_fails_as_upstream(both, recorder, timeout):
    raised = []
    for lib in both:
        bridge = _bridge_module(lib).GraphiteBridge(
            recorder.server_address, registry=lib.CollectorRegistry(), timeout_seconds=timeout
        )
        with pytest.raises(Exception) as info:
            bridge.push()
        raised.append((type(info.value), getattr(info.value, "errno", None), str(info.value)))
    assert raised[0] == raised[1]
