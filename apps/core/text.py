"""Rules for short text that other people read: a topic's subject, a suggested plant name, a care
card's nickname, a report's details, a moderator's reason.

Unicode's explicit direction controls (embeddings and overrides U+202A-U+202E, isolates
U+2066-U+2069) reorder how the characters after them are shown, so a name can display as
something other than what was stored ("Trojan Source", CVE-2021-42574; Unicode TR #36 section
2.1, "Bidirectional text spoofing"). One-line fields refuse them with a message; text in the
right-to-left scripts needs none of them to display correctly. Longer Markdown bodies are left
alone: a writer mixing scripts may use isolates there, and each post renders in its own block.
"""

import re

from django.core.exceptions import ValidationError

DIRECTION_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
DIRECTION_CONTROLS_MESSAGE = (
    "Remove the invisible text-direction characters (U+202A to U+202E, U+2066 to U+2069): "
    "they make text display differently from what it says."
)


def refuse_direction_controls(value: str) -> None:
    """A form-field validator: raises ``ValidationError`` (code ``direction_controls``) when
    ``value`` holds an explicit bidirectional embedding, override or isolate character (see
    the module docstring); returns ``None`` otherwise."""
    if isinstance(value, str) and DIRECTION_CONTROLS.search(value):
        raise ValidationError(DIRECTION_CONTROLS_MESSAGE, code="direction_controls")
