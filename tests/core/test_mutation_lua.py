"""The hand-written Lua mutants of ``make mutation`` (``scripts/mutation_lua.py``, README
"Mutation testing") stay in step with the scripts they change: every entry of
``scripts/mutation_lua.toml`` applies to its module exactly once and yields Python that still
compiles, so a changed script fails here rather than silently at the next mutation run."""

import ast
import importlib.util
import sys
import tomllib
from pathlib import Path

import pytest

from apps.core.scripts import NOW_MS

ROOT = Path(__file__).resolve().parents[2]


def _mutation_lua():
    """``scripts/mutation_lua.py`` (scripts/ is no package), registered as dataclasses need."""
    if "mutation_lua" not in sys.modules:
        spec = importlib.util.spec_from_file_location("mutation_lua", ROOT / "scripts" / "mutation_lua.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["mutation_lua"] = module
        spec.loader.exec_module(module)
    return sys.modules["mutation_lua"]


def _entries():
    table = tomllib.loads((ROOT / "scripts" / "mutation_lua.toml").read_text())
    return [(module, entry["name"]) for module, entries in table.items() for entry in entries]


@pytest.mark.parametrize(("module", "name"), _entries())
def test_every_lua_mutant_applies_once_to_its_script(module, name):
    mutation_lua = _mutation_lua()
    (mutant,) = [mutant for mutant in mutation_lua.load(module) if mutant.name == name]
    source = (ROOT / module).read_text()
    mutated = mutation_lua.apply(source, mutant)
    assert mutated != source and mutant.why.strip()
    compile(mutated, module, "exec")
    # The constant's value (the Lua text) changes exactly where the snippet was.
    original_value = _constant(source, mutant.script)
    mutated_value = _constant(mutated, mutant.script)
    assert mutated_value == original_value.replace(mutant.original, mutant.mutant)


def _constant(source: str, name: str) -> str:
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            # NOW_MS is the only name the script constants concatenate.
            return eval(compile(ast.Expression(node.value), "<constant>", "eval"), {"NOW_MS": NOW_MS})
    raise AssertionError(f"{name} not found")


def test_apply_refuses_a_snippet_that_is_missing_or_repeated():
    mutation_lua = _mutation_lua()
    source = 'A = """\nx = 1\nx = 1\n"""\nB = "y"\n'

    def mutant(original, script="A"):
        return mutation_lua.LuaMutant(name="m", script=script, original=original, mutant="z", why="test")

    with pytest.raises(ValueError, match="2 times"):
        mutation_lua.apply(source, mutant("x = 1"))
    with pytest.raises(ValueError, match="0 times"):
        mutation_lua.apply(source, mutant("y"))
    with pytest.raises(ValueError, match="no top-level assignment"):
        mutation_lua.apply(source, mutant("y", script="C"))
    assert mutation_lua.apply(source, mutant("y", script="B")) == 'A = """\nx = 1\nx = 1\n"""\nB = "z"\n'


def test_the_table_is_well_formed(tmp_path):
    mutation_lua = _mutation_lua()
    table = tmp_path / "table.toml"
    table.write_text('[["m.py"]]\nname = "a"\nscript = "S"\noriginal = "x"\nmutant = "x"\nwhy = "w"\n')
    with pytest.raises(ValueError, match="changes nothing"):
        mutation_lua.load("m.py", table)
    table.write_text('[["m.py"]]\nname = "a"\nscript = "S"\noriginal = "x"\nmutant = "y"\n')
    with pytest.raises(ValueError, match="lacks"):
        mutation_lua.load("m.py", table)
    assert mutation_lua.load("other.py", table) == []
