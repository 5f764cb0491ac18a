"""The shape of the code: imports between the modules of `flows` and `dashboard` form no cycle,
no function in flows/ or dashboard/ is longer than MAX_FUNCTION_LINES, and no dashboard module
longer than MAX_MODULE_LINES.

The import graph is read with `ast`, without importing anything: imports at the top of a module
and inside its functions both count, as do relative imports and `from package import module`.
"""

from __future__ import annotations

import ast
from pathlib import Path

from flows.settings import PROJECT_ROOT

PACKAGES = ("flows", "dashboard")
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 400


def _modules() -> dict[str, Path]:
    """Every module of PACKAGES by dotted name (a package by its own name, for __init__.py)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imported(node: ast.AST, module: str, is_package: bool, modules: dict[str, Path]) -> set[str]:
    """The modules of `modules` an import statement names."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            package = module.split(".") if is_package else module.split(".")[:-1]
            package = package[: len(package) - node.level + 1]
            base = ".".join([*package, base] if base else package)
        # `from package import module` names the module; `from module import name` the module.
        names = [f"{base}.{alias.name}" for alias in node.names] + [base]
    else:
        return set()
    found = set()
    for name in names:
        # The innermost module the name lies in: `flows.load.stage.stage` is flows.load.stage.
        parts = name.split(".")
        while parts and ".".join(parts) not in modules:
            parts.pop()
        if parts:
            found.add(".".join(parts))
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of PACKAGES it imports, anywhere in its text."""
    modules = _modules()
    graph = {}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(), str(path))
        graph[module] = {
            target
            for node in ast.walk(tree)
            for target in _imported(node, module, is_package, modules)
            if target != module
        }
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as [a, b, ..., a], or None (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_imports_between_modules_form_no_cycle():
    graph = import_graph()
    assert "flows.schedule.nightly" in graph and "flows.load.stage" in graph["flows.load.raw"]
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_function_is_too_long_nor_a_dashboard_module():
    """Functions of flows/ and dashboard/, and the dashboard's modules, a reader takes in at
    once."""
    too_long = []
    for path in sorted(p for package in PACKAGES for p in (PROJECT_ROOT / package).rglob("*.py")):
        text, where = path.read_text(), path.relative_to(PROJECT_ROOT)
        lines = len(text.splitlines())
        if where.parts[0] == "dashboard" and lines > MAX_MODULE_LINES:
            too_long.append(f"{where}: {lines} lines")
        tree = ast.parse(text, str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    where = path.relative_to(PROJECT_ROOT)
                    too_long.append(f"{where}:{node.lineno} {node.name}: {lines} lines")
    assert not too_long, "\n".join(too_long)
