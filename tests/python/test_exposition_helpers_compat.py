"""The private helpers of ``exposition`` that code outside the library reaches behave as
prometheus_client's: ``_bake_output`` (which the WSGI app and ``MetricsHandler`` look up in the
module at each request, so a patch of it takes effect), the Pushgateway helpers and the server
helpers. Nothing here opens a socket other than one HTTP server on 127.0.0.1."""

import gzip
import http.client
import importlib
import io
import ssl
import threading
import urllib.request
from http.server import HTTPServer
from unittest import mock
from wsgiref.simple_server import WSGIRequestHandler

import pytest

TIMEOUT = 10

HELPERS = [
    "_bake_output",
    "_escape_grouping_key",
    "_use_gateway",
    "_make_handler",
    "_get_best_family",
    "_compress_payload",
    "_SilentHandler",
    "_PrometheusRedirectHandler",
    "_get_ssl_ctx",
    "_get_version",
    "_get_escaping",
]


def _scenario(lib):
    registry = lib.CollectorRegistry()
    lib.Counter("requests", "Requests.", ["code"], registry=registry).labels("200").inc(3)
    lib.Gauge("temperature", "Temperature.", unit="celsius", registry=registry).set(-1.5)
    lib.Counter("http.requests", "Escaped.", registry=registry).inc()
    return registry


def _without_created(body):
    return b"\n".join(line for line in body.split(b"\n") if b"_created" not in line)


def test_the_helpers_are_reachable_from_exposition(lib):
    exposition = importlib.import_module(f"{lib.__name__}.exposition")
    for name in HELPERS:
        assert callable(getattr(exposition, name)), name
    assert issubclass(exposition._SilentHandler, WSGIRequestHandler)
    assert issubclass(exposition._PrometheusRedirectHandler, urllib.request.HTTPRedirectHandler)


@pytest.mark.parametrize(
    "accept, encoding, params",
    [
        (None, None, {}),
        ("application/openmetrics-text; version=2.0.0", "gzip", {}),
        ("text/plain; version=1.0.0; escaping=allow-utf-8", None, {"name[]": ["requests_total"]}),
    ],
)
@pytest.mark.parametrize("disable_compression", [False, True])
def test_bake_output_answers_the_same(both, accept, encoding, params, disable_compression):
    answers = []
    for lib in both:
        status, headers, body = lib.exposition._bake_output(_scenario(lib), accept, encoding, params, disable_compression)
        if ("Content-Encoding", "gzip") in headers:
            body = gzip.decompress(body)
        answers.append((status, headers, _without_created(body)))
    assert answers[0] == answers[1]


def test_the_wsgi_app_looks_bake_output_up_at_each_request(lib):
    exposition = importlib.import_module(f"{lib.__name__}.exposition")
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/metrics", "QUERY_STRING": ""}
    answer = ("200 OK", [("Content-Type", "text/plain")], b"patched\n")
    app = exposition.make_wsgi_app(_scenario(lib))  # made before the patch
    with mock.patch(f"{lib.__name__}.exposition._bake_output", return_value=answer) as bake:
        assert app(environ, lambda status, headers: None) == [b"patched\n"]
        assert app(dict(environ, PATH_INFO="/favicon.ico"), lambda status, headers: None) == [b""]
    assert bake.call_count == 1


def test_metrics_handler_looks_bake_output_up_at_each_request(lib):
    exposition = importlib.import_module(f"{lib.__name__}.exposition")
    answer = ("200 OK", [("Content-Type", "text/plain")], b"patched\n")
    server = HTTPServer(("127.0.0.1", 0), exposition.MetricsHandler.factory(_scenario(lib)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        with mock.patch(f"{lib.__name__}.exposition._bake_output", return_value=answer):
            connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=TIMEOUT)
            connection.request("GET", "/metrics")
            assert connection.getresponse().read() == b"patched\n"
            connection.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(TIMEOUT)


@pytest.mark.parametrize(
    "key, value",
    [("job", "batch"), ("a", ""), ("path", "/var/lib"), ("s", "two words"), ("q", "a+b&c=d"), ("u", "ünï/cödé")],
)
def test_escape_grouping_key_is_the_same(both, key, value):
    upstream, ours = both
    assert ours.exposition._escape_grouping_key(key, value) == upstream.exposition._escape_grouping_key(key, value)


@pytest.mark.parametrize("compression", [None, "gzip", "GZIP", "zstd"])
def test_compress_payload_is_the_same(both, compression):
    results = []
    for lib in both:
        try:
            data, headers = lib.exposition._compress_payload(b"a 1\n", compression)
        except Exception as exc:  # noqa: BLE001 - the class and text are what is compared
            results.append((type(exc), str(exc)))
            continue
        results.append((gzip.decompress(data) if ("Content-Encoding", "gzip") in headers else data, headers))
    assert results[0] == results[1]


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
@pytest.mark.parametrize("gateway", ["localhost:9091", "https://gw.example/", "http://gw.example/prefix"])
def test_use_gateway_hands_the_same_request_to_the_handler(both, method, gateway):
    requests = []
    for lib in both:
        seen = {}

        def handler(**request):
            seen.update(request)
            return lambda: None

        lib.exposition._use_gateway(method, gateway, "my job", _scenario(lib), {"instance": "a/b", "zone": "x"}, 3, handler)
        seen["data"] = _without_created(seen["data"])
        requests.append(seen)
    assert requests[0] == requests[1]


def test_make_handler_builds_the_same_request(both):
    upstream, ours = both
    sent = []

    class Recorder(urllib.request.BaseHandler):
        handler_order = 100  # before the default HTTPHandler

        def http_open(self, request):
            sent.append((request.full_url, request.get_method(), sorted(request.header_items()), request.data))
            response = urllib.request.addinfourl(io.BytesIO(b""), {}, request.full_url, 200)
            response.msg = "OK"
            return response

    for lib in both:
        lib.exposition._make_handler(
            "http://gw.invalid/metrics/job/x", "PUT", 1, [("Content-Type", "text/plain")], b"a 1\n", Recorder
        )()
    assert sent[0] == sent[1]


def test_get_best_family_is_the_same(both):
    upstream, ours = both
    for address in ("127.0.0.1", "::1", "localhost"):
        try:
            expected = upstream.exposition._get_best_family(address, 0)
        except OSError:
            continue
        assert ours.exposition._get_best_family(address, 0) == expected


def test_get_ssl_ctx_fails_with_the_same_messages(both, tmp_path):
    missing = str(tmp_path / "missing.pem")
    failures = []
    for lib in both:
        for cafile in (None, missing):
            with pytest.raises(OSError) as info:
                lib.exposition._get_ssl_ctx(missing, missing, ssl.PROTOCOL_TLS_SERVER, cafile)
            failures.append((type(info.value), str(info.value)))
    assert failures[:2] == failures[2:]
