"""Serving metrics over HTTP, as prometheus_client.exposition does: a WSGI app, a threaded WSGI
server (native for a native registry), and a ``BaseHTTPRequestHandler``."""

import os
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler
from socketserver import ThreadingMixIn
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union, cast
from urllib.parse import parse_qs, urlparse
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from . import _native, exposition
from .registry import REGISTRY, Collector

__all__ = ("MetricsHandler", "ThreadingWSGIServer", "make_wsgi_app", "start_http_server", "start_wsgi_server")


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
            # Looked up in `exposition` at each request, as upstream's app does, so that
            # patching `exposition._bake_output` reaches it.
            status, headers, body = exposition._bake_output(
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


# What the native server speaks: TLS 1.2 and 1.3. A lower minimum allows them both.
_TLS_VERSIONS = {ssl.TLSVersion.TLSv1_2: "1.2", ssl.TLSVersion.TLSv1_3: "1.3"}


def _native_max_version(version: Optional[ssl.TLSVersion]) -> Optional[str]:
    if version is None or version == ssl.TLSVersion.MAXIMUM_SUPPORTED:
        return None
    if version not in _TLS_VERSIONS:
        raise ValueError(f"the native server speaks TLS 1.2 and 1.3 only, not up to {version.name}")
    return _TLS_VERSIONS[version]


def _client_authorities(cafile: Optional[str], capath: Optional[str]) -> List[str]:
    """The PEM files a client certificate may chain to: ``cafile`` and the files of ``capath``,
    or the system's authorities when neither is given."""
    if cafile is None and capath is None:
        defaults = ssl.get_default_verify_paths()
        cafile, capath = defaults.cafile, defaults.capath
    files = [cafile] if cafile else []
    if capath and os.path.isdir(capath):
        files += sorted(
            os.path.join(capath, name) for name in os.listdir(capath)
            if os.path.isfile(os.path.join(capath, name)) and name.endswith((".pem", ".crt", ".0"))
        )
    return files


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
    *,
    max_connections: int = 64,
    idle_timeout: float = 2.0,
    header_timeout: float = 10.0,
    connection_timeout: float = 120.0,
) -> Tuple[Union[WSGIServer, _native.MetricsServer], threading.Thread]:
    """Serve the metrics of ``registry`` from a daemon thread; returns the server and the thread.

    A native registry is served by a native event loop that holds the GIL only to run Python
    collectors; any other registry by a threaded WSGI server. With both ``certfile`` and
    ``keyfile`` the server speaks HTTPS, and with ``client_auth_required`` a client must present
    a certificate that chains to ``client_cafile``/``client_capath`` (the system's authorities
    when neither is given). Stop it with ``server.shutdown()`` and release the socket with
    ``server.server_close()``.

    The native server's limits (keyword-only, a pyrometer addition): at most
    ``max_connections`` open at once, a new one beyond closing the oldest idle one; a connection
    silent for ``idle_timeout`` seconds, or slower than ``header_timeout`` to send its request
    headers, is closed; none stays open longer than ``connection_timeout``.
    """
    if isinstance(registry, _native.CollectorRegistry):
        tls: Dict[str, Any] = {}
        if certfile and keyfile:
            # The same checks, and so the same errors, as the Python server's.
            _get_ssl_ctx(certfile, keyfile, protocol, client_cafile, client_capath, client_auth_required,
                         tls_min_version, tls_max_version)
            tls = {
                "certfile": certfile,
                "keyfile": keyfile,
                "client_cafiles": _client_authorities(client_cafile, client_capath) if client_auth_required else [],
                "client_auth_required": client_auth_required,
                "tls_min_version": _TLS_VERSIONS.get(tls_min_version) if tls_min_version is not None else None,
                "tls_max_version": _native_max_version(tls_max_version),
            }
        native = _native.MetricsServer(
            registry,
            addr,
            port,
            **tls,
            max_connections=max_connections,
            idle_timeout=idle_timeout,
            header_timeout=header_timeout,
            connection_timeout=connection_timeout,
        )
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
        status, headers, body = exposition._bake_output(
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
