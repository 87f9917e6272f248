"""An ASGI application serving metrics, as prometheus_client.asgi has it."""

import asyncio
import concurrent.futures
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

# The longest a request holds the event loop while its scrape runs in a worker thread. A scrape
# done by then (a native registry of tens of thousands of series) is answered within the same
# step, as upstream's app answers, which asgiref's ApplicationCommunicator with a zero timeout
# relies on; a slower one (a Python collector doing I/O) is awaited while the loop runs others.
_LOOP_HOLD_SECONDS = 0.02


def _joined_header(headers: Iterable[Tuple[bytes, bytes]], name: str) -> str:
    """Every value of the request header ``name`` (case-insensitive), comma-separated."""
    return ",".join(value.decode("utf8") for key, value in headers if key.decode("utf8").lower() == name)


async def _off_the_loop(bake: Callable[[], _Baked]) -> _Baked:
    """Runs ``bake`` in the running asyncio loop's default executor and returns its result.

    The loop waits for it up to ``_LOOP_HOLD_SECONDS``, then awaits it, so a slow scrape never
    holds the loop for longer. Under another event loop (trio, say) ``bake`` runs inline.
    """
    try:
        # Looked up at each call: a server, a test client or a communicator may run the app on
        # a loop other than the one that was running when it was made.
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return bake()
    scrape: "concurrent.futures.Future[_Baked]" = concurrent.futures.Future()

    def run() -> None:
        if not scrape.set_running_or_notify_cancel():
            return  # the request was cancelled before a worker was free
        try:
            scrape.set_result(bake())
        except BaseException as exc:  # handed to the request, whatever it is
            scrape.set_exception(exc)

    # The executor's own future is left alone: run() never raises, and the result travels
    # through `scrape`, which the loop thread can wait on without a round trip through the loop.
    loop.run_in_executor(None, run)
    try:
        return scrape.result(timeout=_LOOP_HOLD_SECONDS)
    except concurrent.futures.TimeoutError:
        return await asyncio.wrap_future(scrape)


def make_asgi_app(registry: Collector = REGISTRY, disable_compression: bool = False) -> ASGIApp:
    """An ASGI application that answers every HTTP request with the metrics of ``registry``.

    The ``Accept`` and ``Accept-Encoding`` headers and ``name[]`` query values are honoured as by
    ``make_wsgi_app``. Under asyncio the scrape runs in the loop's default executor; the loop
    waits for it at most 20 ms, then serves other tasks until it is done. The answer is sent
    once the request's first ``http.request`` message has been received.
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
