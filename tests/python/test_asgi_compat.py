"""``make_asgi_app`` answers as prometheus_client's does wherever an ASGI app runs: under asgiref's
``ApplicationCommunicator`` (with upstream's zero timeouts), inside a Django async view driven by
Django's ``AsyncClient``, on real uvicorn and hypercorn servers, and without asyncio at all. It
also keeps the event loop running while a slow collector is scraped, which upstream's does not.

Servers bind to 127.0.0.1 on an ephemeral port, every wait is bounded, and each server is stopped
and its thread joined when its test ends. ``_created`` lines read the clock and are dropped
before comparing.
"""

import asyncio
import contextlib
import gzip
import importlib
import os
import socket
import threading
import time
import types
import urllib.request

import pytest

TIMEOUT = 10.0
SLOW_SCRAPE_SECONDS = 0.3

REQUESTS = {
    "plain": {},
    "openmetrics-1": {"Accept": "application/openmetrics-text; version=1.0.0"},
    "openmetrics-2": {"Accept": "application/openmetrics-text; version=2.0.0; escaping=allow-utf-8"},
    "text-1-dots": {"Accept": "text/plain; version=1.0.0; escaping=dots"},
    "gzip": {"Accept-Encoding": "gzip"},
}


def _scenario(lib):
    registry = lib.CollectorRegistry()
    lib.Counter("requests", "Requests.", ["code"], registry=registry).labels("200").inc(3)
    lib.Gauge("temperature", "Temperature.", unit="celsius", registry=registry).set(-1.5)
    lib.Histogram("latency", "Latency.", buckets=[0.5], registry=registry).observe(0.25)
    lib.Counter("http.requests", "Escaped.", registry=registry).inc()
    return registry


def _without_created(body):
    return b"\n".join(line for line in body.split(b"\n") if b"_created" not in line)


def _answer(status, headers, body):
    """What a client sees, comparable across libraries: status, sorted headers, plain body."""
    headers = sorted((name.lower(), value) for name, value in headers)
    if ("content-encoding", "gzip") in headers:
        body = gzip.decompress(body)
    return status, headers, _without_created(body)


def _scope(path="/metrics", headers=None, query=b""):
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "query_string": query,
        "headers": [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()],
        "client": ("127.0.0.1", 32767),
        "server": ("127.0.0.1", 80),
    }


def _messages_answer(messages):
    start, body = messages
    assert start["type"] == "http.response.start" and body["type"] == "http.response.body"
    headers = [(name.decode(), value.decode()) for name, value in start["headers"]]
    return _answer(start["status"], headers, body["body"])


class _SlowCollector:
    """A Python collector whose scrape blocks, as one doing I/O would."""

    def __init__(self, lib, seconds, error=None):
        self._family = importlib.import_module(f"{lib.__name__}.core").GaugeMetricFamily
        self._seconds = seconds
        self._error = error

    def describe(self):
        return []

    def collect(self):
        time.sleep(self._seconds)
        if self._error is not None:
            raise self._error
        yield self._family("slow", "A slow collector.", value=1)


# --- asgiref's ApplicationCommunicator ---------------------------------------------------------


@pytest.mark.parametrize("headers", REQUESTS.values(), ids=REQUESTS.keys())
def test_a_communicator_polling_with_zero_timeouts_gets_the_same_answer(both, headers):
    """Upstream's own tests step the loop once per call and poll with ``receive_output(0)``."""
    from asgiref.testing import ApplicationCommunicator

    answers = []
    for lib in both:
        loop = asyncio.new_event_loop()
        try:
            communicator = ApplicationCommunicator(lib.make_asgi_app(_scenario(lib)), _scope(headers=headers))
            loop.run_until_complete(communicator.send_input({"type": "http.request", "body": b""}))
            messages = []
            with pytest.raises(asyncio.TimeoutError):
                for _ in range(3):
                    messages.append(loop.run_until_complete(communicator.receive_output(0)))
            loop.run_until_complete(communicator.wait(TIMEOUT))
        finally:
            loop.close()
        answers.append(_messages_answer(messages))
    assert answers[0] == answers[1]
    assert answers[1][0] == 200


def test_a_communicator_with_a_timeout_waits_out_a_slow_scrape(both):
    from asgiref.testing import ApplicationCommunicator

    answers = []
    for lib in both:
        registry = _scenario(lib)
        registry.register(_SlowCollector(lib, 0.1))

        async def exchange():
            communicator = ApplicationCommunicator(lib.make_asgi_app(registry), _scope())
            await communicator.send_input({"type": "http.request", "body": b""})
            messages = [await communicator.receive_output(TIMEOUT), await communicator.receive_output(TIMEOUT)]
            await communicator.wait(TIMEOUT)
            return messages

        answers.append(_messages_answer(asyncio.run(exchange())))
    assert answers[0] == answers[1]


# --- Django's AsyncClient ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def django_settings():
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(DEBUG=False, ALLOWED_HOSTS=["testserver"], DEFAULT_CHARSET="utf-8")
        django.setup()
    return settings


def _asgi_view(app):
    """A Django async view that hands the request to the ASGI ``app`` and returns its answer."""
    from django.http import HttpResponse

    async def view(request):
        headers = {name: value for name, value in request.headers.items()}
        scope = _scope(request.path, headers, request.META.get("QUERY_STRING", "").encode())
        sent = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        await app(scope, receive, send)
        start, body = sent
        response = HttpResponse(body["body"], status=start["status"])
        for name, value in start["headers"]:
            response[name.decode()] = value.decode()
        return response

    return view


async def _django_get(path, headers):
    from django.test import AsyncClient

    response = await AsyncClient().get(path, {"name[]": ["requests_total", "latency_seconds"]}, headers=headers)
    return _answer(response.status_code, response.headers.items(), response.content)


@pytest.mark.parametrize("headers", REQUESTS.values(), ids=REQUESTS.keys())
def test_django_async_client_gets_the_same_answer_from_an_asgi_route(both, django_settings, headers):
    from django.test import override_settings
    from django.urls import path

    answers = []
    for lib in both:
        registry = _scenario(lib)
        registry.register(_SlowCollector(lib, 0.05))
        django_view = importlib.import_module(f"{lib.__name__}.django").PrometheusDjangoView
        urls = types.ModuleType(f"{lib.__name__}_urls")
        urls.urlpatterns = [
            path("asgi", _asgi_view(lib.make_asgi_app(registry))),
            path("view", django_view.as_view(registry=registry)),
        ]
        with override_settings(ROOT_URLCONF=urls):
            answers.append([asyncio.run(_django_get(route, headers)) for route in ("/asgi", "/view")])
    assert answers[0] == answers[1]
    assert [status for status, _, _ in answers[1]] == [200, 200]


# --- Real servers -----------------------------------------------------------------------------


def _listening_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    return sock


def _wait_until(condition, what):
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.01)


@contextlib.contextmanager
def _uvicorn(app):
    import uvicorn

    sock = _listening_socket()
    config = uvicorn.Config(app, lifespan="off", log_level="error", loop="asyncio", http="h11")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        _wait_until(lambda: server.started or not thread.is_alive(), "uvicorn did not start")
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(TIMEOUT)
        sock.close()
    assert not thread.is_alive()


@contextlib.contextmanager
def _hypercorn(app):
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    sock = _listening_socket()
    config = Config()
    config.bind = [f"fd://{os.dup(sock.fileno())}"]  # hypercorn closes the descriptor it is given
    config.graceful_timeout = 1.0
    config.accesslog = None
    config.errorlog = None
    stop = threading.Event()

    async def shutdown_trigger():
        while not stop.is_set():
            await asyncio.sleep(0.02)

    thread = threading.Thread(
        target=asyncio.run, args=(serve(app, config, shutdown_trigger=shutdown_trigger),), daemon=True
    )
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join(TIMEOUT)
        sock.close()
    assert not thread.is_alive()


def _fetch(port, headers):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers=headers)
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                served = [(n, v) for n, v in response.headers.items() if n.lower().startswith("content-")]
                return _answer(response.status, served, response.read())
        except ConnectionError:
            # hypercorn accepts on the socket once its loop has started.
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _without_length(answer):
    """A gzip stream's length differs between two compressions of the same text."""
    status, headers, body = answer
    return status, [(n, v) for n, v in headers if n != "content-length"], body


@pytest.mark.parametrize("server", [_uvicorn, _hypercorn], ids=["uvicorn", "hypercorn"])
def test_real_servers_serve_the_same_answer(both, server):
    answers = []
    for lib in both:
        registry = _scenario(lib)
        registry.register(_SlowCollector(lib, 0.05))
        with server(lib.make_asgi_app(registry)) as port:
            answers.append([_without_length(_fetch(port, headers)) for headers in REQUESTS.values()])
    assert answers[0] == answers[1]
    assert all(status == 200 for status, _, _ in answers[1])


# --- The event loop during a scrape -----------------------------------------------------------


async def _scrape_while_ticking(app):
    """Runs one request while a task ticks every 10 ms; returns the request's duration, the
    longest the loop went without a tick, and the answer's messages."""
    loop = asyncio.get_running_loop()
    ticks = []

    async def ticker():
        while True:
            ticks.append(loop.time())
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.02)
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    start = loop.time()
    await asyncio.wait_for(app(_scope(), receive, send), TIMEOUT)
    end = loop.time()
    await asyncio.sleep(0.02)
    task.cancel()
    stamps = [t for t in ticks if start <= t <= end] + [end]
    longest_gap = max(later - earlier for earlier, later in zip([start] + stamps, stamps))
    return end - start, longest_gap, sent


def test_the_event_loop_keeps_running_during_a_slow_scrape(both):
    upstream, ours = both
    registry = ours.CollectorRegistry()
    registry.register(_SlowCollector(ours, SLOW_SCRAPE_SECONDS))
    duration, longest_gap, sent = asyncio.run(_scrape_while_ticking(ours.make_asgi_app(registry)))
    assert duration >= SLOW_SCRAPE_SECONDS
    assert longest_gap < SLOW_SCRAPE_SECONDS / 2
    assert b"slow 1.0" in sent[1]["body"]

    # The same scrape holds upstream's loop for all of it, so the measure above can tell.
    registry = upstream.CollectorRegistry()
    registry.register(_SlowCollector(upstream, SLOW_SCRAPE_SECONDS))
    _, longest_gap, _ = asyncio.run(_scrape_while_ticking(upstream.make_asgi_app(registry)))
    assert longest_gap >= SLOW_SCRAPE_SECONDS * 0.9


def _call(app, scope=None):
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    return app(scope or _scope(), receive, send), sent


@pytest.mark.parametrize("seconds", [0.0, 0.1], ids=["quick", "slow"])
def test_a_failing_collector_raises_from_the_app(lib, seconds):
    registry = lib.CollectorRegistry()
    registry.register(_SlowCollector(lib, seconds, error=KeyError("scrape failed")))
    request, sent = _call(lib.make_asgi_app(registry))
    with pytest.raises(KeyError, match="scrape failed"):
        asyncio.run(request)
    assert sent == []


def test_one_app_serves_requests_from_one_event_loop_after_another(lib):
    app = lib.make_asgi_app(_scenario(lib))
    for _ in range(3):
        request, sent = _call(app)
        asyncio.run(request)
        assert sent[0]["status"] == 200


def test_a_request_cancelled_during_a_slow_scrape_leaves_no_error_behind(both):
    """Upstream's app scrapes on the loop, so only ours can be cancelled mid-scrape."""
    _, ours = both
    registry = ours.CollectorRegistry()
    registry.register(_SlowCollector(ours, 0.2))
    errors = []

    async def main():
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: errors.append(context))
        request, sent = _call(ours.make_asgi_app(registry))
        task = asyncio.create_task(request)
        await asyncio.sleep(0.05)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.3)  # the scrape finishes meanwhile, and is dropped
        return sent

    assert asyncio.run(main()) == []
    assert errors == []


def test_the_app_runs_without_asyncio(both):
    """Under another event loop (trio, say) there is no asyncio loop: the scrape runs inline."""
    answers = []
    for lib in both:
        request, sent = _call(lib.make_asgi_app(_scenario(lib)))
        with pytest.raises(StopIteration):
            request.send(None)  # completes in one step: nothing in it waits
        answers.append(_messages_answer(sent))
    assert answers[0] == answers[1]
