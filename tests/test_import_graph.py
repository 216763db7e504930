"""The package layout, read from the import statements (ast, no imports run): data flows one way.

- No import cycles among the repo's modules. An import inside a function counts too (a lazy import that only
  dodges a circle at start-up is still a circle); imports under `if TYPE_CHECKING:` do not.
- No channel imports another channel, and no channel imports the action server (`actions`): channels reach the
  dialogue only through Rasa, and the back end only through its public functions.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "actions",
    "analytics",
    "backend",
    "benchmarks",
    "channels",
    "console",
    "field",
    "insight",
    "knowledge",
    "nlu",
    "notices",
    "quality",
    "scripts",
    "voice",
)
# the customer- and agent-facing edges: each may use `channels` (the shared layer) and the back end
CHANNELS = ("console", "voice")
SHARED_CHANNEL_LAYER = "channels"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def repo_modules() -> dict[str, Path]:
    return {module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(nodes: list[ast.AST]) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If) and _type_checking(node):
            yield from _imports(list(node.orelse))
        else:
            yield from _imports(list(ast.iter_child_nodes(node)))


def imported(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The repo modules `module` imports (a `from package import name` counts the submodule if there is one)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in _imports(list(tree.body)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


def graph() -> dict[str, set[str]]:
    known = repo_modules()
    return {m: imported(m, p, known) for m, p in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
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
                    work.append((child, iter(sorted(edges.get(child, ())))))
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


def top(module: str) -> str:
    return module.split(".")[0]


def test_the_graph_sees_the_known_edges():
    edges = graph()
    assert "nlu.negation" in edges["actions.extract"]
    assert "backend.pii" in edges["actions"]


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_no_channel_imports_another_channel_or_the_action_server():
    crossings = sorted(
        f"{m} -> {d}"
        for m, deps in graph().items()
        if top(m) in CHANNELS
        for d in deps
        if top(d) != top(m) and (top(d) in CHANNELS or top(d) == "actions")
    )
    assert crossings == []


def test_the_shared_channel_layer_imports_no_channel_and_not_the_action_server():
    crossings = sorted(
        f"{m} -> {d}"
        for m, deps in graph().items()
        if top(m) == SHARED_CHANNEL_LAYER
        for d in deps
        if top(d) in (*CHANNELS, "actions")
    )
    assert crossings == []


def test_cycles_are_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_back_end_and_its_services_import_no_channel_and_not_the_action_server():
    back_end = ("backend", "analytics", "notices")
    crossings = sorted(
        f"{m} -> {d}"
        for m, deps in graph().items()
        if top(m) in back_end and ".testing" not in m
        for d in deps
        if top(d) in (*CHANNELS, "field", "actions")
    )
    assert crossings == []
