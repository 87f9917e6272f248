"""Pushing metrics to a Pushgateway, as prometheus_client.exposition does: push, pushadd and delete,
grouping keys, compression, and the request handlers (default, basic auth, TLS, redirects)."""

import base64
import importlib
import socket
import ssl
import sys
from typing import IO, Any, Callable, Dict, List, Literal, Optional, Sequence, Tuple, Union
from urllib.error import HTTPError
from urllib.parse import urlparse
from urllib.request import BaseHandler, HTTPHandler, HTTPRedirectHandler, HTTPSHandler, Request, build_opener

from . import _native
from .exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from .registry import REGISTRY, Collector

try:
    snappy: Any = importlib.import_module("snappy")
    SNAPPY_AVAILABLE = True
except ImportError:
    snappy = None
    SNAPPY_AVAILABLE = False

CompressionType = Optional[Literal["gzip", "snappy"]]

# What a push handler gets called with (as keywords: url, method, timeout, headers, data) and
# what it returns: a callable that performs the request.
PushHandler = Callable[..., Callable[[], None]]


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
    # The URL's rules are the Rust client's (`pyrometer_export::pushgateway`); sending it is the
    # handler's. urllib reads the gateway first, as upstream's does, to refuse what it cannot parse.
    urlparse(gateway)
    pairs = [(str(key), str(value)) for key, value in sorted((grouping_key or {}).items())]
    url = _native.pushgateway_url(gateway, job, pairs)

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
        return _native.gzip_body(data), headers
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
    """A grouping key label as two URL path segments, by the Rust client's rules.

    An empty value, or one with '/' or ' ', is sent base64-encoded under ``key@base64`` (the
    Pushgateway encodes the empty value as '='); others are quoted as ``quote_plus`` does.
    """
    return _native.pushgateway_segments(key, value)


def instance_ip_grouping_key() -> Dict[str, Any]:
    """A grouping key whose ``instance`` is this host's IP address."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        # Connecting a UDP socket sends nothing; it only picks the local address. On macOS
        # connecting to localhost does not, so a non-local address is used there.
        s.connect(("10.255.255.255", 1) if sys.platform == "darwin" else ("localhost", 0))
        return {"instance": s.getsockname()[0]}


from .asgi import make_asgi_app  # noqa: E402  (asgi uses _bake_output from this module)
