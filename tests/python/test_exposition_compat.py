"""Serving, writing and pushing metrics behave as prometheus_client.exposition's do.

The same scenario registry is built with each library and run through content negotiation, the
WSGI and ASGI apps, the HTTP server, text files and Pushgateway pushes; what a client would see is
compared. ``_created`` samples read the clock, so their lines are dropped before comparing. Every
server binds to 127.0.0.1 and port 0, every wait is bounded, and each server is shut down and its
thread joined when its test ends.
"""

import asyncio
import gzip
import importlib
import os
import re
import shutil
import ssl
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

TIMEOUT = 10

ACCEPT_HEADERS = [
    None,
    "",
    "*/*",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "application/json",
    "text/plain",
    "text/plain; version=0.0.4",
    "text/plain; version=1.0.0",
    "text/plain;version=1.0.0;escaping=allow-utf-8",
    "text/plain; version=1.0.0; escaping=dots",
    "text/plain; version=1.0.0; escaping=values",
    "text/plain; version=1.0.0; escaping=underscores",
    "text/plain; version=1.0.0; escaping=bogus",
    "text/plain; escaping=allow-utf-8",
    "application/openmetrics-text",
    "application/openmetrics-text; escaping=allow-utf-8",
    "application/openmetrics-text; version=1.0.0",
    "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8",
    "application/openmetrics-text;version=1.0.0;escaping=dots",
    "application/openmetrics-text; version=0.0.1",
    "application/openmetrics-text; version=0.0.1,text/plain;version=1.0.0;q=0.5",
    "application/openmetrics-text; version=0.0.1, text/plain; version=0.0.4",
    "application/openmetrics-text; version=2.0.0",
    "text/plain; version=1.0.0, application/openmetrics-text; version=1.0.0",
    " APPLICATION/OPENMETRICS-TEXT ",
]

FILTERED_NAMES = ["requests_total", "temperature_celsius", "latency_seconds_bucket", "build_info", "absent"]


def _scenario(lib):
    registry = lib.CollectorRegistry()
    requests = lib.Counter("requests", "Requests served.", ["method", "code"], registry=registry)
    requests.labels("GET", "200").inc(3)
    requests.labels("POST", "500").inc()
    lib.Gauge("temperature_celsius", "Temperature.\nSecond line \\ backslash.", registry=registry).set(-3.5)
    lib.Gauge("queue", "Queued items.", unit="items", registry=registry).set(7)
    latency = lib.Histogram("latency_seconds", "Latency.", buckets=[0.1, 1.0, 10.0], registry=registry)
    for value in (0.05, 0.5, 5.0, 50.0):
        latency.observe(value)
    lib.Summary("payload_bytes", "Payload sizes.", ["path"], registry=registry).labels('/a"b\n').observe(512)
    lib.Info("build", "Build information.", registry=registry).info({"version": "1.2.3"})
    lib.Enum("state", "State.", states=["up", "down"], registry=registry).state("down")
    lib.Counter("http.requests", "A name that needs escaping.", ["code"], registry=registry).labels("200").inc()
    return registry


def _om(lib):
    return importlib.import_module(f"{lib.__name__}.openmetrics.exposition")


_SAMPLE_NAME = re.compile(rb'\{?"?([^"{ ]+)')


def _without_created(data):
    """Exposition bytes without the sample lines of ``_created`` series (their values are clock readings)."""
    kept = []
    for line in data.split(b"\n"):
        if not line.startswith(b"#"):
            match = _SAMPLE_NAME.match(line)
            if match and match.group(1).endswith(b"_created"):
                continue
        kept.append(line)
    return b"\n".join(kept)


def _families(data):
    """Exposition bytes as a sorted list of families, for scrapes whose family order is unspecified.

    Upstream's restricted registry yields the chosen collectors in the order of a set of them.
    """
    families = []
    for line in data.splitlines():
        if not families or line.startswith((b"# HELP ", b"# EOF")):
            families.append([])
        families[-1].append(line)
    return data.endswith(b"\n"), sorted(families)


def _body(headers, body, unordered=False):
    """The body as a client reads it: unzipped when the headers say gzip, ``_created`` lines dropped.

    With ``unordered`` (for ``name[]`` queries), the families are sorted.
    """
    if ("Content-Encoding", "gzip") in headers or ("content-encoding", "gzip") in headers:
        assert body[:2] == b"\x1f\x8b"
        body = gzip.decompress(body)
    body = _without_created(body)
    return _families(body) if unordered else body


# --- Content negotiation ---------------------------------------------------------------------


@pytest.mark.parametrize("accept", ACCEPT_HEADERS)
def test_choose_encoder_picks_the_same_content_type_and_encoding(both, accept):
    results = []
    for lib in both:
        encoder, content_type = lib.exposition.choose_encoder(accept)
        results.append((content_type, _without_created(encoder(_scenario(lib)))))
    assert results[0] == results[1]


def test_choose_encoder_encodings_are_those_of_the_encoders(lib):
    registry = _scenario(lib)
    encoder, _ = lib.exposition.choose_encoder("application/openmetrics-text")
    assert _without_created(encoder(registry)) == _without_created(_om(lib).generate_latest(registry))
    encoder, _ = lib.exposition.choose_encoder("text/plain")
    assert _without_created(encoder(registry)) == _without_created(lib.generate_latest(registry))


def test_an_unparsable_version_fails_the_same_way(both):
    raised = []
    for lib in both:
        with pytest.raises(Exception) as info:
            lib.exposition.choose_encoder("text/plain; version=one")
        raised.append((type(info.value), str(info.value)))
    assert raised[0] == raised[1]


@pytest.mark.parametrize(
    "header",
    [None, "", "gzip", "GZIP", "deflate, gzip;q=0.5", "br,  gzip ", "gzip;q=0", "x-gzip", "identity", "*"],
)
def test_gzip_accepted_agrees(both, header):
    upstream, ours = both
    assert ours.exposition.gzip_accepted(header) == upstream.exposition.gzip_accepted(header)


# --- WSGI ------------------------------------------------------------------------------------


def _call_wsgi(app, method="GET", path="/metrics", query="", accept=None, accept_encoding=None):
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query}
    if accept is not None:
        environ["HTTP_ACCEPT"] = accept
    if accept_encoding is not None:
        environ["HTTP_ACCEPT_ENCODING"] = accept_encoding
    started = []
    chunks = app(environ, lambda status, headers, exc_info=None: started.append((status, headers)))
    body = b"".join(chunks)
    assert len(started) == 1
    status, headers = started[0]
    return status, headers, _body(headers, body, unordered="name[]" in query)


_QUERY = "&".join(f"name[]={name}" for name in FILTERED_NAMES)

WSGI_REQUESTS = {
    "plain": {},
    "openmetrics": {"accept": "application/openmetrics-text; version=1.0.0"},
    "text-1.0.0-utf8": {"accept": "text/plain; version=1.0.0; escaping=allow-utf-8"},
    "gzip": {"accept_encoding": "gzip, deflate"},
    "gzip-openmetrics": {"accept": "application/openmetrics-text", "accept_encoding": "br;q=1, GZIP;q=0.5"},
    "not-gzip": {"accept_encoding": "deflate"},
    "name-filter": {"query": _QUERY},
    "name-filter-openmetrics": {"query": _QUERY, "accept": "application/openmetrics-text"},
    "name-filter-none-match": {"query": "name[]=nothing"},
    "other-query": {"query": "name=requests_total&x=1"},
    "other-path": {"path": "/"},
    "favicon": {"path": "/favicon.ico"},
    "favicon-gzip": {"path": "/favicon.ico", "accept_encoding": "gzip"},
    "options": {"method": "OPTIONS"},
    "post": {"method": "POST"},
    "head": {"method": "HEAD"},
}


@pytest.mark.parametrize("disable_compression", [False, True], ids=["compression", "disable_compression"])
@pytest.mark.parametrize("request_", WSGI_REQUESTS.values(), ids=WSGI_REQUESTS.keys())
def test_the_wsgi_app_answers_the_same(both, request_, disable_compression):
    answers = [
        _call_wsgi(lib.make_wsgi_app(_scenario(lib), disable_compression=disable_compression), **request_)
        for lib in both
    ]
    assert answers[0] == answers[1]


def test_the_wsgi_app_compresses_only_when_asked(lib):
    app = lib.make_wsgi_app(_scenario(lib))
    _, headers, _ = _call_wsgi(app, accept_encoding="gzip")
    assert ("Content-Encoding", "gzip") in headers
    _, headers, _ = _call_wsgi(app)
    assert all(name != "Content-Encoding" for name, _ in headers)
    _, headers, _ = _call_wsgi(lib.make_wsgi_app(_scenario(lib), disable_compression=True), accept_encoding="gzip")
    assert all(name != "Content-Encoding" for name, _ in headers)


def test_the_name_filter_keeps_only_the_named_samples(lib):
    _, _, body = _call_wsgi(lib.make_wsgi_app(_scenario(lib)), query="name[]=temperature_celsius")
    assert body == _families(
        b"# HELP temperature_celsius Temperature.\\nSecond line \\\\ backslash.\n"
        b"# TYPE temperature_celsius gauge\ntemperature_celsius -3.5\n"
    )


# --- HTTP servers ----------------------------------------------------------------------------


@pytest.fixture
def serve():
    """Starts servers with ``serve(server, thread)`` (thread None: one is started); stops them all afterwards."""
    running = []

    def start(server, thread=None):
        if thread is None:
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
            thread.start()
        running.append((server, thread))
        return server

    yield start
    for server, thread in running:
        server.shutdown()
        server.server_close()
        thread.join(TIMEOUT)
        assert not thread.is_alive()


# The length of a body with _created samples depends on how many digits the clock readings have;
# the Server header names the implementation.
_VARYING_HEADERS = {"date", "content-length", "server", "connection"}


def _fetch(port, path="/metrics", method="GET", headers=None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            status, got_headers, body = response.status, response.getheaders(), response.read()
    except urllib.error.HTTPError as error:
        status, got_headers, body = error.code, error.headers.items(), error.read()
        error.close()
    # Header names are case-insensitive, and their order carries no meaning.
    got_headers = sorted((name.lower(), value) for name, value in got_headers if name.lower() not in _VARYING_HEADERS)
    return status, got_headers, _body(got_headers, body, unordered="name[]" in path)


HTTP_REQUESTS = {
    "plain": {},
    "openmetrics-gzip": {"headers": {"Accept": "application/openmetrics-text", "Accept-Encoding": "gzip"}},
    "name-filter": {"path": "/metrics?" + _QUERY},
    "favicon": {"path": "/favicon.ico"},
    "options": {"method": "OPTIONS"},
    "delete": {"method": "DELETE"},
}


# What the native server answers differently, on purpose (docs/compat.md): it also serves HEAD.
_NATIVE_ALLOW = {
    "options": (200, [("allow", "OPTIONS,GET,HEAD")], b""),
    "delete": (405, [("allow", "OPTIONS,GET,HEAD")], b"# HTTP 405 Method Not Allowed: DELETE; use OPTIONS, GET or HEAD\n"),
}


def test_start_http_server_serves_the_same(both, serve):
    answers = []
    for lib in both:
        server, thread = lib.start_http_server(0, addr="127.0.0.1", registry=_scenario(lib))
        serve(server, thread)
        assert thread.daemon
        # A native registry is served natively (docs/compat.md).
        native = lib.__name__ == "pyrometer"
        assert isinstance(server, lib._native.MetricsServer if native else lib.exposition.ThreadingWSGIServer)
        answers.append({name: _fetch(server.server_port, **request) for name, request in HTTP_REQUESTS.items()})
    upstream, ours = answers
    assert {k: ours[k] for k in _NATIVE_ALLOW} == _NATIVE_ALLOW
    assert {k: v for k, v in ours.items() if k not in _NATIVE_ALLOW} == {
        k: v for k, v in upstream.items() if k not in _NATIVE_ALLOW
    }
    assert ours["plain"][0] == 200


def test_the_native_server_answers_head_with_the_headers_of_get(serve):
    import pyrometer

    server, thread = pyrometer.start_http_server(0, addr="127.0.0.1", registry=_scenario(pyrometer))
    serve(server, thread)
    get = _fetch(server.server_port, headers={"Accept": "application/openmetrics-text"})
    head = _fetch(server.server_port, method="HEAD", headers={"Accept": "application/openmetrics-text"})
    assert head[:2] == get[:2] and head[2] == b"" and get[2].endswith(b"# EOF\n")


_BUSY_CHILD = """
import sys, time, pyrometer
registry = pyrometer.CollectorRegistry()
pyrometer.Counter("c", "C.", registry=registry).inc()
server, thread = pyrometer.start_http_server(0, addr="127.0.0.1", registry=registry)
sys.setswitchinterval(30.0)  # the main thread keeps the GIL for up to 30 s at a stretch
print(server.server_port, flush=True)
end = time.monotonic() + 4.0
while time.monotonic() < end:
    pass
"""


def test_the_native_server_scrapes_without_the_gil():
    """A scrape is answered while the serving process's main thread spins holding the GIL."""
    child = subprocess.Popen([sys.executable, "-c", _BUSY_CHILD], stdout=subprocess.PIPE, text=True)
    try:
        port = int(child.stdout.readline())
        start = time.monotonic()
        status, _, body = _fetch(port)
        elapsed = time.monotonic() - start
        assert child.poll() is None, "the child stopped spinning before the scrape was answered"
    finally:
        child.kill()
        child.wait(TIMEOUT)
    assert status == 200 and b"c_total 1.0" in body
    assert elapsed < 2.0, f"the scrape waited {elapsed:.1f} s for the GIL"


def test_the_native_server_reports_a_busy_port_as_upstream_does(both):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        raised = []
        for lib in both:
            with pytest.raises(OSError) as info:
                lib.start_http_server(port, addr="127.0.0.1", registry=lib.CollectorRegistry())
            raised.append((type(info.value), info.value.errno))
    assert raised[0] == raised[1]


def test_start_wsgi_server_is_start_http_server(lib):
    assert lib.start_http_server is lib.start_wsgi_server


def test_metrics_handler_factory_serves_its_registry(both, serve):
    answers = []
    for lib in both:
        handler = lib.MetricsHandler.factory(_scenario(lib))
        assert handler.__name__ == "MetricsHandler"
        assert issubclass(handler, lib.MetricsHandler)
        assert lib.MetricsHandler.registry is lib.REGISTRY
        server = serve(HTTPServer(("127.0.0.1", 0), handler))
        answers.append({name: _fetch(server.server_port, **request) for name, request in HTTP_REQUESTS.items()
                        if request.get("method", "GET") == "GET"})
    assert answers[0] == answers[1]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 and its key, as ``(certfile, keyfile)``."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    directory = tmp_path_factory.mktemp("tls")
    certfile, keyfile = str(directory / "cert.pem"), str(directory / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", keyfile, "-out", certfile, "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=TIMEOUT,
    )
    return certfile, keyfile


def test_start_http_server_serves_the_same_over_https(both, serve, certificate):
    certfile, keyfile = certificate
    client = ssl.create_default_context(cafile=certfile)
    answers = []
    for lib in both:
        server, thread = lib.start_http_server(0, addr="127.0.0.1", registry=_scenario(lib),
                                               certfile=certfile, keyfile=keyfile)
        serve(server, thread)
        with urllib.request.urlopen(f"https://127.0.0.1:{server.server_port}/metrics", timeout=TIMEOUT,
                                    context=client) as response:
            answers.append((response.status, response.getheader("Content-Type"), _without_created(response.read())))
    assert answers[0] == answers[1]
    assert answers[0][0] == 200


@pytest.fixture(scope="module")
def client_ca(tmp_path_factory, certificate):
    """A certificate authority and a client certificate it signed, as ``(cafile, certfile, keyfile)``."""
    directory = tmp_path_factory.mktemp("client-ca")
    ca_key, ca_cert = str(directory / "ca.key"), str(directory / "ca.pem")
    key, request, cert = str(directory / "client.key"), str(directory / "client.csr"), str(directory / "client.pem")
    for command in (
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", ca_key, "-out", ca_cert, "-days", "1", "-subj", "/CN=test CA",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"],
        ["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", key, "-out", request, "-subj", "/CN=scraper"],
        ["openssl", "x509", "-req", "-in", request, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial",
         "-out", cert, "-days", "1", "-extfile", "/dev/stdin"],
    ):
        subprocess.run(command, check=True, capture_output=True, timeout=TIMEOUT,
                       input=b"extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n")
    return ca_cert, cert, key


def test_required_client_certificates_are_checked_alike(both, serve, certificate, client_ca):
    certfile, keyfile = certificate
    cafile, client_cert, client_key = client_ca
    outcomes = []
    for lib in both:
        server, thread = lib.start_http_server(0, addr="127.0.0.1", registry=_scenario(lib), certfile=certfile,
                                               keyfile=keyfile, client_cafile=cafile, client_auth_required=True)
        serve(server, thread)
        url = f"https://127.0.0.1:{server.server_port}/metrics"
        with_cert = ssl.create_default_context(cafile=certfile)
        with_cert.load_cert_chain(client_cert, client_key)
        with urllib.request.urlopen(url, timeout=TIMEOUT, context=with_cert) as response:
            status = response.status
        without_cert = ssl.create_default_context(cafile=certfile)
        try:
            urllib.request.urlopen(url, timeout=TIMEOUT, context=without_cert).close()
            refused = False
        except (OSError, urllib.error.URLError):
            refused = True
        outcomes.append((type(server).__name__ == "MetricsServer", status, refused))
    assert outcomes == [(False, 200, True), (True, 200, True)]


# Upstream leaves the listening socket of the failed server open; ours closes it.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.parametrize("missing", ["certfile", "client_cafile"])
def test_start_http_server_fails_the_same_for_missing_tls_files(both, tmp_path, certificate, missing):
    files = {"certfile": certificate[0], "keyfile": certificate[1], missing: str(tmp_path / "missing.pem")}
    raised = []
    for lib in both:
        with pytest.raises(OSError) as info:
            lib.start_http_server(0, addr="127.0.0.1", registry=_scenario(lib), **files)
        raised.append((type(info.value), str(info.value)))
    assert raised[0] == raised[1]
    assert "missing.pem" in raised[0][1]


# Versions as Python's int() and tuple comparison read them: signs, spaces, underscores,
# fewer or more parts, huge numbers, text where a number is compared and where it is not.
_VERSIONS = [
    "1.0.0", "1.0", "1", "2", "0.9.9", "1.0.0.1", "01.000.0", "+1.0.0", " 1 .0.0", "1_0.0.0", "1__0.0.0",
    "_1.0.0", "-1.0.0", "99999999999999999999999.0", "1.x", "x", "2.x", "1.0.0rc1", "1.0.x", "0.x", "",
    "\x1f1.0.0\x1c", "\xa01.0.0", "1" + "0" * 4299, "1" + "0" * 4300, "1." + "0" * 4301,
]  # fmt: skip


@pytest.mark.parametrize("media_type", ["text/plain", "application/openmetrics-text"])
def test_choose_encoder_reads_versions_as_upstream(both, media_type):
    """Every version, alone and before a media range that would be chosen: the same content type,
    the same output, or the same exception."""
    for version in _VERSIONS:
        for accept in [f"{media_type}; version={version}", f"{media_type};version={version}, text/plain;version=1.0.0"]:
            results = []
            for lib in both:
                try:
                    encoder, content_type = lib.exposition.choose_encoder(accept)
                    results.append((content_type, _without_created(encoder(_scenario(lib)))))
                except Exception as e:  # noqa: BLE001  (the exception is what is compared)
                    results.append((type(e), str(e)))
            assert results[0] == results[1], accept


def test_a_version_in_other_digits_is_text():
    """The documented difference: upstream's int() reads Arabic-Indic digits, ours does not."""
    import prometheus_client.exposition
    import pyrometer.exposition

    accept = "text/plain; version=\u0661.0.0"
    assert prometheus_client.exposition.choose_encoder(accept)[1].startswith("text/plain; version=1.0.0")
    with pytest.raises(TypeError, match="not supported between instances of 'str' and 'int'"):
        pyrometer.exposition.choose_encoder(accept)


# --- Text files ------------------------------------------------------------------------------


@pytest.mark.parametrize("escaping", [None, "underscores", "allow-utf-8", "dots"])
def test_write_to_textfile_writes_the_same_file(both, tmp_path, escaping):
    contents = []
    for lib in both:
        path = tmp_path / f"{lib.__name__}.prom"
        path.write_bytes(b"stale")
        kwargs = {} if escaping is None else {"escaping": escaping}
        lib.write_to_textfile(str(path), _scenario(lib), **kwargs)
        contents.append(_without_created(path.read_bytes()))
    assert contents[0] == contents[1]
    assert sorted(os.listdir(tmp_path)) == ["prometheus_client.prom", "pyrometer.prom"]


def test_write_to_textfile_can_stage_in_another_directory(both, tmp_path):
    staging = tmp_path / "staging"
    staging.mkdir()
    contents = []
    for lib in both:
        path = tmp_path / f"{lib.__name__}.prom"
        lib.write_to_textfile(str(path), _scenario(lib), tmpdir=str(staging))
        contents.append(_without_created(path.read_bytes()))
    assert contents[0] == contents[1]
    assert os.listdir(staging) == []


@pytest.mark.parametrize("staged", [False, True], ids=["next-to-file", "in-tmpdir"])
def test_write_to_textfile_fails_the_same_for_a_missing_directory(both, tmp_path, staged):
    raised = []
    for lib in both:
        path = str(tmp_path / "missing" / "metrics.prom")
        tmpdir = str(tmp_path / "missing-too") if staged else None
        with pytest.raises(OSError) as info:
            lib.write_to_textfile(path, _scenario(lib), tmpdir=tmpdir)
        raised.append((type(info.value), info.value.errno, str(info.value)))
    assert raised[0] == raised[1]
    assert raised[0][0] is FileNotFoundError
    assert os.listdir(tmp_path) == []


def test_write_to_textfile_takes_a_path_object_and_fails_a_rename_the_same(both, tmp_path):
    contents, raised = [], []
    for lib in both:
        path = tmp_path / f"{lib.__name__}.prom"
        lib.write_to_textfile(path, _scenario(lib))
        contents.append(_without_created(path.read_bytes()))
        # A non-empty directory where the file goes: the rename fails, naming both files.
        taken = tmp_path / f"{lib.__name__}-taken"
        (taken / "inside").mkdir(parents=True)
        with pytest.raises(OSError) as info:
            lib.write_to_textfile(taken, _scenario(lib))
        message = str(info.value).replace(lib.__name__, "LIB")
        raised.append((type(info.value), info.value.errno, message, info.value.filename2 == str(taken)))
    assert contents[0] == contents[1]
    assert raised[0] == raised[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "prometheus_client-taken", "prometheus_client.prom", "pyrometer-taken", "pyrometer.prom"
    ]  # fmt: skip


def test_write_to_textfile_removes_its_temporary_file_on_failure(both, tmp_path):
    class Broken:
        def collect(self):
            raise RuntimeError("collector failed")

    raised = []
    for lib in both:
        with pytest.raises(RuntimeError) as info:
            lib.write_to_textfile(str(tmp_path / "metrics.prom"), Broken())
        raised.append(str(info.value))
        assert os.listdir(tmp_path) == []
    assert raised[0] == raised[1]


# --- Pushgateway -----------------------------------------------------------------------------


class _Gateway(BaseHTTPRequestHandler):
    """Records each request; ``/moved-from`` paths redirect to ``/moved-to``, ``/fail`` paths answer 500."""

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.recorded.append((self.command, self.path, sorted(self.headers.items()), body))
        if self.path.startswith("/moved-from"):
            self.send_response(301)
            self.send_header("Location", self.path.replace("/moved-from", "/moved-to", 1))
        elif self.path.startswith("/fail"):
            self.send_response(500)
        else:
            self.send_response(202 if self.command != "DELETE" else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_PUT = do_POST = do_DELETE = _answer

    def log_message(self, format, *args):
        pass


@pytest.fixture
def gateway(serve):
    """A recording Pushgateway stand-in on 127.0.0.1; ``gateway.recorded`` lists what it got."""
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    server.recorded = []
    server.url = f"http://127.0.0.1:{server.server_port}"
    return serve(server)


GROUPING_KEY = {"instance": "host/1", "zone": "", "rack": "a b", "shard": "x+y&z", "number": 7}


def _recorded(gateway):
    """The recorded requests with bodies as read (unzipped, ``_created`` lines dropped); clears the record."""
    requests = [
        (method, path, [(name, value) for name, value in headers if name.lower() not in _VARYING_HEADERS],
         _body(headers, body))
        for method, path, headers, body in gateway.recorded
    ]
    gateway.recorded.clear()
    return requests


def _pushes(lib, gateway, handler=None, compression=None, prefix=""):
    kwargs = {"timeout": TIMEOUT}
    if handler is not None:
        kwargs["handler"] = handler
    registry = _scenario(lib)
    url = gateway.url + prefix
    lib.push_to_gateway(url, "batch", registry, compression=compression, **kwargs)
    lib.push_to_gateway(url + "/", "nightly/batch", registry, GROUPING_KEY, compression=compression, **kwargs)
    lib.pushadd_to_gateway(url, "batch", registry, {"instance": "h"}, compression=compression, **kwargs)
    lib.delete_from_gateway(url, "batch", GROUPING_KEY, **kwargs)
    lib.delete_from_gateway(url, "", None, **kwargs)
    return _recorded(gateway)


def test_pushes_send_the_same_requests(both, gateway):
    upstream, ours = both
    requests = _pushes(upstream, gateway)
    assert _pushes(ours, gateway) == requests
    assert [(method, path) for method, path, _, _ in requests] == [
        ("PUT", "/metrics/job/batch"),
        ("PUT", "/metrics/job@base64/bmlnaHRseS9iYXRjaA==/instance@base64/aG9zdC8x/number/7/rack@base64/YSBi"
                "/shard/x%2By%26z/zone@base64/="),
        ("POST", "/metrics/job/batch/instance/h"),
        ("DELETE", "/metrics/job/batch/instance@base64/aG9zdC8x/number/7/rack@base64/YSBi/shard/x%2By%26z"
                   "/zone@base64/="),
        ("DELETE", "/metrics/job@base64/="),
    ]


def test_a_gateway_without_scheme_is_reached_over_http(both, gateway):
    for lib in both:
        lib.push_to_gateway(gateway.url.removeprefix("http://"), "j", _scenario(lib), timeout=TIMEOUT)
    upstream, ours = _recorded(gateway)
    assert upstream == ours


def test_gzip_compressed_pushes_are_the_same(both, gateway):
    upstream, ours = both
    requests = _pushes(upstream, gateway, compression="gzip")
    assert _pushes(ours, gateway, compression="gzip") == requests
    assert ("Content-Encoding", "gzip") in requests[0][2]
    assert _pushes(ours, gateway)[0][3] == requests[0][3]


def test_basic_auth_handler_sends_the_same_credentials(both, gateway):
    results = []
    for lib in both:

        def handler(url, method, timeout, headers, data, lib=lib):
            return lib.exposition.basic_auth_handler(url, method, timeout, headers, data, "user", "secret:pw")

        results.append(_pushes(lib, gateway, handler=handler))
    assert results[0] == results[1]
    assert ("Authorization", "Basic dXNlcjpzZWNyZXQ6cHc=") in results[0][0][2]


def test_basic_auth_handler_without_credentials_sends_none(both, gateway):
    results = []
    for lib in both:

        def handler(url, method, timeout, headers, data, lib=lib):
            return lib.exposition.basic_auth_handler(url, method, timeout, headers, data, username="user")

        results.append(_pushes(lib, gateway, handler=handler))
    assert results[0] == results[1]
    assert all(name != "Authorization" for name, _ in results[0][0][2])


def test_passthrough_redirect_handler_repeats_the_request(both, gateway):
    results = []
    for lib in both:
        lib.push_to_gateway(gateway.url + "/moved-from", "j", _scenario(lib), timeout=TIMEOUT,
                            handler=lib.exposition.passthrough_redirect_handler)
        lib.pushadd_to_gateway(gateway.url + "/moved-from", "j", _scenario(lib), timeout=TIMEOUT,
                               handler=lib.exposition.passthrough_redirect_handler)
        results.append(_recorded(gateway))
    assert results[0] == results[1]
    assert [(method, path) for method, path, _, _ in results[0]] == [
        ("PUT", "/moved-from/metrics/job/j"),
        ("PUT", "/moved-to/metrics/job/j"),
        ("POST", "/moved-from/metrics/job/j"),
        ("POST", "/moved-to/metrics/job/j"),
    ]
    assert results[0][0][3] == results[0][1][3] != b""


def test_the_default_handler_refuses_to_redirect_a_put(both, gateway):
    raised = []
    for lib in both:
        with pytest.raises(urllib.error.HTTPError) as info:
            lib.push_to_gateway(gateway.url + "/moved-from", "j", _scenario(lib), timeout=TIMEOUT)
        info.value.close()
        raised.append((info.value.code, _recorded(gateway)))
    assert raised[0] == raised[1]


def test_a_failing_gateway_raises_the_same_error(both, gateway):
    raised = []
    for lib in both:
        with pytest.raises(urllib.error.HTTPError) as info:
            lib.delete_from_gateway(gateway.url + "/fail", "j", timeout=TIMEOUT)
        info.value.close()
        raised.append((info.value.code, str(info.value), _recorded(gateway)))
    assert raised[0] == raised[1]


def test_tls_auth_handler_pushes_over_https_with_a_client_certificate(both, serve, certificate):
    certfile, keyfile = certificate
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile, keyfile)
    context.load_verify_locations(certfile)
    context.verify_mode = ssl.CERT_REQUIRED
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.recorded = []
    serve(server)
    url = f"https://127.0.0.1:{server.server_port}"
    results = []
    for lib in both:
        for options in ({"cafile": certfile}, {"insecure_skip_verify": True}):

            def handler(url, method, timeout, headers, data, lib=lib, options=options):
                return lib.exposition.tls_auth_handler(url, method, timeout, headers, data, certfile, keyfile,
                                                       **options)

            lib.push_to_gateway(url, "tls", _scenario(lib), {"a": "b"}, timeout=TIMEOUT, handler=handler)
        results.append(_recorded(server))
    assert results[0] == results[1]
    assert [(method, path) for method, path, _, _ in results[0]] == [("PUT", "/metrics/job/tls/a/b")] * 2


def test_a_custom_handler_gets_the_same_arguments(both):
    calls = []
    for lib in both:
        seen = []

        def handler(**kwargs):
            seen.append(kwargs)
            return lambda: None

        lib.push_to_gateway("example.invalid:9091/", "j", _scenario(lib), {"a": "b/c"}, handler=handler)
        lib.pushadd_to_gateway("https://example.invalid", "j", _scenario(lib), timeout=None, handler=handler,
                               compression="gzip")
        lib.delete_from_gateway("example.invalid", "j", {"a": ""}, handler=handler)
        for kwargs in seen:
            if kwargs["data"][:2] == b"\x1f\x8b":
                kwargs["data"] = gzip.decompress(kwargs["data"])
            kwargs["data"] = _without_created(kwargs["data"])
        calls.append(seen)
    assert calls[0] == calls[1]


_GATEWAYS = ["example.invalid:9091", "HTTPS://gw//", " http://gw/", "ht\ttp://gw", "h\ttp://gw", "1http://gw",
             "ftp://gw", "gw/prefix/", "http://u:p@gw:1/a?b=c", "http://[::1:9091", "http://gw\u2100"]  # fmt: skip
_GROUPING_KEYS = [{}, {"instance": "a~b*c"}, {"zone": "\u00fc", "b": "x+y&z=%"}, {"e": "", "s": "a b", "p": "a/b"},
                  {3: 4.5}, {"k": None}]  # fmt: skip


def test_group_urls_are_upstream_s_for_odd_gateways_and_values(both):
    """The URL every handler gets: scheme detection as urllib's, quoting as quote_plus's."""
    urls = []
    for lib in both:
        seen = []

        def handler(**kwargs):
            seen.append(kwargs["url"])
            return lambda: None

        for gateway in _GATEWAYS:
            for key in _GROUPING_KEYS:
                try:
                    lib.delete_from_gateway(gateway, "my/job", key, handler=handler)
                except ValueError as e:  # what urllib refuses to parse
                    seen.append((type(e), str(e)))
        urls.append(seen)
    assert urls[0] == urls[1]


def test_pushadd_without_a_registry_pushes_the_default_registry(lib):
    seen = []

    def handler(**kwargs):
        seen.append(kwargs["data"])
        return lambda: None

    lib.pushadd_to_gateway("example.invalid", "j", None, handler=handler)
    helps = [line for line in lib.generate_latest(lib.REGISTRY).splitlines() if line.startswith(b"# HELP ")]
    assert helps
    assert [line for line in seen[0].splitlines() if line.startswith(b"# HELP ")] == helps


@pytest.mark.parametrize("compression", ["deflate", "snappy"])
def test_unsupported_compression_fails_the_same(both, compression):
    upstream, ours = both
    if compression == "snappy" and upstream.exposition.SNAPPY_AVAILABLE:
        pytest.skip("python-snappy is installed")
    raised = []
    for lib in both:
        with pytest.raises(Exception) as info:
            lib.push_to_gateway("example.invalid", "j", _scenario(lib), compression=compression,
                                handler=lambda **_: pytest.fail("no request expected"))
        raised.append((type(info.value), str(info.value)))
    assert raised[0] == raised[1]
    assert ours.exposition.SNAPPY_AVAILABLE == upstream.exposition.SNAPPY_AVAILABLE


def test_instance_ip_grouping_key_is_the_same(both):
    upstream, ours = both
    assert ours.instance_ip_grouping_key() == upstream.instance_ip_grouping_key()


# --- ASGI ------------------------------------------------------------------------------------


def _call_asgi(app, query=b"", headers=(), first_message="http.request"):
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "path": "/metrics",
        "query_string": query,
        "headers": list(headers),
    }
    sent = []

    async def receive():
        return {"type": first_message, "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(asyncio.wait_for(app(scope, receive, send), TIMEOUT))
    if not sent:
        return sent
    start, body = sent
    assert start["type"] == "http.response.start" and body["type"] == "http.response.body"
    text_headers = [(name.decode(), value.decode()) for name, value in start["headers"]]
    return start["status"], text_headers, _body(text_headers, body["body"], unordered=b"name[]" in query)


ASGI_REQUESTS = {
    "plain": {},
    "openmetrics": {"headers": [(b"Accept", b"application/openmetrics-text; version=1.0.0")]},
    "split-accept": {"headers": [(b"accept", b"text/html"), (b"ACCEPT", b"text/plain; version=1.0.0")]},
    "gzip": {"headers": [(b"accept-encoding", b"deflate"), (b"Accept-Encoding", b"gzip")]},
    "name-filter": {"query": _QUERY.encode()},
    "disconnect": {"first_message": "http.disconnect"},
}


@pytest.mark.parametrize("disable_compression", [False, True], ids=["compression", "disable_compression"])
@pytest.mark.parametrize("request_", ASGI_REQUESTS.values(), ids=ASGI_REQUESTS.keys())
def test_the_asgi_app_answers_the_same(both, request_, disable_compression):
    answers = [
        _call_asgi(lib.make_asgi_app(_scenario(lib), disable_compression=disable_compression), **request_)
        for lib in both
    ]
    assert answers[0] == answers[1]


def test_make_asgi_app_is_in_both_modules(lib):
    assert lib.exposition.make_asgi_app is importlib.import_module(f"{lib.__name__}.asgi").make_asgi_app


# --- Names -----------------------------------------------------------------------------------


def test_the_same_names_are_exported(both):
    upstream, ours = both
    assert ours.__all__ == upstream.__all__
    assert ours.exposition.__all__ == upstream.exposition.__all__
    for name in upstream.exposition.__all__:
        assert hasattr(ours.exposition, name)


# --- The native server under bad requests ------------------------------------------------------


def _raw(port, request, read=True):
    """Sends raw bytes; returns what the server answers before it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as conn:
        conn.sendall(request)
        if not read:
            return b""
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


@pytest.fixture
def native_port(serve):
    import pyrometer

    registry = pyrometer.CollectorRegistry()
    pyrometer.Counter("c", "C.", registry=registry).inc()
    server, thread = pyrometer.start_http_server(0, addr="127.0.0.1", registry=registry)
    serve(server, thread)
    return server.server_port


@pytest.mark.parametrize(
    "request_, status",
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(200)) + b"\r\n", b"431"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 1_000_000 + b"\r\n\r\n", b"431"),
        (b"NOT HTTP AT ALL\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nAccept: application/openmetrics-text; version=x.y\r\nConnection: close\r\n\r\n",
         b"200"),
    ],
    ids=["too-many-headers", "oversized-header", "garbage", "unparsable-accept-version"],
)
def test_bad_requests_get_an_answer_and_the_server_keeps_serving(native_port, request_, status):
    answer = _raw(native_port, request_)
    assert answer.split(b" ")[1] == status, answer[:200]
    assert b"c_total 1.0" in _fetch(native_port)[2]


def test_abrupt_disconnects_leave_the_server_serving(native_port):
    for partial in (b"GET / HT", b"GET / HTTP/1.1\r\nHost: x\r\n", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"):
        _raw(native_port, partial, read=False)
    assert b"c_total 1.0" in _fetch(native_port)[2]


def test_many_clients_at_once_are_all_answered(native_port):
    answers = []

    def scrape():
        answers.append(_fetch(native_port)[0])

    clients = [threading.Thread(target=scrape) for _ in range(100)]
    for client in clients:
        client.start()
    for client in clients:
        client.join(TIMEOUT)
    assert answers == [200] * 100
