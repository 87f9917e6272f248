"""An aiohttp handler serving metrics, as prometheus_client.aiohttp has it."""

from .exposition import make_aiohttp_handler

__all__ = ["make_aiohttp_handler"]
