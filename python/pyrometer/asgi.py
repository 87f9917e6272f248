"""An ASGI application serving metrics, as prometheus_client.asgi has it."""

import asyncio
from functools import partial
from typing import Any, Awaitable, Callable, Iterable, List, MutableMapping, Tuple
from urllib.parse import parse_qs

from .exposition import _bake_output
from .registry import REGISTRY, Collector

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
_Baked = Tuple[str, List[Tuple[str, str]], bytes]


def _joined_header(headers: Iterable[Tuple[bytes, bytes]], name: str) -> str:
    """Every value of the request header ``name`` (case-insensitive), comma-separated."""
    return ",".join(value.decode("utf8") for key, value in headers if key.decode("utf8").lower() == name)


async def _off_the_loop(bake: Callable[[], _Baked]) -> _Baked:
    """Runs ``bake`` in asyncio's default executor, so a large scrape never stalls the event loop;
    under another event loop (trio, say) it runs inline."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return bake()
    return await loop.run_in_executor(None, bake)


def make_asgi_app(registry: Collector = REGISTRY, disable_compression: bool = False) -> ASGIApp:
    """An ASGI application that answers every HTTP request with the metrics of ``registry``.

    The ``Accept`` and ``Accept-Encoding`` headers and ``name[]`` query values are honoured as by
    ``make_wsgi_app``. The scrape runs off the event loop; the answer is sent once the request's
    first ``http.request`` message has been received.
    """

    async def prometheus_app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope.get("type") == "http"
        request_headers = scope.get("headers") or []
        bake = partial(
            _bake_output,
            registry,
            _joined_header(request_headers, "accept"),
            _joined_header(request_headers, "accept-encoding"),
            parse_qs(scope.get("query_string", b"").decode("utf8")),
            disable_compression,
        )
        status, headers, body = await _off_the_loop(bake)
        message = await receive()
        if message.get("type") == "http.request":
            await send(
                {
                    "type": "http.response.start",
                    "status": int(status.split(" ")[0]),
                    "headers": [(name.encode("utf8"), value.encode("utf8")) for name, value in headers],
                }
            )
            await send({"type": "http.response.body", "body": body})

    return prometheus_app
