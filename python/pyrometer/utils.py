"""Float constants and formatting helpers, as prometheus_client.utils provides them."""

import math
from typing import SupportsFloat, SupportsIndex, Union

INF = float("inf")
MINUS_INF = float("-inf")
NaN = float("NaN")

# Python's repr keeps positional notation up to 16 integer digits; Go's %g-style
# output switches to an exponent once there are more than 6.
_GO_MAX_INTEGER_DIGITS = 6


def floatToGoString(d: Union[SupportsFloat, SupportsIndex, str, bytes]) -> str:
    """Format a number the way Prometheus' Go code does, e.g. for ``le`` and ``quantile`` labels."""
    value = float(d)
    if value == INF:
        return "+Inf"
    if value == MINUS_INF:
        return "-Inf"
    if math.isnan(value):
        return "NaN"
    text = repr(value)
    point = text.find(".")
    # Only positive values need the exponent form (bucket bounds, quantiles).
    if value > 0 and point > _GO_MAX_INTEGER_DIGITS:
        digits = text[:point] + text[point + 1:]
        mantissa = (digits[0] + "." + digits[1:]).rstrip("0.")
        return f"{mantissa}e+{point - 1:02d}"
    return text


def parse_version(version_str: str) -> tuple[Union[int, str], ...]:
    """Split a dotted version into its parts, numeric parts as ints, e.g. ``(0, 26, "dev1")``."""
    parts: list[Union[int, str]] = []
    for part in version_str.split("."):
        try:
            parts.append(int(part))
        except ValueError:
            parts.append(part)
    return tuple(parts)
