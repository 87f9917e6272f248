"""The aiohttp handler, the Django view and the Twisted resource answer as prometheus_client's do."""

import asyncio
import gzip
import importlib
import subprocess
import sys
import textwrap
import zlib

import pytest

TIMEOUT = 30.0
ACCEPTS = [None, "application/openmetrics-text", "text/plain; version=1.0.0; escaping=dots"]


def _scenario(lib):
    registry = lib.CollectorRegistry()
    lib.Counter("requests", "Requests.", ["code"], registry=registry).labels("200").inc(3)
    lib.Gauge("temperature", 'Temperature "now".', unit="celsius", registry=registry).set(-1.5)
    lib.Histogram("latency", "Latency.", buckets=[0.5], registry=registry).observe(0.25)
    lib.Counter("http.requests", "Escaped.", registry=registry).inc()
    return registry


def _without_created(body):
    return b"\n".join(line for line in body.split(b"\n") if b"_created" not in line)


# --- aiohttp ----------------------------------------------------------------------------------


async def _aiohttp_answers(lib, headers, query):
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    handler = importlib.import_module(f"{lib.__name__}.aiohttp").make_aiohttp_handler(_scenario(lib))
    app = web.Application()
    app.router.add_get("/metrics", handler)
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/metrics", headers=headers, params=query, auto_decompress=False)
        body = await response.read()
        return response.status, response.headers.get("Content-Type"), response.headers.get("Content-Encoding"), body


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("encoding", [None, "gzip"])
@pytest.mark.parametrize("query", [{}, {"name[]": "requests_total"}], ids=["all", "filtered"])
def test_the_aiohttp_handler_answers_the_same(both, accept, encoding, query):
    headers = {k: v for k, v in (("Accept", accept), ("Accept-Encoding", encoding)) if v}
    answers = []
    for lib in both:
        status, content_type, content_encoding, body = asyncio.run(_aiohttp_answers(lib, headers, query))
        if content_encoding:
            body = zlib.decompress(body, wbits=47)  # gzip or zlib framing, whichever aiohttp chose
        answers.append((status, content_type, content_encoding, _without_created(body)))
    assert answers[0] == answers[1]
    assert answers[1][0] == 200


# --- Django -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def django_request():
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(DEBUG=False, ALLOWED_HOSTS=["testserver"], DEFAULT_CHARSET="utf-8")
        django.setup()
    from django.test import RequestFactory

    return RequestFactory()


@pytest.mark.parametrize("method", ["get", "options"])
@pytest.mark.parametrize("accept", ACCEPTS)
def test_the_django_view_answers_the_same(both, django_request, method, accept):
    answers = []
    for lib in both:
        view_class = importlib.import_module(f"{lib.__name__}.django").PrometheusDjangoView
        view = view_class.as_view(registry=_scenario(lib))
        headers = {"HTTP_ACCEPT": accept, "HTTP_ACCEPT_ENCODING": "gzip"} if accept else {}
        response = view(getattr(django_request, method)("/metrics", {"name[]": ["temperature_celsius"]}, **headers))
        body = response.content
        if response.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        answers.append((response.status_code, sorted(response.headers.items()), _without_created(body)))
    assert answers[0] == answers[1]


def test_the_django_view_serves_the_default_registry(both, django_request):
    for lib in both:
        view = importlib.import_module(f"{lib.__name__}.django").PrometheusDjangoView.as_view()
        assert view(django_request.get("/metrics")).status_code == 200


# --- Twisted ----------------------------------------------------------------------------------

_TWISTED = textwrap.dedent(
    """
    import sys, threading, urllib.request
    from twisted.internet import reactor
    from twisted.web.server import Site
    lib = __import__(sys.argv[1])
    from importlib import import_module
    registry = lib.CollectorRegistry()
    lib.Counter("requests", "Requests.", ["code"], registry=registry).labels("200").inc(3)
    lib.Gauge("temperature", "T.", registry=registry).set(-1.5)
    port = reactor.listenTCP(0, Site(import_module(sys.argv[1] + ".twisted").MetricsResource(registry)),
                             interface="127.0.0.1")
    out = []

    def fetch():
        try:
            url = f"http://127.0.0.1:{port.getHost().port}/metrics"
            request = urllib.request.Request(url, headers={"Accept": "application/openmetrics-text"})
            with urllib.request.urlopen(request, timeout=20) as response:
                out.append(response.headers["Content-Type"].encode() + b"\\n" + response.read())
        finally:
            reactor.callFromThread(reactor.stop)

    reactor.callWhenRunning(lambda: threading.Thread(target=fetch).start())
    reactor.callLater(25, reactor.stop)
    reactor.run()
    sys.stdout.buffer.write(out[0])
    """
)


def test_the_twisted_resource_answers_the_same():
    answers = []
    for name in ("prometheus_client", "pyrometer"):
        done = subprocess.run([sys.executable, "-c", _TWISTED, name], capture_output=True, timeout=TIMEOUT)
        assert done.returncode == 0, done.stderr.decode()
        answers.append(_without_created(done.stdout))
    assert answers[0] == answers[1]
    assert b"requests_total{code=\"200\"} 3.0" in answers[1]
