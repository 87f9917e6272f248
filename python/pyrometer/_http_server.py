"""Serving metrics over HTTP, as prometheus_client.exposition does: a WSGI app, a threaded WSGI
server (native for a native registry), and a ``BaseHTTPRequestHandler``."""

import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler
from socketserver import ThreadingMixIn
from typing import Any, Iterable, List, Optional, Tuple, Union, cast
from urllib.parse import parse_qs, urlparse
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from . import _native
from .exposition import _bake_output
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
