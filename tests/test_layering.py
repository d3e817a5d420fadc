"""The package's layering, read from the source: Flask stays in the adapters, no import
cycle, no private name used from another module.

The services are called by routes, socket handlers, the CLI and the drill
scheduler alike; a service that reached for ``flask.current_app`` or
``render_template`` would work from a route and fail (or quietly use defaults)
from the others. Function-level imports hide cycles from Python's own import
machinery, so the walk counts them too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "coordination"

# The adapters: the app factory, the Flask extensions and the layers that serve HTTP,
# sockets and the command line. i18n.py is the Flask-Babel setup (the locale comes from
# the session); auth/identity.py reads who is calling from the HTTP request, for web/
# and realtime/ alike.
ADAPTERS = (
    "coordination", "coordination.extensions", "coordination.wsgi", "coordination.cli",
    "coordination.cli_common", "coordination.epi_cli", "coordination.i18n",
    "coordination.auth.identity",
)
ADAPTER_PACKAGES = ("coordination.web", "coordination.realtime")


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> list[tuple[str, list[str], int]]:
    """(module, names imported from it, line) for every import, function-level ones too."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((module, [a.name for a in node.names], node.lineno))
    return found


def _targets(module: str, names: list[str]) -> set[str]:
    """The package's own modules an import loads: a submodule named, else the module."""
    out = set()
    for n in names or [""]:
        sub = f"{module}.{n}"
        out.add(sub if n and sub in MODULES else module)
    return {m for m in out if m in MODULES}


def _is_adapter(name: str) -> bool:
    return name in ADAPTERS or any(name == p or name.startswith(p + ".")
                                   for p in ADAPTER_PACKAGES)


def test_flask_stays_in_the_adapters() -> None:
    offenders = [
        f"{name} (line {line}) imports {module}"
        for name, path in MODULES.items()
        if not _is_adapter(name)
        for module, _, line in _imports(name, path)
        if module == "flask" or module.startswith("flask.")
    ]
    assert not offenders, "Flask below the adapters:\n" + "\n".join(offenders)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycle() -> None:
    graph = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for module, names, _ in _imports(name, path):
            graph[name] |= _targets(module, names) - {name}
    cycles = _cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def _private_uses(name: str, path: Path) -> list[str]:
    """Private names of another module of the package, imported or read as attributes."""
    tree = ast.parse(path.read_text("utf-8"))
    aliases: dict[str, str] = {}
    out = []
    for module, _names, line in _imports(name, path):
        if not module.startswith("coordination"):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.lineno == line:
                for a in node.names:
                    target = f"{module}.{a.name}"
                    if target in MODULES:
                        aliases[a.asname or a.name] = target
                    elif a.name.startswith("_") and not a.name.startswith("__"):
                        out.append(f"{name} (line {line}) imports {module}.{a.name}")
            elif isinstance(node, ast.Import) and node.lineno == line:
                for a in node.names:
                    if a.asname:
                        aliases[a.asname] = a.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases and node.attr.startswith("_")
                and not node.attr.startswith("__")):
            out.append(f"{name} (line {node.lineno}) reads {aliases[node.value.id]}.{node.attr}")
    return out


@pytest.mark.parametrize("package", sorted(
    p.name for p in (Path(__file__).parents[1] / "coordination").iterdir()
    if (p / "__init__.py").exists() and p.name not in ("migrations", "translations")))
def test_no_private_name_crosses_a_module_boundary(package: str) -> None:
    prefix = f"coordination.{package}"
    offenders = [use for name, path in MODULES.items()
                 if name == prefix or name.startswith(prefix + ".")
                 for use in _private_uses(name, path)]
    assert not offenders, "\n".join(offenders)
