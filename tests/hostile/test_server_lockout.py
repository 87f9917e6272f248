"""Connections that send nothing, or ask and never read the answer, do not shut a scrape out of
``start_http_server``'s native server, whose limits are settable."""

import socket
import time
import urllib.request

import pytest

import pyrometer


def _serve(**limits):
    registry = pyrometer.CollectorRegistry()
    pyrometer.Counter("served", "Served.", registry=registry).inc()
    server, thread = pyrometer.start_http_server(0, addr="127.0.0.1", registry=registry, **limits)
    return server, thread


def test_three_hundred_idle_or_non_reading_connections_leave_room_for_a_scrape():
    server, thread = _serve()
    held = []
    try:
        for i in range(300):
            s = socket.create_connection(("127.0.0.1", server.server_port))
            if i % 2:
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")  # never read
            held.append(s)
        started = time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/metrics", timeout=5) as answer:
            assert b"served_total 1.0" in answer.read()
        assert time.monotonic() - started < 1.0
    finally:
        for s in held:
            s.close()
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_a_silent_connection_is_closed_after_the_idle_timeout():
    server, thread = _serve(idle_timeout=0.2)
    try:
        s = socket.create_connection(("127.0.0.1", server.server_port))
        s.settimeout(5)
        started = time.monotonic()
        assert s.recv(1) == b""
        assert time.monotonic() - started < 2
        s.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.mark.parametrize("limits, message", [
    ({"max_connections": 0}, "max_connections must be at least 1"),
    ({"idle_timeout": 0}, "idle_timeout must be positive"),
    ({"header_timeout": -1}, "header_timeout must be positive"),
])
def test_bad_limits_raise_value_error(limits, message):
    with pytest.raises(ValueError, match=message):
        _serve(**limits)
