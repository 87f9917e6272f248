"""``PrometheusDjangoView``: metrics as a Django class-based view."""

import os
from typing import Any, Optional

from django.http import HttpRequest, HttpResponse  # type: ignore[import-untyped]
from django.views import View  # type: ignore[import-untyped]

from .. import multiprocess
from ..exposition import _bake_output
from ..registry import REGISTRY, CollectorRegistry


class PrometheusDjangoView(View):  # type: ignore[misc]
    """GET answers with the metrics of ``registry`` (the default registry, or in multiprocess
    mode a registry over ``PROMETHEUS_MULTIPROC_DIR``); OPTIONS lists the allowed methods."""

    multiprocess_mode: bool = "PROMETHEUS_MULTIPROC_DIR" in os.environ or "prometheus_multiproc_dir" in os.environ
    registry: Optional[CollectorRegistry] = None

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if self.registry is None:
            if self.multiprocess_mode:
                self.registry = CollectorRegistry()
                multiprocess.MultiProcessCollector(self.registry)
            else:
                self.registry = REGISTRY
        status, headers, body = _bake_output(
            registry=self.registry,
            accept_header=request.headers.get("Accept"),
            accept_encoding_header=request.headers.get("Accept-Encoding"),
            params=request.GET,
            disable_compression=False,
        )
        return HttpResponse(body, status=int(status.split(" ")[0]), headers=headers)

    def options(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return HttpResponse(status=200, headers={"Allow": "OPTIONS,GET"})
