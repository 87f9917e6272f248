"""``MetricsResource``: the WSGI app of ``make_wsgi_app`` as a Twisted web resource."""

from twisted.internet import reactor
from twisted.web.wsgi import WSGIResource

from ..exposition import make_wsgi_app
from ..registry import REGISTRY, Collector


def MetricsResource(registry: Collector = REGISTRY) -> WSGIResource:  # noqa: N802 (upstream's name)
    """A resource that answers from the reactor's thread pool with the metrics of ``registry``."""
    return WSGIResource(reactor, reactor.getThreadPool(), make_wsgi_app(registry))  # type: ignore[no-untyped-call]
