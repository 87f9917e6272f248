"""Bridges to other monitoring systems, as prometheus_client.bridge has them."""
