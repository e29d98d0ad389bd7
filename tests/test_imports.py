"""Ssllib's imports point one way (the floors of the README's layout table); any cycle, at module level or
inside a function, fails here with the modules that form it."""
import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "ssllib"


def module_name(path: Path) -> str:
    """'train' for ssllib/train.py, 'items.section2' for ssllib/items/section2.py, 'items' for its
    __init__, '__init__' for the package's own."""
    parts = list(path.relative_to(PKG).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts)


MODULES = {module_name(p) for p in PKG.rglob("*.py")}


def internal_imports(path: Path) -> set[str]:
    """The ssllib modules `path` imports anywhere in its body, subpackages' modules included
    ("__init__" for the package itself, "items" for ssllib/items/__init__.py)."""
    package = list(path.relative_to(PKG).parent.parts)
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("ssllib")):
            if node.level:
                base = package[:len(package) - (node.level - 1)] + ([node.module] if node.module else [])
            else:
                base = [m for m in [(node.module or "").removeprefix("ssllib").lstrip(".")] if m]
            module = ".".join(base)
            for alias in node.names:  # from . import x: x is a module, or a name of the package's init
                full = f"{module}.{alias.name}" if module else alias.name
                out.add(full if full in MODULES else module or "__init__")
        elif isinstance(node, ast.Import):
            out |= {a.name.removeprefix("ssllib.") for a in node.names if a.name.startswith("ssllib.")}
    return {m if m in MODULES else m.split(".")[0] for m in out} - {module_name(path)}


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
    """Every module, ssllib/items/ included."""
    graph = {module_name(p): internal_imports(p) for p in PKG.rglob("*.py")}
    assert graph["train"] and "experiments" in graph["__main__"]  # the parser sees imports
    assert {"items.section2", "items.chen_he"} <= graph["items"] and "experiment_spec" in graph["items.section3"]
    assert "items" in graph["experiments"]
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def hidden_imports(path: Path) -> list[str]:
    """'line N: statement' for each import of an ssllib module inside a function or class body."""
    tree = ast.parse(path.read_text())
    top = {id(n) for n in tree.body}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and id(node) not in top and \
                (node.level or (node.module or "").startswith("ssllib")):
            out.append(f"line {node.lineno}: {ast.unparse(node)}")
    return out


def test_imports_sit_at_the_file_heads(tmp_path):
    """No cycle needs an import inside a function (the test above sees those too), so every import
    of an ssllib module is at its file's head, where a reader looks for what a module depends on."""
    hidden = {module_name(p): hidden_imports(p) for p in PKG.rglob("*.py")}
    assert {m: h for m, h in hidden.items() if h} == {}
    toy = tmp_path / "toy.py"
    toy.write_text("from .config import Config\n\ndef f():\n    from .plan import PLAN\n    return PLAN\n")
    assert hidden_imports(toy) == ["line 4: from .plan import PLAN"]  # the finder sees one
