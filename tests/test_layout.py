"""The package's layout: imports between subpackages go one way, with no circle anywhere.

The order is written down in docs/architecture.md; this test reads every import statement (at
module level and inside functions) of every module and holds the code to it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grandstaff

PACKAGE = Path(grandstaff.__file__).parent
#: Each part may import only parts of a lower rank (and itself).
RANKS = {"errors": 0, "bounds": 1, "files": 1, "text": 1, "workers": 1, "backend": 1,
         "music": 2, "output": 2, "corpus": 3, "models": 4, "composing": 5, "judging": 6,
         "serving": 6, "cli": 7, "__init__": 7}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Modules of the package that ``path`` imports, as dotted names below ``grandstaff``."""
    name = _module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                candidate = f"{target}.{alias.name}" if target else alias.name
                found.add(candidate if _exists(candidate) else target)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("grandstaff."):
            found.add(node.module.removeprefix("grandstaff."))
    return {f for f in found if f and f != name}


def _exists(dotted: str) -> bool:
    path = PACKAGE.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for p in PACKAGE.rglob("*.py")
            if "clefs" not in p.parts}


def test_subpackages_import_only_downwards():
    wrong = []
    for module, targets in _graph().items():
        top = module.split(".")[0] or "__init__"
        for target in targets:
            other = target.split(".")[0]
            if other != top and RANKS[other] >= RANKS[top]:
                wrong.append(f"{module} imports {target}")
    assert not wrong, wrong


def test_no_import_circles():
    graph = _graph()
    graph = {m: {t for t in ts if t in graph} for m, ts in graph.items()}
    visiting, done, circles = set(), set(), []

    def visit(module, trail):
        if module in visiting:
            circles.append(trail[trail.index(module):] + [module])
            return
        if module in done:
            return
        visiting.add(module)
        for target in sorted(graph[module]):
            if not (module.count(".") == 0 and target.startswith(f"{module}.")):
                visit(target, trail + [module])
        visiting.discard(module)
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
    assert not circles, circles


def test_every_module_has_a_rank():
    assert {m.split(".")[0] or "__init__" for m in _graph()} <= set(RANKS)
