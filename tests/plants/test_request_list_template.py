"""The request lists' queryset is cloned from one template built per process instead of
being rebuilt per call (issue 13, section 2): the rows, their top suggestion and the
pagination equal those of the former implementation, a fresh build, on every page."""

import random

import pytest

from apps.plants import selectors
from apps.plants.models import IdentificationSuggestion, PlantIdentificationRequest, SuggestionSource
from tests import factories

pytestmark = pytest.mark.django_db


def _row(request) -> tuple:
    return (
        request.pk,
        request.created_at,
        request.status,
        request.species_id,
        request.species.primary_common_name if request.species_id else None,
        request.accepted_free_text,
        request.top_suggestion_name,
        request.top_suggestion_probability,
    )


def _pages(page_function, *, limit: int) -> list[list[tuple]]:
    pages, cursor = [], None
    while True:
        rows, cursor = page_function(after=cursor, limit=limit)
        pages.append([_row(row) for row in rows])
        if cursor is None:
            return pages


def test_every_page_equals_a_fresh_build(gardener):
    """40 requests (some at the same instant), each with 0-3 suggestions of every kind
    (species with and without a common name, free text, probabilities with NULLs, votes, an
    accepted one): every page of 7 matches the fresh build's, and the template is never run."""
    rng = random.Random(13)
    species = [factories.SpeciesFactory(), factories.SpeciesFactory(primary_common_name="")]
    requests = [
        factories.IdentificationRequestFactory(owner=gardener, thumbnail="", created_at=instant)
        for instant in [factories.IdentificationRequestFactory.build().created_at] * 4
    ] + [factories.IdentificationRequestFactory(owner=gardener, thumbnail="") for _ in range(36)]
    factories.IdentificationRequestFactory(thumbnail="")  # someone else's: never listed
    for request in requests:
        made = [
            IdentificationSuggestion.objects.create(
                request=request,
                species=rng.choice(species + [None]),
                free_text_name="Mystery fern",
                probability=rng.choice([None, 0.1, 0.5, 0.9]),
                source=rng.choice([SuggestionSource.COMMUNITY, SuggestionSource.PLANTNET]),
                vote_count=rng.randint(0, 2),
            )
            for _ in range(rng.randint(0, 3))
        ]
        if made and rng.random() < 0.3:
            PlantIdentificationRequest.objects.filter(pk=request.pk).update(accepted_suggestion=rng.choice(made))

    def fresh(*, after, limit):
        queryset = selectors._build_requests_with_top_suggestion().filter(owner=gardener)
        return selectors._newest_first_page(queryset, limit=limit, after=after)

    def cloned(*, after, limit):
        return selectors.identification_requests_for_user(user=gardener, limit=limit, after=after)

    expected = _pages(fresh, limit=7)
    assert sum(len(page) for page in expected) == 40
    assert any(row[6] is not None for page in expected for row in page)
    assert _pages(cloned, limit=7) == expected
    assert _pages(cloned, limit=7) == expected  # a second run from the same template
    assert selectors._requests_with_top_suggestion_template()._result_cache is None
