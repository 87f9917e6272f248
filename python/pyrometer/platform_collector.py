"""The `python_info` metric: version and implementation of the running interpreter."""

import platform as pf
from typing import Any, Dict, Iterable, List, Optional

from .metrics_core import GaugeMetricFamily, Metric
from .registry import REGISTRY, Collector, CollectorRegistry


class PlatformCollector(Collector):
    """Exports a constant `python_info` gauge labelled with interpreter details (and JVM details on Jython)."""

    def __init__(
        self,
        registry: Optional[CollectorRegistry] = REGISTRY,
        platform: Optional[Any] = None,
    ) -> None:
        self._platform: Any = pf if platform is None else platform
        details = self._python_details()
        if self._platform.system() == "Java":
            details.update(self._jvm_details())
        self._metrics: List[Metric] = [
            self._info_gauge("python_info", "Python platform information", details)
        ]
        if registry:
            registry.register(self)

    def collect(self) -> Iterable[Metric]:
        """The gauge built at construction; the platform does not change while running."""
        return self._metrics

    @staticmethod
    def _info_gauge(name: str, documentation: str, details: Dict[str, str]) -> GaugeMetricFamily:
        """A gauge with one sample of value 1 whose labels are `details`."""
        gauge = GaugeMetricFamily(name, documentation, labels=list(details))
        gauge.add_metric(list(details.values()), 1)
        return gauge

    def _python_details(self) -> Dict[str, str]:
        major, minor, patchlevel = self._platform.python_version_tuple()
        return {
            "version": self._platform.python_version(),
            "implementation": self._platform.python_implementation(),
            "major": major,
            "minor": minor,
            "patchlevel": patchlevel,
        }

    def _jvm_details(self) -> Dict[str, str]:
        java_version, _vendor, (vm_name, vm_release, vm_vendor), _os_info = self._platform.java_ver()
        return {
            "jvm_version": java_version,
            "jvm_release": vm_release,
            "jvm_vendor": vm_vendor,
            "jvm_name": vm_name,
        }


PLATFORM_COLLECTOR = PlatformCollector()
"""The platform collector registered in the default registry."""
