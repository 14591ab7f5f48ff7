"""Hand-written mutants of the Lua scripts of a module, for ``make mutation`` (``scripts/mutation.py``).

mutmut mutates Python syntax; a Lua script is one string literal to it, so the rules that live
in the scripts (the lockout window, the lock's lifetime, refresh token reuse detection) were
never mutated. ``scripts/mutation_lua.toml`` lists, per module, mutants written by hand: the
name of the module-level constant holding the script, a snippet of it as it reads, the same
snippet changed, and what the change means. Each mutant is applied to a copy of the project
(the snippet must occur exactly once in that constant's source, so an entry stops matching
loudly when the script changes) and the module's tests run against it: a failing run kills
it, a passing one lets it survive, a run over its time limit counts as killed (as mutmut
counts timeouts). Results are kept in ``.mutation/lua-results.json`` and scored with mutmut's.

Workers are copies of the project in ``.mutation/lua/<n>/``; each pytest run takes a slot
through ``scripts/mutation_isolation.py`` like mutmut's runs (own test database and Redis db).
"""

from __future__ import annotations

import ast
import json
import queue
import shutil
import subprocess
import sys
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "scripts" / "mutation_lua.toml"
# Statuses: "killed" and "timeout" count as detected; "survived" does not; "error" (pytest
# could not run: usage error, no tests collected, interrupted) is reported and not detected.
DETECTED = {"killed", "timeout"}


@dataclass(frozen=True)
class LuaMutant:
    name: str
    script: str
    original: str
    mutant: str
    why: str


def load(module: str, table: Path = TABLE) -> list[LuaMutant]:
    """The Lua mutants listed for ``module`` (``apps/accounts/lockout.py``); ``[]`` when none.
    Raises ``ValueError`` for a malformed table (a missing field, a repeated name, a mutant
    equal to its original)."""
    if not table.exists():
        return []
    entries = tomllib.loads(table.read_text()).get(module, [])
    mutants, seen = [], set()
    for entry in entries:
        missing = {"name", "script", "original", "mutant", "why"} - set(entry)
        if missing:
            raise ValueError(f"{table.name}: an entry of {module} lacks {sorted(missing)}")
        if entry["name"] in seen:
            raise ValueError(f"{table.name}: mutant name {entry['name']!r} is used twice for {module}")
        if entry["original"] == entry["mutant"]:
            raise ValueError(f"{table.name}: {entry['name']} changes nothing")
        seen.add(entry["name"])
        mutants.append(LuaMutant(**{field: entry[field] for field in ("name", "script", "original", "mutant", "why")}))
    return mutants


def apply(source: str, mutant: LuaMutant) -> str:
    """Return module ``source`` with ``mutant.original`` replaced by ``mutant.mutant`` inside the
    top-level assignment to ``mutant.script``. Raises ``ValueError`` when the constant is not
    found or the snippet does not occur exactly once in it."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    for node in tree.body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        if any(isinstance(target, ast.Name) and target.id == mutant.script for target in targets):
            start = offsets[node.lineno - 1] + node.col_offset
            end = offsets[node.end_lineno - 1] + node.end_col_offset
            segment = source[start:end]
            count = segment.count(mutant.original)
            if count != 1:
                raise ValueError(f"{mutant.name}: the snippet occurs {count} times in {mutant.script}, not once")
            return source[:start] + segment.replace(mutant.original, mutant.mutant) + source[end:]
    raise ValueError(f"{mutant.name}: no top-level assignment to {mutant.script}")


def _lay_worker(directory: Path, copied: tuple[str, ...], plugin: Path) -> None:
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".hypothesis")
    for name in copied:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, directory / name, ignore=ignore)
        else:
            shutil.copy2(source, directory / name)
    shutil.copy2(plugin, directory / "mutation_isolation.py")


def _pytest(directory: Path, tests: list[str], env: dict, timeout: float) -> tuple[str, float]:
    """Run the tests in ``directory``; return (status, seconds)."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        *tests,
        "-x",
        "-q",
        "-p",
        "mutation_isolation",
        "-p",
        "no:cacheprovider",
        "--reuse-db",
    ]
    started = time.monotonic()
    try:
        completed = subprocess.run(
            command, cwd=directory, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return "timeout", time.monotonic() - started
    elapsed = time.monotonic() - started
    status = {0: "survived", 1: "killed"}.get(completed.returncode, "error")
    return status, elapsed


def run(
    module: str,
    tests: list[str],
    mutants: list[LuaMutant],
    *,
    workspace: Path,
    copied: tuple[str, ...],
    plugin: Path,
    workers: int,
    env: dict,
) -> dict[str, str]:
    """Run ``tests`` against each of ``mutants`` of ``module``, ``workers`` at a time, after one
    clean run that must pass. Returns ``{name: status}`` and merges it into the workspace's
    results file. Raises ``RuntimeError`` when the clean run fails and ``ValueError`` when a
    mutant no longer applies (checked for all before any run)."""
    source = (ROOT / module).read_text()
    mutated = {mutant.name: apply(source, mutant) for mutant in mutants}
    directories = [workspace / "lua" / str(index) for index in range(workers)]
    for directory in directories:
        _lay_worker(directory, copied, plugin)
    # Output goes nowhere and the interpreter must not write bytecode next to the mutated module
    # (a stale .pyc of another mutant is never read: mtimes differ, but skip the question).
    env = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
    print(f"Lua mutants of {module}: {len(mutants)}; clean run first", flush=True)
    status, clean_seconds = _pytest(directories[0], tests, env, timeout=1800)
    if status != "survived":
        raise RuntimeError(f"the tests fail (or cannot run) without any Lua mutant: {status}")
    timeout = max(60.0, 3 * clean_seconds + 30)
    print(f"  clean run {clean_seconds:.0f} s; limit per mutant {timeout:.0f} s", flush=True)

    free: queue.Queue[Path] = queue.Queue()
    for directory in directories:
        free.put(directory)

    def one(mutant: LuaMutant) -> tuple[str, str]:
        directory = free.get()
        try:
            (directory / module).write_text(mutated[mutant.name])
            status, seconds = _pytest(directory, tests, env, timeout=timeout)
            (directory / module).write_text(source)
        finally:
            free.put(directory)
        print(f"  {mutant.name}: {status} ({seconds:.0f} s)", flush=True)
        return mutant.name, status

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = dict(pool.map(one, mutants))
    results_file = workspace / "lua-results.json"
    stored = json.loads(results_file.read_text()) if results_file.exists() else {}
    stored.setdefault(module, {}).update(results)
    results_file.write_text(json.dumps(stored, indent=2, sort_keys=True))
    return results


def read_results(module: str, workspace: Path) -> dict[str, str]:
    """The stored status of each Lua mutant of ``module`` still in the table (``{}`` when none ran)."""
    results_file = workspace / "lua-results.json"
    if not results_file.exists():
        return {}
    names = {mutant.name for mutant in load(module)}
    return {
        name: status for name, status in json.loads(results_file.read_text()).get(module, {}).items() if name in names
    }


if __name__ == "__main__":  # pragma: no cover - a library of scripts/mutation.py
    sys.exit("run scripts/mutation.py (make mutation) instead")
