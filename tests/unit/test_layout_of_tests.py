"""Tests mirror the modules: every module of service/ has a test module named after it that imports
it (module.py -> test_module.py, __main__.py -> test_main.py; an errors.py ->
test_<package>_errors.py, service/errors.py -> test_errors.py; a package's __init__.py ->
test_<package>.py, only when it holds more than imports and a docstring).
Test module names are unique across tests/ (pytest's rootdir mode)."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).parents[2]
SERVICE = ROOT / "service"
TESTS = ROOT / "tests"

# Modules still without their test module while their owners reshape them (issue 19); the list only
# shrinks: a module that gains its test module must leave it (checked below).
NOT_YET: frozenset[str] = frozenset()


def _has_logic(path: Path) -> bool:
    tree = ast.parse(path.read_text())
    for i, node in enumerate(tree.body):
        if i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            continue
        return True
    return False


def expected_tests() -> dict[str, str]:
    """Dotted module name -> the basename of its test module."""
    wanted: dict[str, str] = {}
    for path in sorted(SERVICE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        package = parts[-2]
        if path.name == "__init__.py":
            if not _has_logic(path):
                continue
            wanted[".".join(parts[:-1])] = f"test_{package}.py"
        elif path.name == "errors.py":
            wanted[".".join(parts)] = "test_errors.py" if package == "service" else f"test_{package}_errors.py"
        else:
            wanted[".".join(parts)] = f"test_{path.stem.strip('_')}.py"
    return wanted


def _test_modules() -> dict[str, Path]:
    return {p.name: p for p in TESTS.rglob("test_*.py")}


def _imports(text: str, module: str) -> bool:
    package, _, name = module.rpartition(".")
    return module in text or re.search(rf"from {re.escape(package)} import [^\n]*\b{name}\b", text) is not None


def test_every_service_module_has_a_test_module_that_imports_it() -> None:
    found = _test_modules()
    missing, not_importing = [], []
    for module, test_name in expected_tests().items():
        if module in NOT_YET:
            continue
        test = found.get(test_name)
        if test is None:
            missing.append(f"{module} -> tests/**/{test_name}")
        elif not _imports(test.read_text(), module):
            not_importing.append(f"{test.relative_to(ROOT)} does not import {module}")
    assert not missing, "modules without their test module:\n" + "\n".join(missing)
    assert not not_importing, "\n".join(not_importing)


def test_the_allow_list_only_names_modules_still_missing_their_tests() -> None:
    wanted, found = expected_tests(), _test_modules()
    unknown = sorted(NOT_YET - set(wanted))
    assert not unknown, f"NOT_YET names modules that do not exist (or need no test module): {unknown}"
    done = sorted(m for m in NOT_YET if wanted[m] in found and _imports(found[wanted[m]].read_text(), m))
    assert not done, f"these have their test module now: take them out of NOT_YET: {done}"


def test_test_module_names_are_unique_across_tests() -> None:
    names = Counter(p.name for p in TESTS.rglob("test_*.py"))
    assert [name for name, n in names.items() if n > 1] == []


def test_every_folder_of_tests_is_collected() -> None:
    """pytest runs the folders named in pyproject's testpaths, in that order: a new folder must be
    named there too, or its tests would silently never run."""
    import tomllib

    testpaths = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["testpaths"]
    folders = {str(p.parent.relative_to(ROOT)) for p in TESTS.rglob("test_*.py")}
    assert folders <= set(testpaths), sorted(folders - set(testpaths))
    assert testpaths[-1] == "tests/e2e", "the browser tests run last (see pyproject.toml)"
