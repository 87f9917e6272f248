"""A Django view serving metrics, as prometheus_client.django has it."""

from .exposition import PrometheusDjangoView

__all__ = ["PrometheusDjangoView"]
