"""Fail when a template line is longer than ``[tool.djlint] max_line_length`` (pyproject.toml).

djLint's linter has no line-length rule (its ``max_line_length`` only guides its formatter,
which ``make lint`` does not run: it would re-indent markup that tests and ``<pre>`` blocks
depend on), so ``make lint`` runs this beside ``djlint --lint``. Prints ``path:line: length``
for each long line and exits 1 if there is one, 0 otherwise.
"""

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def long_lines(templates: Path, limit: int) -> list[str]:
    """``"path:line: N characters"`` for every line of ``templates/**/*.html`` over ``limit``."""
    found = []
    for path in sorted(templates.rglob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if len(line) > limit:
                found.append(f"{path.relative_to(ROOT)}:{number}: {len(line)} characters (limit {limit})")
    return found


def main() -> int:
    limit = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["djlint"]["max_line_length"]
    found = long_lines(ROOT / "templates", limit)
    print("\n".join(found) or f"templates: every line within {limit} characters")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
