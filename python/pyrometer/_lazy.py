"""Names a module hands out on first use, so that importing it stays cheap.

The HTTP servers and the Pushgateway client need ``http.server``, ``ssl``, ``urllib.request``
and ``wsgiref``, which together take most of an interpreter's import time; ``pyrometer`` and
``pyrometer.exposition`` import them only when one of those names is first looked up.
"""

import importlib
from typing import Any, Callable, Dict, List, Mapping, Tuple


def lazy_names(
    namespace: Dict[str, Any], sources: Mapping[str, str]
) -> Tuple[Callable[[str], Any], Callable[[], List[str]]]:
    """The ``__getattr__`` and ``__dir__`` of a module whose names in ``sources`` come from the
    (relative) module named there, imported on first use and then kept in ``namespace``."""
    module_name = namespace["__name__"]
    package = namespace["__package__"]

    def __getattr__(name: str) -> Any:
        source = sources.get(name)
        if source is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(source, package), name)
        namespace[name] = value
        return value

    def __dir__() -> List[str]:
        return sorted(set(namespace) | set(sources))

    return __getattr__, __dir__
