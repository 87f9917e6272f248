"""pyrometer standing in for prometheus_client, for code that imports prometheus_client itself.

After :func:`install`, ``import prometheus_client`` and every ``prometheus_client.X`` import give
the pyrometer module of the same name: the very same object (``sys.modules["prometheus_client.core"]
is pyrometer.core``), so ``isinstance`` checks and ``mock.patch("prometheus_client.exposition.X")``
reach pyrometer, and prometheus_client's own code is never loaded. A submodule pyrometer lacks
raises ``ModuleNotFoundError`` rather than falling through to the real package.

``importlib.metadata.version("prometheus_client")`` keeps answering: the real distribution's
metadata where it is installed, else a stand-in's, version :data:`VERSION`, whose summary names
pyrometer.

Three ways to turn it on:

* ``pyrometer.install()`` early in the program, before anything imports prometheus_client;
* ``PYROMETER_AS_PROMETHEUS_CLIENT=1`` in the environment: the ``pyrometer_standin.pth`` file
  that the wheel puts in site-packages calls :func:`install` as the interpreter starts;
* ``pyrometer-run CMD ARGS...`` (or ``python -m pyrometer.standin CMD ARGS...``): runs the
  command with that variable set, so it and every Python process it starts use pyrometer.
"""

import importlib
import os
import sys
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import TYPE_CHECKING, Any, Iterable, List, Optional, Sequence

if TYPE_CHECKING:
    from importlib.abc import Loader as _Loader
    from importlib.metadata import Distribution, DistributionFinder
else:
    # importlib.abc costs milliseconds to import; the import system needs only the methods.
    _Loader = object

__all__ = ["ENVIRONMENT_VARIABLE", "VERSION", "install", "run"]

ENVIRONMENT_VARIABLE = "PYROMETER_AS_PROMETHEUS_CLIENT"
"""Set to ``1`` (anything but empty or ``0``), it makes every interpreter start with :func:`install` done."""

VERSION = "0.26.0"
"""The prometheus_client version pyrometer matches, which the stand-in's metadata reports."""

_UPSTREAM = "prometheus_client"
_OURS = "pyrometer"
# site reads .pth files in name order: this one comes after an editable install's pyrometer.pth
# ("_" sorts after "."), which puts the package on sys.path.
_PTH_FILE = "pyrometer_standin.pth"


def _ours_for(name: str) -> Optional[str]:
    """The pyrometer module name that stands for ``name``, if ``name`` is prometheus_client's."""
    if name == _UPSTREAM or name.startswith(_UPSTREAM + "."):
        return _OURS + name[len(_UPSTREAM) :]
    return None


class _StandIn(_Loader):
    """The finder and loader on ``sys.meta_path`` that answer every ``prometheus_client[.X]``
    import with the module ``pyrometer[.X]``, and the distribution finder for its metadata."""

    # Recognised by this mark rather than by class, which a reload of this module would renew.
    _pyrometer_standin = True

    def find_spec(
        self, fullname: str, path: Optional[Sequence[str]] = None, target: Optional[ModuleType] = None
    ) -> Optional[ModuleSpec]:
        """A spec whose loader hands out the pyrometer module; ``None`` for other names.
        Raises ``ModuleNotFoundError`` for a module pyrometer does not have."""
        ours = _ours_for(fullname)
        if ours is None:
            return None
        try:
            module = importlib.import_module(ours)
        except ModuleNotFoundError as error:
            if error.name is None or not (ours + ".").startswith(error.name + "."):
                raise
            # Raised rather than returning None: another finder would find the real package's file.
            raise ModuleNotFoundError(
                f"No module named {fullname!r}: pyrometer stands in for prometheus_client and has no {ours!r}",
                name=fullname,
            ) from None
        return ModuleSpec(fullname, self, loader_state=(module, module.__spec__))

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        """The pyrometer module itself, already imported by :meth:`find_spec`."""
        module: ModuleType = spec.loader_state[0]
        return module

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run; gives the module back its own ``__spec__``, which the import system
        replaced with the alias's."""
        alias_spec = module.__spec__
        if alias_spec is not None and isinstance(alias_spec.loader_state, tuple):
            module.__spec__ = alias_spec.loader_state[1]

    def find_distributions(self, context: Optional["DistributionFinder.Context"] = None) -> Iterable["Distribution"]:
        """The stand-in's distribution, when prometheus_client's is asked for (or all are) and
        no other finder has the real one."""
        from importlib import metadata  # already loaded: only importlib.metadata calls this

        if context is None:
            context = metadata.DistributionFinder.Context()
        if context.name is not None and _normalized(context.name) != _normalized(_UPSTREAM):
            return ()
        real = metadata.DistributionFinder.Context(name=_UPSTREAM, path=context.path)
        for finder in sys.meta_path:
            if getattr(finder, "_pyrometer_standin", False):
                continue
            find = getattr(finder, "find_distributions", None)
            if find is not None and any(True for _ in find(real)):
                return ()
        return (_distribution(),)


def _normalized(name: str) -> str:
    """A distribution name as packaging compares them: lower case, runs of ``-_.`` as one ``-``."""
    return "-".join(part for part in name.lower().replace("_", "-").replace(".", "-").split("-") if part)


_METADATA = f"""\
Metadata-Version: 2.1
Name: {_UPSTREAM}
Version: {VERSION}
Summary: pyrometer standing in for prometheus_client {VERSION} (pyrometer.install()); not the prometheus_client package
"""


def _distribution() -> "Distribution":
    """The stand-in distribution: metadata only, no files."""
    from importlib import metadata
    from pathlib import Path

    class StandInDistribution(metadata.Distribution):
        """prometheus_client's metadata as pyrometer stands in for it."""

        def read_text(self, filename: str) -> Optional[str]:
            if filename == "METADATA":
                return _METADATA
            if filename == "top_level.txt":
                return _UPSTREAM + "\n"
            return None

        def locate_file(self, path: Any) -> Path:
            return Path(os.path.dirname(os.path.dirname(__file__)), path)

    return StandInDistribution()


def install() -> None:
    """Makes every later ``import prometheus_client[.X]`` give pyrometer's module of the same
    name. Doing it again does nothing.

    Raises ``RuntimeError`` if the real prometheus_client is already imported: its objects and
    pyrometer's would then live side by side, and metrics would be split between them."""
    if any(getattr(finder, "_pyrometer_standin", False) for finder in sys.meta_path):
        return
    real = sorted(
        name
        for name, module in list(sys.modules.items())
        if _ours_for(name) is not None and not getattr(module, "__name__", "").startswith(_OURS)
    )
    if real:
        raise RuntimeError(
            "pyrometer cannot stand in for prometheus_client: the real package is already imported "
            f"({', '.join(real[:3])}{', ...' if len(real) > 3 else ''}). Call pyrometer.install() before anything imports prometheus_client, "
            f"or set {ENVIRONMENT_VARIABLE}=1 in the environment (or start with pyrometer-run)."
        )
    sys.meta_path.insert(0, _StandIn())


def _pth_installed() -> bool:
    """Whether the start-up hook is in a site-packages directory this interpreter reads."""
    import site

    directories: List[str] = list(getattr(site, "getsitepackages", lambda: [])())
    if site.ENABLE_USER_SITE:
        directories.append(site.getusersitepackages())
    return any(os.path.exists(os.path.join(directory, _PTH_FILE)) for directory in directories)


def run(argv: Optional[Sequence[str]] = None) -> int:
    """``pyrometer-run CMD ARGS...``: runs the command (in place of this process) with
    :data:`ENVIRONMENT_VARIABLE` set, so it and the Python processes it starts use pyrometer
    wherever they import prometheus_client. Returns only on failure: 2 for no command, 127 for
    a command not found."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(
            "usage: pyrometer-run CMD [ARGS...]\n\n"
            "Runs CMD with pyrometer standing in for prometheus_client: the command and every Python\n"
            f"process it starts get pyrometer's modules for `import prometheus_client` ({ENVIRONMENT_VARIABLE}=1).",
            file=sys.stdout if args else sys.stderr,
        )
        return 0 if args else 2
    if not _pth_installed():
        print(
            f"pyrometer-run: warning: {_PTH_FILE} is not in this interpreter's site-packages, so Python "
            "processes will not see the stand-in; reinstall pyrometer",
            file=sys.stderr,
        )
    os.environ[ENVIRONMENT_VARIABLE] = "1"
    try:
        os.execvp(args[0], args)
    except FileNotFoundError:
        print(f"pyrometer-run: {args[0]}: command not found", file=sys.stderr)
        return 127
    except PermissionError as error:
        print(f"pyrometer-run: {args[0]}: {error.strerror}", file=sys.stderr)
        return 126
    return 0  # pragma: no cover - execvp does not return


if __name__ == "__main__":
    sys.exit(run())
