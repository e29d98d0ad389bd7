"""Ssllib's imports point one way (DESIGN.md's floors); any cycle, at module level or
inside a function, fails here with the modules that form it."""
import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "ssllib"


def internal_imports(path: Path) -> set[str]:
    """The ssllib modules `path` imports anywhere in its body ("ssllib" for the package itself)."""
    modules = {p.stem for p in PKG.glob("*.py")}
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.level == 1 or (node.module or "").startswith("ssllib")):
            base = (node.module or "").removeprefix("ssllib").lstrip(".")
            if base:
                out.add(base.split(".")[0])
            else:  # from . import x: x is a module, or a name of the package's __init__
                out |= {a.name if a.name in modules else "__init__" for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name.split(".")[1] for a in node.names if a.name.startswith("ssllib.")}
    return out - {path.stem}


def find_cycle(graph: dict) -> list[str] | None:
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None
    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_ssllib_has_no_import_cycle():
    graph = {p.stem: internal_imports(p) for p in PKG.glob("*.py")}
    assert graph["train"] and "experiments" in graph["__main__"]  # the parser sees imports
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
