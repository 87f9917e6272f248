#!/usr/bin/env python3
"""Fails when the top-level modules of a crate depend on each other in a circle.

A module's dependencies are the `crate::name` paths its files use (macro bodies included, since
the code they expand to is the module's). A crate's modules should form layers: the folder tree
then reads from the bottom (errors, arguments) up to what ties them together (the crate root).
"""

import re
import sys
from pathlib import Path


def modules(src: Path) -> dict[str, set[str]]:
    names = {p.stem for p in src.glob("*.rs")} | {p.name for p in src.iterdir() if p.is_dir()}
    names -= {"lib", "main", "mod"}
    deps: dict[str, set[str]] = {name: set() for name in names}
    for path in src.rglob("*.rs"):
        top = path.relative_to(src).parts[0].removesuffix(".rs")
        if top not in deps:
            continue
        text = re.sub(r"//.*", "", path.read_text())
        used = set(re.findall(r"crate::(\w+)", text))
        for group in re.findall(r"crate::\{([^}]*)\}", text, re.S):
            used |= set(re.findall(r"(?:^|,)\s*(\w+)", group))
        deps[top] |= {name for name in used if name in names and name != top}
    return deps


def circles(deps: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(deps[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(deps):
        if v not in index:
            visit(v)
    return found


def main() -> int:
    """Checks the crates named on the command line, or every crate."""
    root = Path(__file__).resolve().parent.parent
    wanted = sys.argv[1:]
    failed = False
    for src in sorted(root.glob("crates/*/src")):
        if wanted and src.parent.name not in wanted:
            continue
        for component in circles(modules(src)):
            failed = True
            print(f"{src.parent.name}: modules in a circle: {', '.join(component)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
