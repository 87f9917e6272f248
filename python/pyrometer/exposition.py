"""Exposition, as prometheus_client.exposition has it. Encoding runs natively, without the GIL.

Besides the encoders this module serves metrics over HTTP (a WSGI app, a threaded server and a
``BaseHTTPRequestHandler``), writes them to text files for the node exporter, and pushes them
to a Pushgateway.
"""

import base64
import gzip
import importlib
import os
import socket
import ssl
import sys
import threading
from functools import partial
from http.server import BaseHTTPRequestHandler
from socketserver import ThreadingMixIn
from typing import IO, Any, Callable, Dict, Iterable, List, Literal, Mapping, Optional, Sequence, Tuple, Union, cast
from urllib.error import HTTPError
from urllib.parse import parse_qs, quote_plus, urlparse
from urllib.request import BaseHandler, HTTPHandler, HTTPRedirectHandler, HTTPSHandler, Request, build_opener
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from . import _native
from .openmetrics import exposition as openmetrics
from .registry import REGISTRY, Collector
from .utils import floatToGoString, parse_version  # noqa: F401  (floatToGoString is importable from here upstream too)

try:
    snappy: Any = importlib.import_module("snappy")
    SNAPPY_AVAILABLE = True
except ImportError:
    snappy = None
    SNAPPY_AVAILABLE = False

__all__ = (
    "CONTENT_TYPE_LATEST",
    "CONTENT_TYPE_PLAIN_0_0_4",
    "CONTENT_TYPE_PLAIN_1_0_0",
    "delete_from_gateway",
    "generate_latest",
    "instance_ip_grouping_key",
    "make_asgi_app",
    "make_wsgi_app",
    "MetricsHandler",
    "push_to_gateway",
    "pushadd_to_gateway",
    "start_http_server",
    "start_wsgi_server",
    "write_to_textfile",
)

CONTENT_TYPE_PLAIN_0_0_4 = "text/plain; version=0.0.4; charset=utf-8"
CONTENT_TYPE_PLAIN_1_0_0 = "text/plain; version=1.0.0; charset=utf-8"
CONTENT_TYPE_LATEST = CONTENT_TYPE_PLAIN_1_0_0

CompressionType = Optional[Literal["gzip", "snappy"]]

# What a push handler gets called with (as keywords: url, method, timeout, headers, data) and
# what it returns: a callable that performs the request.
PushHandler = Callable[..., Callable[[], None]]


def generate_latest(registry: Any = REGISTRY, escaping: str = "underscores") -> bytes:
    """The registry, or any object with ``collect()``, in the Prometheus text format."""
    native = getattr(registry, "_generate_text", None)
    if native is not None:
        return native(escaping)  # type: ignore[no-any-return]
    return _native.generate_text(registry.collect(), escaping)


# --- Content negotiation ---------------------------------------------------------------------

_ESCAPING_SCHEMES = (openmetrics.ALLOWUTF8, openmetrics.UNDERSCORES, openmetrics.DOTS, openmetrics.VALUES)


def _parameter(tokens: Sequence[str], name: str) -> Optional[str]:
    """The value of the first ``name=value`` media-type parameter among ``tokens``, if any."""
    for token in tokens:
        key, sep, value = token.strip().partition("=")
        if sep and key == name:
            return value
    return None


def _get_version(tokens: Sequence[str]) -> str:
    """The ``version`` parameter of a media range split on ';', or '' without one."""
    return _parameter(tokens, "version") or ""


def _get_escaping(tokens: Sequence[str]) -> str:
    """The ``escaping`` parameter of a media range split on ';'; unknown or absent means underscores."""
    value = _parameter(tokens, "escaping")
    return value if value in _ESCAPING_SCHEMES else openmetrics.UNDERSCORES


def choose_encoder(accept_header: Optional[str]) -> Tuple[Callable[[Collector], bytes], str]:
    """The encoder and content type to answer a request with this ``Accept`` header.

    OpenMetrics is chosen when it is accepted (version 1.0.0 unless a later one is asked for),
    the 1.0.0 text format when ``text/plain`` with version 1.0.0 or later is, and the 0.0.4
    text format otherwise. Media ranges are looked at in the order they are listed.
    """
    for media_range in (accept_header or "").split(","):
        tokens = media_range.split(";")
        media_type = tokens[0].strip()
        if media_type == "application/openmetrics-text":
            version = _get_version(tokens)
            if not version:
                return (
                    partial(openmetrics.generate_latest, escaping=openmetrics.UNDERSCORES, version="1.0.0"),
                    openmetrics.CONTENT_TYPE_LATEST,
                )
            if parse_version(version) >= (1, 0, 0):
                escaping = _get_escaping(tokens)
                return (
                    partial(openmetrics.generate_latest, escaping=escaping, version=version),
                    f"application/openmetrics-text; version={version}; charset=utf-8; escaping={escaping}",
                )
        elif media_type == "text/plain":
            version = _get_version(tokens)
            if version and parse_version(version) >= (1, 0, 0):
                escaping = _get_escaping(tokens)
                return partial(generate_latest, escaping=escaping), f"{CONTENT_TYPE_LATEST}; escaping={escaping}"
    return generate_latest, CONTENT_TYPE_PLAIN_0_0_4


def gzip_accepted(accept_encoding_header: Optional[str]) -> bool:
    """Whether an ``Accept-Encoding`` header lists gzip (its q-value is not looked at)."""
    for coding in (accept_encoding_header or "").split(","):
        if coding.split(";")[0].strip().lower() == "gzip":
            return True
    return False


def _bake_output(
    registry: Any,
    accept_header: Optional[str],
    accept_encoding_header: Optional[str],
    params: Mapping[str, Sequence[str]],
    disable_compression: bool,
) -> Tuple[str, List[Tuple[str, str]], bytes]:
    """Status line, headers and body of a scrape; ``name[]`` query values restrict the samples."""
    encoder, content_type = choose_encoder(accept_header)
    names = params.get("name[]")
    if names is not None:
        registry = registry.restricted_registry(names)
    body = encoder(registry)
    headers = [("Content-Type", content_type)]
    if not disable_compression and gzip_accepted(accept_encoding_header):
        body = gzip.compress(body)
        headers.append(("Content-Encoding", "gzip"))
    return "200 OK", headers, body


# --- Serving ---------------------------------------------------------------------------------


def make_wsgi_app(registry: Collector = REGISTRY, disable_compression: bool = False) -> WSGIApplication:
    """A WSGI application that serves the metrics of ``registry``.

    GET on any path scrapes (``/favicon.ico`` gets an empty answer), OPTIONS lists the allowed
    methods, and any other method is refused with 405.
    """

    def prometheus_app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        headers: List[Tuple[str, str]]
        if method == "OPTIONS":
            status, headers, body = "200 OK", [("Allow", "OPTIONS,GET")], b""
        elif method != "GET":
            status = "405 Method Not Allowed"
            headers = [("Allow", "OPTIONS,GET")]
            body = f"# HTTP {status}: {method}; use OPTIONS or GET\n".encode()
        elif environ["PATH_INFO"] == "/favicon.ico":
            status, headers, body = "200 OK", [], b""
        else:
            status, headers, body = _bake_output(
                registry,
                environ.get("HTTP_ACCEPT"),
                environ.get("HTTP_ACCEPT_ENCODING"),
                parse_qs(environ.get("QUERY_STRING", "")),
                disable_compression,
            )
        start_response(status, headers)
        return [body]

    return prometheus_app


class _SilentHandler(WSGIRequestHandler):
    """A WSGI request handler that keeps the access log to itself."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """A WSGI server that answers each request in its own daemon thread."""

    # Daemon threads are not tracked for joining at close, so finished requests leave nothing behind.
    daemon_threads = True


def _get_best_family(address: str, port: int) -> Tuple[socket.AddressFamily, str]:
    """The address family to bind ``address`` with (IPv6 addresses need AF_INET6), and the address."""
    infos = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, _, _, _, sockaddr = infos[0]
    return family, str(sockaddr[0])


def _get_ssl_ctx(
    certfile: str,
    keyfile: str,
    protocol: int,
    cafile: Optional[str] = None,
    capath: Optional[str] = None,
    client_auth_required: bool = False,
    tls_min_version: Optional[ssl.TLSVersion] = None,
    tls_max_version: Optional[ssl.TLSVersion] = None,
) -> ssl.SSLContext:
    """A server-side TLS context; file errors are re-raised with the file names in the message."""
    context = ssl.SSLContext(protocol=protocol)
    if cafile is not None or capath is not None:
        try:
            context.load_verify_locations(cafile, capath)
        except OSError as exc:
            raise type(exc)(
                f"Cannot load CA certificate chain from file {cafile!r} or directory {capath!r}: {exc}"
            ) from exc
    else:
        try:
            context.load_default_certs(purpose=ssl.Purpose.CLIENT_AUTH)
        except OSError as exc:
            raise type(exc)(f"Cannot load default CA certificate chain: {exc}") from exc
    if client_auth_required:
        context.verify_mode = ssl.CERT_REQUIRED
    try:
        context.load_cert_chain(certfile=certfile, keyfile=keyfile)
    except OSError as exc:
        raise type(exc)(
            f"Cannot load server certificate file {certfile!r} or its private key file {keyfile!r}: {exc}"
        ) from exc
    if tls_min_version is not None:
        context.minimum_version = tls_min_version
    if tls_max_version is not None:
        context.maximum_version = tls_max_version
    return context


def start_wsgi_server(
    port: int,
    addr: str = "0.0.0.0",
    registry: Collector = REGISTRY,
    certfile: Optional[str] = None,
    keyfile: Optional[str] = None,
    client_cafile: Optional[str] = None,
    client_capath: Optional[str] = None,
    protocol: int = ssl.PROTOCOL_TLS_SERVER,
    client_auth_required: bool = False,
    tls_min_version: Optional[ssl.TLSVersion] = None,
    tls_max_version: Optional[ssl.TLSVersion] = None,
) -> Tuple[Union[WSGIServer, _native.MetricsServer], threading.Thread]:
    """Serve the metrics of ``registry`` from a daemon thread; returns the server and the thread.

    A native registry is served by a native event loop that holds the GIL only to run Python
    collectors. With both ``certfile`` and ``keyfile`` the server speaks HTTPS (served from
    Python, as is any registry that is not native). Stop it with ``server.shutdown()`` and
    release the socket with ``server.server_close()``.
    """
    if isinstance(registry, _native.CollectorRegistry) and not (certfile and keyfile):
        native = _native.MetricsServer(registry, addr, port)
        thread = threading.Thread(target=native.serve_forever, daemon=True)
        thread.start()
        return native, thread

    class _Server(ThreadingWSGIServer):
        """ThreadingWSGIServer with the address family this address needs."""

    _Server.address_family, addr = _get_best_family(addr, port)
    httpd = make_server(addr, port, make_wsgi_app(registry), _Server, handler_class=_SilentHandler)
    if certfile and keyfile:
        try:
            context = _get_ssl_ctx(
                certfile,
                keyfile,
                protocol,
                client_cafile,
                client_capath,
                client_auth_required,
                tls_min_version,
                tls_max_version,
            )
            httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        except BaseException:
            httpd.server_close()  # do not leave the port bound
            raise
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    return httpd, thread


start_http_server = start_wsgi_server


class MetricsHandler(BaseHTTPRequestHandler):
    """A ``BaseHTTPRequestHandler`` that answers GET with the metrics of its ``registry``."""

    registry: Collector = REGISTRY

    def do_GET(self) -> None:
        status, headers, body = _bake_output(
            self.registry,
            self.headers.get("Accept"),
            self.headers.get("Accept-Encoding"),
            parse_qs(urlparse(self.path).query),
            False,
        )
        self.send_response(int(status.split(" ")[0]))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @classmethod
    def factory(cls, registry: Collector) -> type["MetricsHandler"]:
        """A subclass of this handler, with the same name, that serves ``registry``."""
        return cast("type[MetricsHandler]", type(cls.__name__, (cls, object), {"registry": registry}))


# --- Text files ------------------------------------------------------------------------------


def write_to_textfile(
    path: str, registry: Collector, escaping: str = openmetrics.ALLOWUTF8, tmpdir: Optional[str] = None
) -> None:
    """Write the metrics of ``registry`` to ``path``, atomically, for the node exporter's textfile collector.

    The text goes to a temporary file first (next to ``path``, or in ``tmpdir``, which must be on
    the same filesystem) that is then renamed over ``path``; on failure it is removed.
    """
    suffix = f".{os.getpid()}.{threading.current_thread().ident}"
    if tmpdir is None:
        tmppath = path + suffix
    else:
        tmppath = os.path.join(tmpdir, os.path.basename(path)) + suffix
    try:
        with open(tmppath, "wb") as f:
            f.write(generate_latest(registry, escaping))
        # Atomic on POSIX, and unlike os.rename it also replaces an existing file on Windows.
        os.replace(tmppath, path)
    except Exception:
        if os.path.exists(tmppath):
            os.remove(tmppath)
        raise


# --- Pushgateway -----------------------------------------------------------------------------


class _PrometheusRedirectHandler(HTTPRedirectHandler):
    """Follows redirects of every method, PUT included, resending the same method, headers and body.

    The standard handler refuses to redirect PUT and drops the body of a redirected POST, because
    repeating such a request elsewhere is not safe in general. Use this one (through
    ``passthrough_redirect_handler``) only with redirects you trust.
    """

    def redirect_request(
        self, req: Request, fp: IO[bytes], code: int, msg: str, headers: Any, newurl: str
    ) -> Optional[Request]:
        method = getattr(req, "method", None) or req.get_method()
        allowed = (code in (301, 302, 303, 307) and method in ("GET", "HEAD")) or (
            code in (301, 302, 303) and method in ("POST", "PUT")
        )
        if not allowed:
            raise HTTPError(req.full_url, code, msg, headers, fp)
        redirected = Request(
            newurl.replace(" ", "%20"),
            data=req.data,
            headers=req.headers,
            origin_req_host=req.origin_req_host,
            unverifiable=True,
        )
        redirected.method = method
        return redirected


def _make_handler(
    url: str,
    method: str,
    timeout: Optional[float],
    headers: Sequence[Tuple[str, str]],
    data: bytes,
    base_handler: Union[BaseHandler, type[BaseHandler]],
) -> Callable[[], None]:
    """A callable that sends the request through an opener built with ``base_handler``."""

    def handle() -> None:
        request = Request(url, data=data, method=method)
        for name, value in headers:
            request.add_header(name, value)
        response = build_opener(base_handler).open(request, timeout=timeout)
        if response.code >= 400:
            raise OSError(f"error talking to pushgateway: {response.code} {response.msg}")

    return handle


def default_handler(
    url: str,
    method: str,
    timeout: Optional[float],
    headers: List[Tuple[str, str]],
    data: bytes,
) -> Callable[[], None]:
    """The push handler for plain HTTP and HTTPS; other handlers may build on it."""
    return _make_handler(url, method, timeout, headers, data, HTTPHandler)


def passthrough_redirect_handler(
    url: str,
    method: str,
    timeout: Optional[float],
    headers: List[Tuple[str, str]],
    data: bytes,
) -> Callable[[], None]:
    """A push handler that follows redirects for every method, resending method, headers and body.

    Use it only when the redirects come from a source you trust.
    """
    return _make_handler(url, method, timeout, headers, data, _PrometheusRedirectHandler)


def basic_auth_handler(
    url: str,
    method: str,
    timeout: Optional[float],
    headers: List[Tuple[str, str]],
    data: bytes,
    username: Optional[str] = None,
    password: Optional[str] = None,
) -> Callable[[], None]:
    """A push handler that adds HTTP Basic authentication when both credentials are given."""

    def handle() -> None:
        request_headers = list(headers)
        if username is not None and password is not None:
            token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
            request_headers.append(("Authorization", f"Basic {token}"))
        default_handler(url, method, timeout, request_headers, data)()

    return handle


def tls_auth_handler(
    url: str,
    method: str,
    timeout: Optional[float],
    headers: List[Tuple[str, str]],
    data: bytes,
    certfile: str,
    keyfile: str,
    cafile: Optional[str] = None,
    protocol: int = ssl.PROTOCOL_TLS_CLIENT,
    insecure_skip_verify: bool = False,
) -> Callable[[], None]:
    """A push handler that connects over HTTPS with a client certificate.

    With the default protocol the server certificate and host name are verified, against
    ``cafile`` or the system's CAs; ``insecure_skip_verify`` turns both checks off.
    """
    context = ssl.SSLContext(protocol=protocol)
    if cafile is not None:
        context.load_verify_locations(cafile)
    else:
        context.load_default_certs()
    if insecure_skip_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.load_cert_chain(certfile=certfile, keyfile=keyfile)
    return _make_handler(url, method, timeout, headers, data, HTTPSHandler(context=context))


def push_to_gateway(
    gateway: str,
    job: str,
    registry: Collector,
    grouping_key: Optional[Dict[str, Any]] = None,
    timeout: Optional[float] = 30,
    handler: PushHandler = default_handler,
    compression: CompressionType = None,
) -> None:
    """Push the metrics of ``registry`` to a Pushgateway with PUT, replacing the whole group.

    ``gateway`` is a URL such as ``http://pushgateway.local:9091`` (http is assumed without a
    scheme). The group is ``job`` plus ``grouping_key``. ``timeout`` is in seconds (None: none).
    ``handler`` performs the request: it is called with the keywords url, method, timeout,
    headers (a list of name/value pairs) and data, and returns a callable that sends it and
    raises on failure; see ``default_handler``, ``basic_auth_handler``, ``tls_auth_handler`` and
    ``passthrough_redirect_handler``. ``compression`` may be 'gzip' or 'snappy' (the latter
    needs python-snappy).
    """
    _use_gateway("PUT", gateway, job, registry, grouping_key, timeout, handler, compression)


def pushadd_to_gateway(
    gateway: str,
    job: str,
    registry: Optional[Collector],
    grouping_key: Optional[Dict[str, Any]] = None,
    timeout: Optional[float] = 30,
    handler: PushHandler = default_handler,
    compression: CompressionType = None,
) -> None:
    """Push the metrics of ``registry`` (``REGISTRY`` if None) with POST, replacing only metrics of the same name.

    The arguments are those of ``push_to_gateway``.
    """
    _use_gateway("POST", gateway, job, registry, grouping_key, timeout, handler, compression)


def delete_from_gateway(
    gateway: str,
    job: str,
    grouping_key: Optional[Dict[str, Any]] = None,
    timeout: Optional[float] = 30,
    handler: PushHandler = default_handler,
) -> None:
    """Delete the group of ``job`` and ``grouping_key`` from a Pushgateway, with DELETE.

    The arguments are those of ``push_to_gateway``.
    """
    _use_gateway("DELETE", gateway, job, None, grouping_key, timeout, handler)


def _use_gateway(
    method: str,
    gateway: str,
    job: str,
    registry: Optional[Collector],
    grouping_key: Optional[Dict[str, Any]],
    timeout: Optional[float],
    handler: PushHandler,
    compression: CompressionType = None,
) -> None:
    if urlparse(gateway).scheme not in ("http", "https"):
        gateway = f"http://{gateway}"
    parts = [gateway.rstrip("/"), "metrics", *_escape_grouping_key("job", job)]
    for key, value in sorted((grouping_key or {}).items()):
        parts.extend(_escape_grouping_key(str(key), str(value)))
    url = "/".join(parts)

    if method == "DELETE":
        if compression is not None:
            raise ValueError("Compression is not supported for DELETE requests.")
        data, headers = b"", [("Content-Type", CONTENT_TYPE_PLAIN_0_0_4)]
    else:
        data, headers = _compress_payload(generate_latest(REGISTRY if registry is None else registry), compression)
    handler(url=url, method=method, timeout=timeout, headers=headers, data=data)()


def _compress_payload(data: bytes, compression: CompressionType) -> Tuple[bytes, List[Tuple[str, str]]]:
    """The body and headers of a push, compressed as asked."""
    headers = [("Content-Type", CONTENT_TYPE_PLAIN_0_0_4)]
    if compression is None:
        return data, headers
    encoding = compression.lower()
    if encoding == "gzip":
        headers.append(("Content-Encoding", "gzip"))
        return gzip.compress(data), headers
    if encoding == "snappy":
        if not SNAPPY_AVAILABLE:
            raise RuntimeError("Snappy compression requires the python-snappy package to be installed.")
        headers.append(("Content-Encoding", "snappy"))
        compressor = snappy.StreamCompressor()
        compressed: bytes = compressor.compress(data)
        flush = getattr(compressor, "flush", None)
        if callable(flush):
            compressed += flush()
        return compressed, headers
    raise ValueError(f"Unsupported compression type: {compression}")


def _escape_grouping_key(key: str, value: str) -> Tuple[str, str]:
    """A grouping key label as two URL path segments.

    An empty value, or one with '/' or ' ', is sent base64-encoded under ``key@base64`` (the
    Pushgateway encodes the empty value as '='); others are URL-quoted.
    """
    if value == "":
        return f"{key}@base64", "="
    if "/" in value or " " in value:
        return f"{key}@base64", base64.urlsafe_b64encode(value.encode("utf-8")).decode("utf-8")
    return key, quote_plus(value)


def instance_ip_grouping_key() -> Dict[str, Any]:
    """A grouping key whose ``instance`` is this host's IP address."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        # Connecting a UDP socket sends nothing; it only picks the local address. On macOS
        # connecting to localhost does not, so a non-local address is used there.
        s.connect(("10.255.255.255", 1) if sys.platform == "darwin" else ("localhost", 0))
        return {"instance": s.getsockname()[0]}


from .asgi import make_asgi_app  # noqa: E402  (asgi uses _bake_output from this module)
