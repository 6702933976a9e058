"""The shape of the package: no import cycles (type-checking and function-level
imports included), routers that only translate HTTP, and the layers importing
only downwards."""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

# Independent of the database under test: runs in the SQLite pass only.
pytestmark = pytest.mark.single_pass

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "fastapi_userkit"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imported(name: str) -> Iterator[str]:
    """Every package module *name* imports, wherever the import statement is."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            if target in MODULES and target != name:
                yield target


GRAPH = {name: sorted(set(imported(name))) for name in MODULES}


def find_cycle() -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in GRAPH[node]:
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(GRAPH):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def test_the_import_graph_has_no_cycle() -> None:
    assert find_cycle() is None


def test_the_cycle_finder_finds_cycles() -> None:
    saved = dict(GRAPH)
    try:
        GRAPH["fastapi_userkit.exceptions"] = ["fastapi_userkit.errors"]
        assert find_cycle() is not None
    finally:
        GRAPH.clear()
        GRAPH.update(saved)


LAYERS = [
    # (modules, what they may not import)
    (
        "fastapi_userkit._accounts",
        (
            "fastapi_userkit.routers",
            "fastapi_userkit._http",
            "fastapi_userkit._kit",
            "fastapi_userkit._build",
        ),
    ),
    ("fastapi_userkit.routers", ("fastapi_userkit._kit", "fastapi_userkit._build")),
    (
        "fastapi_userkit._http",
        ("fastapi_userkit.routers", "fastapi_userkit._kit", "fastapi_userkit._build"),
    ),
    (
        "fastapi_userkit.db",
        (
            "fastapi_userkit._accounts",
            "fastapi_userkit.routers",
            "fastapi_userkit._http",
            "fastapi_userkit._kit",
        ),
    ),
]


@pytest.mark.parametrize(("layer", "forbidden"), LAYERS, ids=[layer for layer, _ in LAYERS])
def test_layers_import_only_downwards(layer: str, forbidden: tuple[str, ...]) -> None:
    offending = [
        (name, target)
        for name, targets in GRAPH.items()
        if name == layer or name.startswith(layer + ".")
        for target in targets
        if target.startswith(forbidden)
    ]
    assert offending == []


def test_primitives_never_see_the_settings() -> None:
    """Only the builder, the kit, the command line and the settings' own helpers
    read `UserKitSettings`."""
    readers = {name for name, targets in GRAPH.items() if "fastapi_userkit.config" in targets}
    assert readers <= {
        "fastapi_userkit",
        "fastapi_userkit._build",
        "fastapi_userkit._kit",
        "fastapi_userkit._production",
        "fastapi_userkit.cli",
    }


ROUTER_FILES = sorted((PACKAGE / "routers").glob("*.py"))


@pytest.mark.parametrize("path", ROUTER_FILES, ids=[p.name for p in ROUTER_FILES])
def test_routers_only_translate(path: Path) -> None:
    """No commit, flush, SQL or hook call in a router: they call account operations."""
    source = path.read_text("utf-8")
    for forbidden in (".commit(", ".flush(", ".execute(", "select(", "hooks.", "run_after_hook"):
        assert forbidden not in source, f"{path.name} calls {forbidden}"
