"""The community consensus of an identification request, written once (SPEC "Domain",
"Identification opinions"; iNaturalist's "community taxon" rule).

Each gardener holds at most one current name per request (suggesting or agreeing with a name
replaces their earlier one) and may also disagree with names. For a name X:

- supporters = gardeners whose current name is X;
- voters = gardeners whose current name is any name, plus those who disagree with X without
  naming one themselves.

X holds the consensus when supporters >= 2 and supporters / voters > 2/3. The owner counts like
anyone; machine suggestions are not gardeners and do not count (a gardener agreeing with a
machine-suggested name does). At most one name can hold it: two names with more than two
thirds of the same namers each would need more namers than there are.

``consensus_holds`` is the threshold; ``community_consensus`` applies it to a set of opinions
(the reference the SQL in ``selectors.suggestions_with_consensus`` is tested against).
"""

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

CONSENSUS_MIN_SUPPORTERS = 2


def consensus_holds(*, supporters: int, voters: int) -> bool:
    """``True`` when ``supporters`` gardeners of a name out of ``voters`` (counted as the module
    docstring says) make it the community's: at least 2 and more than two thirds."""
    return supporters >= CONSENSUS_MIN_SUPPORTERS and 3 * supporters > 2 * voters


@dataclass(frozen=True)
class Opinion:
    """One gardener's say on a request: ``name`` their current name (any hashable key, ``None``
    for none) and ``disagrees`` the names they disagree with."""

    gardener: Hashable
    name: Hashable | None = None
    disagrees: frozenset = field(default_factory=frozenset)


def community_consensus(opinions: Iterable[Opinion]) -> Hashable | None:
    """The name holding the consensus among ``opinions`` (one per gardener), or ``None``."""
    opinions = list(opinions)
    namers = sum(1 for opinion in opinions if opinion.name is not None)
    for name in {opinion.name for opinion in opinions if opinion.name is not None}:
        supporters = sum(1 for opinion in opinions if opinion.name == name)
        unnamed_dissent = sum(1 for opinion in opinions if opinion.name is None and name in opinion.disagrees)
        if consensus_holds(supporters=supporters, voters=namers + unnamed_dissent):
            return name
    return None
