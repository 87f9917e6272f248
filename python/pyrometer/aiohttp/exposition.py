"""``make_aiohttp_handler``: metrics for an aiohttp application, encoded off the event loop."""

import asyncio
from typing import Dict, List

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from ..exposition import _bake_output
from ..registry import REGISTRY, Collector


def make_aiohttp_handler(registry: Collector = REGISTRY, disable_compression: bool = False) -> Handler:
    """An aiohttp handler answering with the metrics of ``registry``.

    ``Accept`` and ``name[]`` are honoured as by ``make_wsgi_app``; compression is aiohttp's own
    (``enable_compression``) unless ``disable_compression``. The scrape runs in the loop's default
    executor, so a large registry never stalls the event loop.
    """

    async def prometheus_handler(request: web.Request) -> web.Response:
        params: Dict[str, List[str]] = {key: request.query.getall(key) for key in request.query.keys()}
        accept = ",".join(request.headers.getall(hdrs.ACCEPT, []))
        # aiohttp compresses the body itself, so the scrape is baked uncompressed.
        status, headers, body = await asyncio.get_running_loop().run_in_executor(
            None, _bake_output, registry, accept, "", params, True
        )
        response = web.Response(status=int(status.split(" ")[0]), headers=headers, body=body)
        if not disable_compression:
            response.enable_compression()
        return response

    return prometheus_handler
