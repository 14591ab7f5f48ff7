"""Mutation testing of one module with mutmut (``make mutation MODULE=apps/forum/services.py``).

Not part of CI: a tool for judging how well a module's tests notice changed behaviour.

What it does, in a scratch copy of the project (``.mutation/``, git-ignored):

1. Copies what the tests import (``apps``, ``portal``, ``templates``, ``static``, ``tests``,
   ``conftest.py``, ``pytest.ini``, ``manage.py``) and rewrites MODULE so that mutmut mutates
   its decorated functions too. mutmut 3 skips every function with a decorator other than
   ``@staticmethod``/``@classmethod`` (its trampoline wraps undecorated functions only), which
   left the ``@transaction.atomic`` services unmutated. The rewrite turns each decorated
   top-level function into the plain function followed by the same application written out::

       @transaction.atomic                    def topic_create(...):
       def topic_create(...):          ->         ...
           ...                                topic_create = transaction.atomic(topic_create)

   which is what the decorator syntax means (PEP 318), so behaviour is unchanged; mutmut then
   wraps the plain function in its trampoline and the decorator wraps the trampoline. The
   project's own files are never changed. Decorated methods inside classes stay skipped.
2. Writes mutmut's configuration (``.mutation/pyproject.toml``): only MODULE is mutated, the
   tests run are ``--tests`` (default ``tests/<app>`` for ``apps/<app>/...``).
3. Runs mutmut with ``--max-children`` workers. Each pytest session (mutmut's own runs and one
   forked child per mutant) takes a free slot through ``scripts/mutation_isolation.py``: its own
   PostgreSQL test database ``<prefix>_<slot>`` (kept between mutants with ``--reuse-db``, dropped
   at the start and end of a run) and its own Redis db (``--redis-dbs``, one per slot), and drops
   the database connections it inherited from the process it was forked from.
4. Prints the score: killed (timeouts included) / (all mutants - known equivalent survivors),
   the survivors with their diffs, and equivalences that no longer match anything. Equivalent
   mutants are listed, with the reason, in ``scripts/mutation_equivalents.toml`` and matched by
   function and changed text (not by mutmut's numbering, which shifts when the module changes).

5. Runs the module's hand-written Lua mutants (``scripts/mutation_lua.toml``; mutmut cannot
   mutate a script held in a string) against the same tests, in worker copies of the project
   with the same isolation (``scripts/mutation_lua.py``), and scores them apart and together
   with mutmut's.

``--mutants NAME...`` re-runs only those mutants in the existing ``.mutation/`` (tests re-copied
first), for checking new tests against known survivors without a full run; Lua mutants are
named as in the table. ``--lua-only`` runs only the Lua mutants.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import mutation_lua  # scripts/ is on sys.path when this file runs as a script

ROOT = Path(__file__).resolve().parent.parent
WORKSPACE = ROOT / ".mutation"
EQUIVALENTS = ROOT / "scripts" / "mutation_equivalents.toml"
PLUGIN = ROOT / "scripts" / "mutation_isolation.py"
# What the tests import or read at run time; copied into the workspace.
COPIED = ("apps", "portal", "templates", "static", "tests", "conftest.py", "pytest.ini", "manage.py")
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/portal"  # as portal/settings/test.py
# mutmut's statuses (mutmut.stats.status_by_exit_code) that mean "a test noticed".
DETECTED = {"killed", "timeout", "segfault", "caught by type check"}


def undecorate(source: str) -> str:
    """Return ``source`` with every decorated top-level function written as the plain function
    followed by ``name = decorator(name)`` (decorators applied bottom-up, as Python does), so
    that mutmut mutates it. Raises ``libcst.ParserSyntaxError`` for source libcst cannot read."""
    import libcst as cst

    module = cst.parse_module(source)
    body: list = []
    for statement in module.body:
        if not (isinstance(statement, cst.FunctionDef) and statement.decorators):
            body.append(statement)
            continue
        name = statement.name.value
        applied: cst.BaseExpression = cst.Name(name)
        for decorator in reversed(statement.decorators):
            applied = cst.Call(func=decorator.decorator, args=[cst.Arg(applied)])
        body.append(statement.with_changes(decorators=[]))
        body.append(cst.SimpleStatementLine([cst.Assign(targets=[cst.AssignTarget(cst.Name(name))], value=applied)]))
    return module.with_changes(body=body).code


def _copy_project(module: str) -> None:
    """Lay the workspace anew: the project's files, MODULE rewritten, the isolation plugin."""
    if WORKSPACE.exists():
        shutil.rmtree(WORKSPACE)
    WORKSPACE.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".hypothesis")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, WORKSPACE / name, ignore=ignore)
        else:
            shutil.copy2(source, WORKSPACE / name)
    target = WORKSPACE / module
    target.write_text(undecorate((ROOT / module).read_text()))
    shutil.copy2(PLUGIN, WORKSPACE / "mutation_isolation.py")


def _refresh_tests() -> None:
    """Copy the current tests into an existing workspace (and mutmut's copy of it)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for base in (WORKSPACE, WORKSPACE / "mutants"):
        shutil.copytree(ROOT / "tests", base / "tests", ignore=ignore, dirs_exist_ok=True)
        shutil.copy2(ROOT / "conftest.py", base / "conftest.py")
        shutil.copy2(PLUGIN, base / "mutation_isolation.py")


def _toml_list(values) -> str:
    return "[" + ", ".join(f'"{value}"' for value in values) + "]"


def _write_config(module: str, tests: list[str]) -> None:
    also_copy = [name for name in COPIED if name not in ("apps", "tests")] + ["mutation_isolation.py"]
    (WORKSPACE / "pyproject.toml").write_text(
        "# Written by scripts/mutation.py for this run; edit the script, not this file.\n"
        "[tool.mutmut]\n"
        'source_paths = ["apps"]\n'
        f"only_mutate = {_toml_list([module])}\n"
        f"also_copy = {_toml_list(also_copy)}\n"
        f"pytest_add_cli_args_test_selection = {_toml_list(tests)}\n"
        # Each worker's session sets up Django and checks its kept test database before the
        # first test: give every mutant that much on top of mutmut's estimate.
        'pytest_add_cli_args = ["-p", "mutation_isolation", "-p", "no:cacheprovider", "--reuse-db"]\n'
        "timeout_constant = 10.0\n"
        "use_git_change_detection = false\n"
    )


def _test_databases(prefix: str, slots: int) -> list[str]:
    return [f"{prefix}_{slot}" for slot in range(slots)]


def _drop_databases(names: list[str]) -> None:
    """Drop the workers' test databases (``--reuse-db`` keeps them between mutants)."""
    import psycopg

    url = urlsplit(os.environ.get("TEST_DATABASE_URL", DEFAULT_DATABASE_URL))
    with psycopg.connect(
        host=url.hostname,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        dbname="postgres",
        autocommit=True,
    ) as connection:
        for name in names:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')


@dataclass(frozen=True)
class Mutant:
    name: str
    status: str
    function: str
    removed: str
    added: str
    diff: str


def _function_of(mutant_name: str) -> str:
    """``apps.forum.services.x_topic_create__mutmut_3`` -> ``topic_create``;
    ``...xǁ_TopicTransitionǁ__exit____mutmut_2`` -> ``_TopicTransition.__exit__``."""
    mangled = mutant_name.rpartition(".")[2].rpartition("__mutmut_")[0]
    if mangled.startswith("xǁ"):
        return ".".join(mangled[2:].split("ǁ"))
    return mangled.removeprefix("x_")


def _changed_lines(diff: str, sign: str) -> str:
    return "\n".join(
        line[1:].strip() for line in diff.splitlines() if line.startswith(sign) and not line.startswith(sign * 3)
    )


def _read_results(module: str) -> list[Mutant]:
    """Every mutant of ``module`` with its status and diff, read through mutmut's own API from
    the workspace (its configuration and result files live there)."""
    os.chdir(WORKSPACE)
    from mutmut.__main__ import SourceFileMutationData, get_diff_for_mutant, status_by_exit_code

    data = SourceFileMutationData(path=Path(module))
    data.load()
    mutants = []
    for name, exit_code in sorted(data.exit_code_by_key.items(), key=lambda item: _natural(item[0])):
        status = status_by_exit_code[exit_code]
        diff = "" if status in DETECTED else get_diff_for_mutant(name, path=Path(module))
        mutants.append(
            Mutant(name, status, _function_of(name), _changed_lines(diff, "-"), _changed_lines(diff, "+"), diff)
        )
    return mutants


def _natural(name: str) -> tuple[str, int]:
    stem, _, number = name.rpartition("__mutmut_")
    return stem, int(number) if number.isdigit() else 0


def _equivalences(module: str) -> list[dict]:
    """The equivalent mutants listed for ``module`` in ``scripts/mutation_equivalents.toml``."""
    if not EQUIVALENTS.exists():
        return []
    return tomllib.loads(EQUIVALENTS.read_text()).get(module, [])


def _matches(mutant: Mutant, entry: dict) -> bool:
    return (
        mutant.function == entry["function"]
        and mutant.removed == "\n".join(line.strip() for line in entry["original"].strip().splitlines())
        and mutant.added == "\n".join(line.strip() for line in entry["mutant"].strip().splitlines())
    )


def report(module: str, *, elapsed: float | None, show_diffs: bool = True) -> float:
    """Print the statuses, the score and what is left to judge, for mutmut's mutants and the
    module's Lua mutants (``scripts/mutation_lua.toml``) apart and together. Returns the
    combined score (0..100)."""
    # A Lua-only run may have no mutmut results for this module (none yet, or another module's).
    mutants = _read_results(module) if (WORKSPACE / "mutants" / f"{module}.meta").exists() else []
    entries = _equivalences(module)
    counts: dict[str, int] = {}
    for mutant in mutants:
        counts[mutant.status] = counts.get(mutant.status, 0) + 1
    survivors = [mutant for mutant in mutants if mutant.status not in DETECTED]
    equivalent = {mutant.name: entry for mutant in survivors for entry in entries if _matches(mutant, entry)}
    unmatched_entries = [entry for entry in entries if entry not in equivalent.values()]
    undecided = [mutant for mutant in survivors if mutant.name not in equivalent]
    detected = sum(1 for mutant in mutants if mutant.status in DETECTED)
    judged = len(mutants) - len(equivalent)
    score = 100.0 * detected / judged if judged else 100.0

    print()
    print(f"Mutation testing of {module}")
    print("  " + ", ".join(f"{status}: {count}" for status, count in sorted(counts.items())))
    if undecided and show_diffs:
        print()
        print(f"Survivors not listed as equivalent ({len(undecided)}):")
        for mutant in undecided:
            print(f"--- {mutant.name} ({mutant.status})")
            print(mutant.diff.rstrip() or "    (no diff)")
    if equivalent:
        print()
        print(f"Equivalent mutants excluded ({len(equivalent)}, scripts/mutation_equivalents.toml):")
        for name, entry in equivalent.items():
            print(f"  {name}: {entry['reason']}")
    if unmatched_entries:
        print()
        print(f"Listed equivalences that matched no surviving mutant ({len(unmatched_entries)}); remove or update:")
        for entry in unmatched_entries:
            print(f"  {entry['function']}: {entry['original'].strip()!r} -> {entry['mutant'].strip()!r}")
    print()
    print(
        f"Mutants: {len(mutants)}; detected (killed or timed out): {detected}; survived: {len(survivors)} "
        f"(equivalent: {len(equivalent)}, not yet judged or missing a test: {len(undecided)})"
    )
    print(f"Score (mutmut): {detected} / {judged} non-equivalent mutants killed = {score:.1f} %")
    lua_detected, lua_judged = _report_lua(module, show_diffs=show_diffs)
    if lua_judged:
        detected, judged = detected + lua_detected, judged + lua_judged
        score = 100.0 * detected / judged if judged else 100.0
        print(f"Score (mutmut and Lua): {detected} / {judged} non-equivalent mutants killed = {score:.1f} %")
    if elapsed is not None:
        print(f"Run time: {elapsed / 60:.1f} min")
    return score


def _report_lua(module: str, *, show_diffs: bool) -> tuple[int, int]:
    """Print the Lua mutants' results; return (detected, judged). A hand-written mutant is
    meant to change behaviour, so every one is judged; one not yet run counts as not killed."""
    table = mutation_lua.load(module)
    if not table:
        return 0, 0
    results = mutation_lua.read_results(module, WORKSPACE)
    detected = sum(1 for mutant in table if results.get(mutant.name) in mutation_lua.DETECTED)
    missed = [mutant for mutant in table if results.get(mutant.name) not in mutation_lua.DETECTED]
    print()
    print(f"Lua mutants of {module} (scripts/mutation_lua.toml): {len(table)}")
    if missed and show_diffs:
        print(f"Not killed ({len(missed)}):")
        for mutant in missed:
            print(f"--- {mutant.name} ({results.get(mutant.name, 'not run')}) in {mutant.script}: {mutant.why}")
            print("\n".join(f"-   {line}" for line in mutant.original.strip("\n").splitlines()))
            print("\n".join(f"+   {line}" for line in mutant.mutant.strip("\n").splitlines()))
    print(f"Score (Lua): {detected} / {len(table)} killed = {100.0 * detected / len(table):.1f} %")
    return detected, len(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("module", help="the file to mutate, e.g. apps/forum/services.py")
    parser.add_argument("--tests", nargs="+", help="test paths to run (default: tests/<app>)")
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--redis-dbs", default="13,14,15", help="Redis db numbers, one per worker slot")
    parser.add_argument("--db-prefix", default="test_portal_mut", help="test database name prefix")
    parser.add_argument("--mutants", nargs="+", help="re-run only these mutants in the existing workspace")
    parser.add_argument("--report-only", action="store_true", help="print the score of the last run")
    parser.add_argument(
        "--lua-only", action="store_true", help="run only the module's Lua mutants (scripts/mutation_lua.toml)"
    )
    parser.add_argument("--fail-under", type=float, help="exit 1 when the score is below this percentage")
    args = parser.parse_args(argv)

    module = Path(args.module).as_posix()
    if not module.endswith(".py") or not (ROOT / module).is_file():
        parser.error(f"{module} is not a Python file of this project")
    parts = Path(module).parts
    tests = args.tests or ([f"tests/{parts[1]}"] if parts[0] == "apps" and len(parts) > 2 else ["tests"])
    redis_dbs = [db.strip() for db in args.redis_dbs.split(",") if db.strip()]
    if not 1 <= args.max_children <= len(redis_dbs):
        parser.error(f"--max-children must be between 1 and the number of Redis dbs given ({len(redis_dbs)})")

    lua_table = mutation_lua.load(module)
    lua_names = {mutant.name for mutant in lua_table}
    lua_chosen = [mutant for mutant in lua_table if not args.mutants or mutant.name in args.mutants]
    mutmut_names = [name for name in args.mutants or [] if name not in lua_names]
    run_mutmut = not args.lua_only and (not args.mutants or bool(mutmut_names))

    elapsed = None
    if not args.report_only:
        import mutmut  # noqa: F401  (installed by `make mutation`; fail early and clearly)

        if run_mutmut and args.mutants:
            if not (WORKSPACE / "mutants").exists():
                parser.error("--mutants needs a previous full run (.mutation/mutants is missing)")
            if (WORKSPACE / module).read_text() != undecorate((ROOT / module).read_text()):
                parser.error(f"{module} changed since the last full run: run without --mutants")
            _refresh_tests()
        elif run_mutmut:
            _copy_project(module)
        WORKSPACE.mkdir(exist_ok=True)
        if run_mutmut:
            _write_config(module, tests)
        databases = _test_databases(args.db_prefix, len(redis_dbs))
        _drop_databases(databases)
        (WORKSPACE / "locks").mkdir(exist_ok=True)
        env = {
            **os.environ,
            "MUTATION_REDIS_DBS": ",".join(redis_dbs),
            "MUTATION_DB_PREFIX": args.db_prefix,
            "MUTATION_LOCK_DIR": str(WORKSPACE / "locks"),
        }
        command = [str(Path(sys.executable).parent / "mutmut"), "run", "--max-children", str(args.max_children)]
        started = time.monotonic()
        try:
            if run_mutmut:
                completed = subprocess.run([*command, *mutmut_names], cwd=WORKSPACE, env=env, check=False)
                if completed.returncode != 0:
                    print(f"mutmut stopped with exit code {completed.returncode}", file=sys.stderr)
                    return completed.returncode
            if lua_chosen:
                lua_started = time.monotonic()
                mutation_lua.run(
                    module,
                    tests,
                    lua_chosen,
                    workspace=WORKSPACE,
                    copied=COPIED,
                    plugin=PLUGIN,
                    workers=args.max_children,
                    env=env,
                )
                print(f"Lua mutants run time: {(time.monotonic() - lua_started) / 60:.1f} min")
        finally:
            _drop_databases(databases)
        elapsed = time.monotonic() - started
    score = report(module, elapsed=elapsed)
    if args.fail_under is not None and score < args.fail_under:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
