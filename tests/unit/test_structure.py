"""The house rules of ARCHITECTURE.md, read from the code itself: each layer imports only the
layers below it (no import circles), pure image logic and the job engine know nothing of the web,
every module states its public names and keeps to others' public ones, no module outgrows 400
lines, and no two modules share a name."""

from __future__ import annotations

import ast
from collections import Counter
from functools import cache
from pathlib import Path

ROOT = Path(__file__).parents[2]
SERVICE = ROOT / "service"
MAX_LINES = 400
WEB = ("litestar", "uvicorn", "starlette", "h11", "httptools")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(SERVICE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if path.name == "__init__.py" else parts)
        found[name] = path
    return found


@cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text())


def _absolute(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def _imports(module: str, path: Path) -> list[tuple[str, tuple[str, ...]]]:
    """Every import anywhere in the module (functions too): (module imported, names taken)."""
    found: list[tuple[str, tuple[str, ...]]] = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            found += [(alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((_absolute(module, path, node), tuple(alias.name for alias in node.names)))
    return found


def _service_edges() -> dict[str, set[str]]:
    modules = _modules()
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for target, names in _imports(module, path):
            for candidate in [f"{target}.{n}" for n in names] + [target]:
                if candidate in modules and candidate != module:
                    edges[module].add(candidate)
                    break
    return edges


def test_the_modules_import_each_other_without_a_circle() -> None:
    edges = _service_edges()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import circle: " + " -> ".join([*stack[stack.index(nxt) :], nxt]))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)


def test_pure_layers_know_nothing_of_the_web_or_the_layers_above() -> None:
    forbidden = {
        "service.imaging": (
            *WEB,
            "service.api",
            "service.jobs",
            "service.grid",
            "service.pool",
            "service.engine",
            "service.settings",
        ),
        "service.imgurl": (*WEB, "service.api", "service.jobs", "service.grid", "service.pool"),
        "service.sources": (*WEB, "service.api", "service.jobs", "service.grid"),
        "service.pool": (*WEB, "service.api", "service.jobs", "service.grid", "service.engine"),
        "service.grid": (*WEB, "service.api", "service.jobs"),
        "service.jobs": (*WEB, "service.api"),
        "service.errors": (*WEB, "service.api", "service.imaging", "service.pool", "service.jobs"),
    }
    offences = []
    for module, path in _modules().items():
        for layer, banned in forbidden.items():
            if module == layer or module.startswith(layer + "."):
                offences += [
                    f"{module} imports {target}"
                    for target, _ in _imports(module, path)
                    if any(target == b or target.startswith(b + ".") for b in banned)
                ]
    assert not offences, offences


def test_every_module_states_its_public_names_and_they_exist() -> None:
    missing, wrong = [], []
    for module, path in _modules().items():
        tree = _tree(path)
        if path.name == "__init__.py" and not any(not isinstance(n, ast.Expr) for n in tree.body):
            continue  # an empty package face
        declared = [
            n
            for n in tree.body
            if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in n.targets)
        ]
        if not declared:
            missing.append(module)
            continue
        names = ast.literal_eval(declared[0].value)
        defined = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node in tree.body:
                defined.add(node.name)
            elif isinstance(node, ast.Assign | ast.AnnAssign) and node in tree.body:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                defined |= {t.id for t in targets if isinstance(t, ast.Name)}
            elif isinstance(node, ast.ImportFrom | ast.Import) and node in tree.body:
                defined |= {(a.asname or a.name).split(".")[0] for a in node.names}
        wrong += [f"{module}.{name}" for name in names if name not in defined or name.startswith("_")]
    assert not missing, f"modules without __all__: {missing}"
    assert not wrong, f"__all__ names that are not public names of the module: {wrong}"


def test_no_module_takes_another_modules_private_names() -> None:
    modules = _modules()
    offences = [
        f"{module} takes {target}.{name}"
        for module, path in modules.items()
        for target, names in _imports(module, path)
        if target.startswith("service")
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert not offences, offences


def test_no_module_is_over_400_lines() -> None:
    long = {m: n for m, p in _modules().items() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, long


def test_no_two_modules_share_a_file_name() -> None:
    names = Counter(p.name for p in SERVICE.rglob("*.py") if p.name not in ("__init__.py", "errors.py"))
    assert not [n for n, count in names.items() if count > 1]
