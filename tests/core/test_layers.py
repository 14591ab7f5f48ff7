"""SPEC "Layout": the import graph has ``core`` at the ground floor and no loops.

Every module under ``apps/`` and ``portal/`` is parsed and walked with ``ast.walk``, so an
import inside a function, a method or an ``if TYPE_CHECKING:`` block counts like one at the top
of the file: a function-level import hides a dependency from the reader, not from this test.

Layers, lowest first (SPEC "Layout", STYLE "Where code lives"): ``core`` imports no other app;
``accounts`` imports only ``core``; ``plants`` and ``forum`` import ``core`` and ``accounts``
and never each other; ``dashboard`` imports any of those; ``demo`` (demo and benchmark data)
may import every app; ``portal`` (settings, root URLs) sits above the apps, which never import
it. A new app must be given a layer here before its first import is accepted.

Imports by string count too: ``importlib.import_module("apps.forum.services")``,
``__import__(...)`` and ``apps.get_model("forum", "Post")`` / ``get_model("forum.Post")`` (the
app's ``models``). Project code never imports the test, e2e, benchmark or script packages.
"""

import ast
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
PACKAGES = ("apps", "portal")
# Packages beside the project code that it must never import.
OUTSIDE = ("tests", "e2e", "benchmarks", "scripts")
IMPORT_BY_NAME = ("import_module", "__import__")
MODEL_BY_LABEL = ("get_model", "get_app_config")

# App -> the apps it may import (itself always allowed).
MAY_IMPORT: dict[str, set[str]] = {
    "core": set(),
    "accounts": {"core"},
    # A shared domain piece in the accounts layer (SPEC "Layout"); accounts itself never imports it.
    "notifications": {"core", "accounts"},
    "plants": {"core", "accounts", "notifications"},
    "forum": {"core", "accounts", "notifications"},
    "dashboard": {"core", "accounts", "notifications", "plants", "forum"},
    "demo": {"core", "accounts", "notifications", "plants", "forum", "dashboard"},
}


@dataclass(frozen=True)
class Import:
    """One import statement's target, as found in ``path`` at ``line``."""

    source: str  # importing module, dotted
    target: str  # imported module, dotted (the most specific module that exists)
    path: str  # relative to the project
    line: int
    text: str  # the statement as written

    def __str__(self) -> str:
        return f"{self.path}:{self.line} `{self.text}` ({self.source} -> {self.target})"


def _module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` under the checked packages."""
    found = {}
    for package in PACKAGES:
        for path in sorted((PROJECT / package).rglob("*.py")):
            parts = path.relative_to(PROJECT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The most specific module of ours that importing ``name`` runs (``apps.core.x.Y`` ->
    ``apps.core.x``), or ``None`` for a third-party or standard-library name."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def _names_imported_by_call(node: ast.Call) -> list[str]:
    """Dotted module names a call imports by string: ``import_module("apps.x")``,
    ``__import__("apps.x")`` -> ``apps.x``; ``get_model("forum", "Post")``,
    ``get_model("forum.Post")``, ``get_app_config("forum")`` -> ``apps.forum.models``. Other
    calls, or arguments that are not string literals, give ``[]``."""
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if called not in IMPORT_BY_NAME + MODEL_BY_LABEL or not node.args:
        return []
    first = node.args[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return []
    if called in IMPORT_BY_NAME:
        return [first.value]
    return [f"apps.{first.value.split('.')[0]}.models"]


def _imports() -> list[Import]:
    modules = _module_files()
    found: dict[tuple[str, str, int], Import] = {}
    for source, path in modules.items():
        is_package = path.name == "__init__.py"
        package = source if is_package else source.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                # ``from package import submodule`` imports the submodule; ``from module
                # import name`` the module.
                names = [f"{module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Call) and (names := _names_imported_by_call(node)):
                pass
            else:
                continue
            text = ast.unparse(node)
            rel = str(path.relative_to(PROJECT))
            for name in names:
                target = name if name.split(".")[0] in OUTSIDE else _resolve(name, modules)
                if target is not None and target != source:
                    found.setdefault((source, target, node.lineno), Import(source, target, rel, node.lineno, text))
    return list(found.values())


def _app_of(module: str) -> str | None:
    """``apps.forum.views`` -> ``forum``; ``portal.urls`` -> ``None`` (above the apps)."""
    parts = module.split(".")
    return parts[1] if parts[0] == "apps" and len(parts) > 1 else None


def test_every_app_has_a_layer():
    """An app missing from ``MAY_IMPORT`` would escape the check: give it a layer first."""
    apps = {path.name for path in (PROJECT / "apps").iterdir() if (path / "__init__.py").exists()}
    assert apps == set(MAY_IMPORT), f"apps without a layer here: {sorted(apps - set(MAY_IMPORT))}"


def test_apps_import_only_lower_layers():
    """``core`` imports no other app; ``accounts`` only ``core``; ``plants`` and ``forum`` only
    ``core`` and ``accounts``, never each other; ``dashboard`` those four; ``demo`` any app; no
    app imports ``portal``. Imports in functions and ``TYPE_CHECKING`` blocks count."""
    wrong = []
    for imp in _imports():
        source_app = _app_of(imp.source)  # portal (None) sits above every app
        if imp.target.split(".")[0] in OUTSIDE:
            wrong.append(f"{imp}: project code never imports {imp.target.split('.')[0]}")
            continue
        if source_app is None and imp.source.startswith("portal"):
            continue
        if imp.target.startswith("portal"):
            wrong.append(f"{imp}: apps never import portal (read settings through django.conf)")
            continue
        target_app = _app_of(imp.target)
        if source_app is None or target_app is None or target_app == source_app:
            continue
        allowed = MAY_IMPORT.get(source_app, set())
        if target_app not in allowed:
            may = ", ".join(sorted(allowed)) or "no other app"
            wrong.append(f"{imp}: {source_app} may import {may}, not {target_app}")
    assert not wrong, "imports against SPEC's layers:\n" + "\n".join(wrong)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
    return components


def test_no_import_cycles_between_modules():
    """No module reaches itself through imports (SPEC "Layout": no import loops). A loop held
    together by a function-level import is still a loop: it is reported with every import
    inside it, so the one to cut can be chosen."""
    imports = _imports()
    edges: dict[str, set[str]] = defaultdict(set)
    for imp in imports:
        edges[imp.source].add(imp.target)
    report = []
    for component in _cycles(edges):
        members = set(component)
        inside = [imp for imp in imports if imp.source in members and imp.target in members]
        report.append(f"loop between {', '.join(component)}:\n  " + "\n  ".join(str(imp) for imp in inside))
    assert not report, "import loops:\n" + "\n".join(report)


def test_the_checker_sees_imports_inside_functions_and_type_checking_blocks(tmp_path, monkeypatch):
    """The walk is not fooled by where an import sits: a function-level import and a
    ``TYPE_CHECKING`` import from ``core`` into a domain app are both reported, with line."""
    (tmp_path / "apps" / "core").mkdir(parents=True)
    (tmp_path / "apps" / "accounts").mkdir(parents=True)
    for package in ("apps", "apps/core", "apps/accounts"):
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "apps" / "accounts" / "models.py").write_text("from apps.core import sneaky\n")
    (tmp_path / "apps" / "core" / "sneaky.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from apps.accounts.models import User\n"
        "def f():\n"
        "    from apps.accounts import models\n"
    )
    (tmp_path / "portal").mkdir()
    monkeypatch.setattr(sys.modules[__name__], "PROJECT", tmp_path)
    found = {(imp.path, imp.line, imp.target) for imp in _imports()}
    assert ("apps/core/sneaky.py", 3, "apps.accounts.models") in found
    assert ("apps/core/sneaky.py", 5, "apps.accounts.models") in found
    edges = defaultdict(set)
    for imp in _imports():
        edges[imp.source].add(imp.target)
    assert _cycles(edges) == [["apps.accounts.models", "apps.core.sneaky"]]


def test_the_checker_sees_imports_by_string_and_of_test_code(tmp_path, monkeypatch):
    """``import_module``, ``__import__``, ``apps.get_model`` with a label, and an import of the
    test code are all reported from ``core``."""
    (tmp_path / "apps" / "core").mkdir(parents=True)
    (tmp_path / "apps" / "forum").mkdir(parents=True)
    for package in ("apps", "apps/core", "apps/forum"):
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "apps" / "forum" / "models.py").write_text("")
    (tmp_path / "apps" / "forum" / "services.py").write_text("")
    (tmp_path / "apps" / "core" / "sly.py").write_text(
        "import importlib\n"
        "from django.apps import apps\n"
        "services = importlib.import_module('apps.forum.services')\n"
        "forum = __import__('apps.forum')\n"
        "Post = apps.get_model('forum', 'Post')\n"
        "Topic = apps.get_model('forum.Topic')\n"
        "from tests import factories\n"
        "name = 'apps.forum'\n"
        "dynamic = importlib.import_module(name)\n"
    )
    (tmp_path / "portal").mkdir()
    monkeypatch.setattr(sys.modules[__name__], "PROJECT", tmp_path)
    found = {(imp.line, imp.target) for imp in _imports()}
    assert found == {
        (3, "apps.forum.services"),
        (4, "apps.forum"),
        (5, "apps.forum.models"),
        (6, "apps.forum.models"),
        (7, "tests.factories"),
    }
    with pytest.raises(AssertionError, match="project code never imports tests"):
        test_apps_import_only_lower_layers()
