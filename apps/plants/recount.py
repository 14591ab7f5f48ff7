"""What a suggestion's vote counters mean: the recount is the definition (as ``apps.forum.recount``
is for the forum's).

- ``vote_count`` counts the suggestion's agreeing ``SuggestionVote`` rows, ``disagree_count`` its
  disagreeing ones.
- a vote's ``request`` is its suggestion's request (the copy the one-current-name constraint and
  the consensus counts read; ``apps.plants.consensus``).

``services.suggestion_vote`` keeps them equal to this with ``F()`` in the same transaction as
each vote; account deletion (``personal_data``) recounts the suggestions whose votes it removed;
``manage.py identification_recount`` repairs drift and ``--check`` reports it.
"""

from dataclasses import dataclass

from django.db.models import F, OuterRef, Subquery

from apps.core.db import SubqueryCount

from .models import IdentificationSuggestion, SuggestionVote

SUGGESTION_FIELDS = ("vote_count", "disagree_count")


def suggestion_expectations() -> dict:
    """Expressions, for a query over ``IdentificationSuggestion``, of what ``vote_count`` and
    ``disagree_count`` should hold."""
    votes = SuggestionVote.objects.filter(suggestion=OuterRef("pk"))
    return {
        "vote_count": SubqueryCount(votes.filter(agrees=True)),
        "disagree_count": SubqueryCount(votes.filter(agrees=False)),
    }


@dataclass(frozen=True)
class VoteDrift:
    """One suggestion counter that differs from its definition."""

    pk: int
    field: str
    stored: int
    expected: int

    def __str__(self) -> str:
        return f"suggestion {self.pk}: {self.field} is {self.stored}, expected {self.expected}"


def suggestion_vote_drift() -> list[VoteDrift]:
    """Every suggestion counter that differs from its votes, by suggestion id. One statement
    (read in chunks); changes nothing."""
    expected = {f"expected_{name}": expression for name, expression in suggestion_expectations().items()}
    rows = (
        IdentificationSuggestion.objects.annotate(**expected).values("pk", *SUGGESTION_FIELDS, *expected).order_by("pk")
    )
    return [
        VoteDrift(row["pk"], name, row[name], row[f"expected_{name}"])
        for row in rows.iterator(chunk_size=5000)
        for name in SUGGESTION_FIELDS
        if row[name] != row[f"expected_{name}"]
    ]


def suggestion_votes_recount(*, suggestion_ids: list[int] | None = None) -> int:
    """Rewrite ``vote_count`` and ``disagree_count`` from the votes, for ``suggestion_ids``
    (``None``: every suggestion). One ``UPDATE``; returns the rows updated."""
    suggestions = IdentificationSuggestion.objects.all()
    if suggestion_ids is not None:
        suggestions = suggestions.filter(pk__in=suggestion_ids)
    return suggestions.update(**suggestion_expectations())


def _misfiled_votes():
    return SuggestionVote.objects.exclude(request_id=F("suggestion__request_id"))


def vote_request_drift() -> list[int]:
    """Ids of votes whose ``request`` is not their suggestion's request; one statement."""
    return list(_misfiled_votes().order_by("pk").values_list("pk", flat=True))


def vote_requests_repair() -> int:
    """Set every misfiled vote's ``request`` to its suggestion's; one ``UPDATE``, returns rows."""
    return _misfiled_votes().update(
        request_id=Subquery(IdentificationSuggestion.objects.filter(pk=OuterRef("suggestion_id")).values("request_id"))
    )
