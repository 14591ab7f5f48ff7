"""The UTS #39 skeleton (``apps.core.confusables``) on its vendored data."""

import hashlib

import pytest

from apps.core.confusables import CONFUSABLES_PATH, CONFUSABLES_SHA256, skeleton


def test_the_data_file_is_the_published_one():
    """``confusables.txt`` is Unicode's file byte for byte (its version 13.0.0 header, the
    checksum the module records), so what the skeleton uses can be checked against unicode.org."""
    data = CONFUSABLES_PATH.read_bytes()
    assert hashlib.sha256(data).hexdigest() == CONFUSABLES_SHA256
    assert b"# Version: 13.0.0" in data[:400]


@pytest.mark.parametrize(
    "lookalike, plain",
    [
        ("g\u0430rdener", "gardener"),  # Cyrillic a
        ("r\u03bfsa", "rosa"),  # Greek omicron
        ("\u0440\u043e\u0440\u0440\u0443", "poppy"),  # all Cyrillic: er, o, er, er, u
        ("I", "l"),  # capital i and small L
        ("1", "l"),
        ("0", "O"),
        ("m", "rn"),  # in confusables.txt since Unicode 8
        ("cafe\u0301", "caf\u00e9"),  # NFD first: a combining accent is the precomposed letter
        ("rosa\u3164", "rosa"),  # a Hangul filler (default ignorable) renders as nothing
        ("ro\u200bsa", "rosa"),  # zero-width space
    ],
)
def test_lookalikes_share_a_skeleton(lookalike, plain):
    assert skeleton(lookalike) == skeleton(plain)


@pytest.mark.parametrize("one, other", [("rosa", "rose"), ("gardener", "Gardener"), ("i", "l"), ("basil", "basll")])
def test_different_looking_strings_keep_different_skeletons(one, other):
    """Letter case is kept (folding it is the caller's choice); ``i`` is not ``l``."""
    assert skeleton(one) != skeleton(other)


def test_skeleton_is_idempotent_on_prototypes():
    """A prototype maps to itself (UTS #39: ``skeleton(skeleton(x)) == skeleton(x)``)."""
    for text in ("g\u0430rdener", "I1l0O", "m\u0456lk", "\uff47\uff41\uff52\uff44\uff45\uff4e"):
        assert skeleton(skeleton(text)) == skeleton(text)
