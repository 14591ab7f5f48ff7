"""The community consensus of an identification request (issue 12; SPEC "Domain",
"Identification opinions"): one current name per gardener and request, the two-thirds rule
written once (``apps.plants.consensus``) and computed in SQL by the request page's selector,
held by the store under concurrent clicks."""

import threading
import time
from fractions import Fraction

import pytest
from django.db import IntegrityError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.plants import selectors, services
from apps.plants.consensus import Opinion, community_consensus, consensus_holds
from apps.plants.models import IdentificationSuggestion, SuggestionSource, SuggestionVote
from apps.plants.recount import suggestion_vote_drift, vote_request_drift
from tests import factories

X, Y = "X", "Y"


# --- The rule, pure ----------------------------------------------------------------------------


def test_two_gardeners_naming_x_make_x_the_consensus():
    assert community_consensus([Opinion("A", X), Opinion("B", X)]) == X


def test_two_of_three_is_not_more_than_two_thirds():
    assert community_consensus([Opinion("A", X), Opinion("B", X), Opinion("C", Y)]) is None


def test_three_of_four_is():
    opinions = [Opinion("A", X), Opinion("B", X), Opinion("C", X), Opinion("D", Y)]
    assert community_consensus(opinions) == X


def test_a_disagreement_without_a_name_counts_as_a_voter():
    opinions = [Opinion("A", X), Opinion("B", None, frozenset({X})), Opinion("C", X)]
    assert community_consensus(opinions) is None


def test_two_gardeners_agreeing_with_each_others_names_make_no_consensus():
    """The failing case of issue 12: A suggests X, B suggests Y, each agrees with the other's
    name. Each holds one current name (the last they chose): A=Y, B=X, so 1 supporter each."""
    assert community_consensus([Opinion("A", Y), Opinion("B", X)]) is None
    assert not consensus_holds(supporters=1, voters=2)


def test_one_gardener_is_never_a_consensus():
    assert community_consensus([Opinion("A", X)]) is None


def _reference(opinions: list[Opinion]) -> list:
    """Brute force, straight from the SPEC's words, with exact fractions."""
    holding = []
    names = sorted({opinion.name for opinion in opinions if opinion.name is not None})
    for name in names:
        supporters = [o.gardener for o in opinions if o.name == name]
        voters = {o.gardener for o in opinions if o.name is not None} | {
            o.gardener for o in opinions if o.name is None and name in o.disagrees
        }
        if len(supporters) >= 2 and Fraction(len(supporters), len(voters)) > Fraction(2, 3):
            holding.append(name)
    return holding


NAMES = ["a", "b", "c", "d"]
opinion_sets = st.lists(
    st.tuples(st.none() | st.sampled_from(NAMES), st.frozensets(st.sampled_from(NAMES))),
    max_size=12,
).map(
    lambda rows: [
        Opinion(index, name, disagrees - {name} if name else disagrees) for index, (name, disagrees) in enumerate(rows)
    ]
)


@settings(max_examples=500, derandomize=True)
@given(opinion_sets)
def test_at_most_one_name_holds_the_consensus_and_it_is_the_references(opinions):
    holding = _reference(opinions)
    assert len(holding) <= 1
    assert community_consensus(opinions) == (holding[0] if holding else None)


# --- The store and the selector ----------------------------------------------------------------


@pytest.fixture
def open_request(db):
    return factories.IdentificationRequestFactory(thumbnail="")


def _community(id_request, species):
    return IdentificationSuggestion.objects.create(
        request=id_request, species=species, source=SuggestionSource.COMMUNITY
    )


def _consensus_ids(id_request, viewer):
    suggestions = selectors.identification_request_detail(id_request=id_request, viewer=viewer)["suggestions"]
    return [s.pk for s in suggestions if s.is_consensus]


def test_suggesting_or_agreeing_replaces_the_gardeners_earlier_name(open_request):
    """A suggests X, B suggests Y, each then agrees with the other's name: one agreeing vote
    each, counters exact, and neither row shows "Community consensus"."""
    a, b = factories.UserFactory.create_batch(2)
    x_species, y_species = factories.SpeciesFactory.create_batch(2)
    x = services.suggestion_add(id_request=open_request, suggester=a, species=x_species, free_text_name="")
    y = services.suggestion_add(id_request=open_request, suggester=b, species=y_species, free_text_name="")
    services.suggestion_vote(suggestion=y, voter=a, agrees=True)
    services.suggestion_vote(suggestion=x, voter=b, agrees=True)
    assert SuggestionVote.objects.filter(request=open_request, agrees=True).count() == 2
    x.refresh_from_db(), y.refresh_from_db()
    assert (x.vote_count, y.vote_count) == (1, 1)
    assert _consensus_ids(open_request, a) == [] and suggestion_vote_drift() == []


def test_the_four_examples_through_the_store(open_request):
    a, b, c, d = factories.UserFactory.create_batch(4)
    x_species, y_species = factories.SpeciesFactory.create_batch(2)
    x, y = _community(open_request, x_species), _community(open_request, y_species)
    for voter in (a, b):
        services.suggestion_vote(suggestion=x, voter=voter, agrees=True)
    assert _consensus_ids(open_request, a) == [x.pk]  # 2/2
    services.suggestion_vote(suggestion=y, voter=c, agrees=True)
    assert _consensus_ids(open_request, a) == []  # 2/3
    services.suggestion_vote(suggestion=x, voter=d, agrees=True)
    assert _consensus_ids(open_request, a) == [x.pk]  # 3/4 (c names Y)
    # A=X, B disagrees with X, C=X: 2/3.
    services.suggestion_vote(suggestion=x, voter=c, agrees=True)
    services.suggestion_vote(suggestion=x, voter=b, agrees=False)
    services.suggestion_vote(suggestion=x, voter=d, agrees=True)  # toggles d's name off
    assert _consensus_ids(open_request, a) == []
    assert suggestion_vote_drift() == [] and vote_request_drift() == []


def test_agreeing_replaces_a_disagreement_and_disagreeing_withdraws_the_name(open_request):
    gardener = factories.UserFactory()
    x = _community(open_request, factories.SpeciesFactory())
    services.suggestion_vote(suggestion=x, voter=gardener, agrees=False)
    services.suggestion_vote(suggestion=x, voter=gardener, agrees=True)
    assert list(SuggestionVote.objects.values_list("agrees", flat=True)) == [True]
    services.suggestion_vote(suggestion=x, voter=gardener, agrees=False)
    assert list(SuggestionVote.objects.values_list("agrees", flat=True)) == [False]
    x.refresh_from_db()
    assert (x.vote_count, x.disagree_count) == (0, 1)


def test_the_owner_counts_and_a_machine_suggestion_does_not(open_request):
    """Two providers suggesting the same species are one name; a gardener agreeing with each
    row supports it; the owner's agreement counts like anyone's; the machine rows themselves
    are no one's opinion."""
    species = factories.SpeciesFactory()
    plant_id = factories.SuggestionFactory(request=open_request, species=species, source=SuggestionSource.PLANT_ID)
    plantnet = factories.SuggestionFactory(request=open_request, species=species, source=SuggestionSource.PLANTNET)
    helper = factories.UserFactory()
    services.suggestion_vote(suggestion=plant_id, voter=helper, agrees=True)
    assert _consensus_ids(open_request, helper) == []
    services.suggestion_vote(suggestion=plantnet, voter=open_request.owner, agrees=True)
    assert _consensus_ids(open_request, helper) == [plant_id.pk]  # one row of the name shows it


def test_the_database_refuses_a_second_current_name(open_request):
    gardener = factories.UserFactory()
    x, y = _community(open_request, factories.SpeciesFactory()), _community(open_request, factories.SpeciesFactory())
    SuggestionVote.objects.create(suggestion=x, request=open_request, voter=gardener, agrees=True)
    SuggestionVote.objects.create(suggestion=y, request=open_request, voter=gardener, agrees=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        SuggestionVote.objects.filter(suggestion=y, voter=gardener).update(agrees=True)


@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.none() | st.integers(0, 3), st.frozensets(st.integers(0, 3))),
        min_size=1,
        max_size=5,
    )
)
def test_the_selector_agrees_with_the_rule(open_request, choices):
    """Random opinion sets written through the services (four rows: two species, a free-text
    name, and a second provider's row of the first species, which is the same name): the row
    the selector marks is the one name ``community_consensus`` finds, on one row at most."""
    with transaction.atomic():
        first, second = factories.SpeciesFactory.create_batch(2)
        rows = [
            factories.SuggestionFactory(request=open_request, species=first, source=SuggestionSource.PLANT_ID),
            _community(open_request, second),
            IdentificationSuggestion.objects.create(
                request=open_request, free_text_name="Meadow sage", source=SuggestionSource.COMMUNITY
            ),
            factories.SuggestionFactory(request=open_request, species=first, source=SuggestionSource.PLANTNET),
        ]
        key = {0: "first", 1: "second", 2: "sage", 3: "first"}
        gardeners = factories.UserFactory.create_batch(len(choices))
        opinions = []
        for gardener, (name, disagrees) in zip(gardeners, choices, strict=True):
            disagrees = {index for index in disagrees if name is None or key[index] != key[name]}
            for index in sorted(disagrees):
                services.suggestion_vote(suggestion=rows[index], voter=gardener, agrees=False)
            if name is not None:
                services.suggestion_vote(suggestion=rows[name], voter=gardener, agrees=True)
            opinions.append(
                Opinion(gardener.pk, key[name] if name is not None else None, frozenset(key[i] for i in disagrees))
            )
        expected = community_consensus(opinions)
        suggestions = selectors.identification_request_detail(id_request=open_request, viewer=gardeners[0])[
            "suggestions"
        ]
        marked = [s for s in suggestions if s.is_consensus]
        assert len(marked) <= 1
        assert (key[rows.index(next(r for r in rows if r.pk == marked[0].pk))] if marked else None) == expected
        assert suggestion_vote_drift() == []
        transaction.set_rollback(True)


@pytest.mark.django_db(transaction=True)
def test_concurrent_agreements_by_one_gardener_leave_one_current_name():
    """One gardener clicks agree on four different names at the same moment (threads on a
    barrier): exactly one agreeing vote stays, and every counter equals its votes."""
    owner, gardener = factories.UserFactory.create_batch(2)
    id_request = factories.IdentificationRequestFactory(owner=owner, thumbnail="")
    rows = [_community(id_request, species) for species in factories.SpeciesFactory.create_batch(4)]
    barrier = threading.Barrier(len(rows))
    started, errors = [], []

    def click(suggestion):
        try:
            barrier.wait(5)
            started.append(time.monotonic())
            services.suggestion_vote(suggestion=suggestion, voter=gardener, agrees=True, toggle=False)
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(row,)) for row in rows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert errors == []
    assert max(started) - min(started) < 0.5  # they really overlapped
    assert SuggestionVote.objects.filter(request=id_request, voter=gardener, agrees=True).count() == 1
    assert sorted(IdentificationSuggestion.objects.values_list("vote_count", flat=True)) == [0, 0, 0, 1]
    assert suggestion_vote_drift() == []
