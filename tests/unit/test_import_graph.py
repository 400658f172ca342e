"""No import cycles among Tally's own modules, counting imports inside functions too: a lazy
import only hides a cycle until someone moves it to the top of the file."""
from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import REPO

PACKAGES = ("orchestration", "expectations")


def module_files(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    files = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            files[".".join(parts)] = path
    return files


def _imported_names(tree: ast.AST, module: str, is_package: bool) -> list[str]:
    """Every module name an import statement anywhere in the file asks for."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the file's own package upwards
                package = module.split(".") if is_package else module.split(".")[:-1]
                anchor = package[:len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names += [f"{base}.{alias.name}" for alias in node.names] + [base]
    return names


def import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """module -> the first-party modules it imports (with the packages an import runs on the way)."""
    files = module_files(root, packages)
    graph: dict[str, set[str]] = {m: set() for m in files}
    for module, path in files.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        for name in _imported_names(tree, module, path.name == "__init__.py"):
            parts = name.split(".")
            for i in range(1, len(parts) + 1):
                target = ".".join(parts[:i])
                if target in files and target != module:
                    graph[module].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles():
    graph = import_graph(REPO, PACKAGES)
    # the graph is the real one: the Dagster entry point reaches the asset families
    assert {"orchestration.defs.dbt", "orchestration.defs.resources"} <= graph["orchestration.definitions"]
    assert "orchestration.lib.warehouse" in graph["orchestration.runner"]
    assert cycles(graph) == []


def test_low_level_helpers_import_no_dagster_code():
    graph = import_graph(REPO, PACKAGES)
    lib = [m for m in graph if m.startswith("orchestration.lib.")]
    assert lib
    upward = {m: sorted(t for t in graph[m] if t.startswith("orchestration.")
                        and not t.startswith("orchestration.lib") and t not in ("orchestration",
                                                                                 "orchestration.paths"))
              for m in lib}
    assert {m: t for m, t in upward.items() if t} == {}


def test_a_cycle_through_a_function_level_import_is_found(tmp_path):
    pkg = tmp_path / "app"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from app.sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from ..c import g\n")
    (pkg / "c.py").write_text("import app.a\n\ndef g():\n    pass\n")
    (pkg / "d.py").write_text("from app import c\n")
    graph = import_graph(tmp_path, ("app",))
    assert graph["app.sub.b"] == {"app", "app.c"}
    assert cycles(graph) == [["app.a", "app.c", "app.sub.b"]]
