"""Exposition, as prometheus_client.exposition has it. Encoding runs natively, without the GIL.

Besides the encoders this module serves metrics over HTTP (a WSGI app, a threaded server and a
``BaseHTTPRequestHandler``), writes them to text files for the node exporter, and pushes them
to a Pushgateway. The servers and the Pushgateway client live in ``_http_server`` and
``_pushgateway`` and are imported on first use: their standard-library modules are slow to load.
"""

import os
import threading
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, List, Mapping, Optional, Sequence, Tuple

from . import _native
from ._lazy import lazy_names
from .openmetrics import exposition as openmetrics
from .registry import REGISTRY, Collector
from .utils import floatToGoString, parse_version  # noqa: F401  (floatToGoString is importable from here upstream too)

if TYPE_CHECKING:
    from ._http_server import (
        MetricsHandler,
        ThreadingWSGIServer,
        _get_best_family,
        _get_ssl_ctx,
        _SilentHandler,
        make_wsgi_app,
        start_http_server,
        start_wsgi_server,
    )
    from ._pushgateway import (
        SNAPPY_AVAILABLE,
        CompressionType,
        PushHandler,
        _compress_payload,
        _escape_grouping_key,
        _make_handler,
        _PrometheusRedirectHandler,
        _use_gateway,
        basic_auth_handler,
        default_handler,
        delete_from_gateway,
        instance_ip_grouping_key,
        passthrough_redirect_handler,
        push_to_gateway,
        pushadd_to_gateway,
        tls_auth_handler,
    )
    from .asgi import make_asgi_app

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

# The private helpers are upstream's too, reached by code that builds its own server or push.
_HTTP_SERVER = (
    "MetricsHandler",
    "ThreadingWSGIServer",
    "make_wsgi_app",
    "start_http_server",
    "start_wsgi_server",
    "_SilentHandler",
    "_get_best_family",
    "_get_ssl_ctx",
)
_PUSHGATEWAY = (
    "SNAPPY_AVAILABLE",
    "CompressionType",
    "PushHandler",
    "basic_auth_handler",
    "default_handler",
    "delete_from_gateway",
    "instance_ip_grouping_key",
    "passthrough_redirect_handler",
    "push_to_gateway",
    "pushadd_to_gateway",
    "tls_auth_handler",
    "_PrometheusRedirectHandler",
    "_compress_payload",
    "_escape_grouping_key",
    "_make_handler",
    "_use_gateway",
)
__getattr__, __dir__ = lazy_names(
    globals(),
    {
        **dict.fromkeys(_HTTP_SERVER, "._http_server"),
        **dict.fromkeys(_PUSHGATEWAY, "._pushgateway"),
        "make_asgi_app": ".asgi",
        # Standard-library names exporters import from here, as upstream's module has them.
        "make_server": "wsgiref.simple_server",
        "parse_qs": "urllib.parse",
    },
)

CONTENT_TYPE_PLAIN_0_0_4 = "text/plain; version=0.0.4; charset=utf-8"
CONTENT_TYPE_PLAIN_1_0_0 = "text/plain; version=1.0.0; charset=utf-8"
CONTENT_TYPE_LATEST = CONTENT_TYPE_PLAIN_1_0_0



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


# Upstream's helpers, for code that imports them; `choose_encoder` decides natively.
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
    text format otherwise. Media ranges are looked at in the order they are listed. The choice is
    the native server's (``pyrometer_expo::negotiate_text``), without protobuf.
    """
    syntax, version, escaping, content_type = _native.negotiate(accept_header)
    if syntax == "openmetrics" and version is not None:
        return partial(openmetrics.generate_latest, escaping=escaping, version=version), content_type
    if content_type == CONTENT_TYPE_PLAIN_0_0_4:
        return generate_latest, content_type
    return partial(generate_latest, escaping=escaping), content_type


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
        import gzip  # on first use: most scrapes are answered by the native server

        body = gzip.compress(body)
        headers.append(("Content-Encoding", "gzip"))
    return "200 OK", headers, body


# --- Text files ------------------------------------------------------------------------------


def write_to_textfile(
    path: str, registry: Collector, escaping: str = openmetrics.ALLOWUTF8, tmpdir: Optional[str] = None
) -> None:
    """Write the metrics of ``registry`` to ``path``, atomically, for the node exporter's textfile collector.

    The text goes to a temporary file first (next to ``path``, or in ``tmpdir``, which must be on
    the same filesystem), flushed to disk and then renamed over ``path``; on failure it is
    removed.
    """
    suffix = f".{os.getpid()}.{threading.current_thread().ident}"
    if tmpdir is None:
        tmppath = f"{path}{suffix}"
    else:
        tmppath = f"{os.path.join(tmpdir, os.path.basename(path))}{suffix}"
    # Collectors run first, under the GIL; the file is the Rust transport's to write.
    _native.write_textfile(os.fspath(path), tmppath, generate_latest(registry, escaping))
