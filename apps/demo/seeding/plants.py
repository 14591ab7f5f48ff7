"""Builder steps for the plant side: draw the image pool, then identification requests with
photos, suggestions and votes, then care cards with their care tasks."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from apps.plants.care import defaults as care_defaults
from apps.plants.care import schedule
from apps.plants.models import (
    CareCardStatus,
    CareTask,
    CareTaskDone,
    CareTaskKind,
    IdentificationStatus,
    IdentificationSuggestion,
    PlantIdentificationRequest,
    PlantPhoto,
    SavedCareInstructions,
    SuggestionSource,
    SuggestionVote,
)

from .accounts import _Member
from .base import BATCH_SIZE, FORUM_HISTORY_DAYS, _BuilderBase
from .images import image_pool_store
from .texts import CARE_NOTES, CITIES, FREE_TEXT_NAMES, NICKNAMES, PESTS, REQUEST_NOTES, SPOTS_SHORT, _mid_sentence

SPARKLINE_DAYS = 12 * 7


class _PlantSteps(_BuilderBase):
    """Steps "Drawing plant images", "Saving identification requests, photos, suggestions and
    votes" and "Saving care cards"."""

    # Images ---------------------------------------------------------------------------------

    def draw_images(self) -> None:
        if not self.sizes.requests:
            return
        self.images = image_pool_store(rng=self.rng("images"))

    # Identification requests ----------------------------------------------------------------

    def _request_status(self, rng: random.Random, created: datetime) -> str:
        age = self.now - created
        if age < timedelta(hours=1):
            return rng.choice(
                [IdentificationStatus.PENDING, IdentificationStatus.PROCESSING, IdentificationStatus.IDENTIFIED]
            )
        return rng.choices(
            [IdentificationStatus.IDENTIFIED, IdentificationStatus.NEEDS_HELP, IdentificationStatus.FAILED],
            weights=[68, 20, 12],
            k=1,
        )[0]

    def save_identifications(self) -> None:
        rng = self.rng("identifications")
        total = self.sizes.requests
        gardener_count = min(25, total // 6)
        plans: list[tuple[_Member, datetime, str]] = []
        # The gardener: newest one still processing, a pending one just before, three in the
        # last 7 days, the rest over the 12 weeks of the dashboard's sparkline.
        forced = [(0.004, IdentificationStatus.PROCESSING), (0.015, IdentificationStatus.PENDING)]
        for i in range(gardener_count):
            if i < len(forced):
                days, status = forced[i]
                created = self.ago(days=days)
            else:
                days = rng.uniform(0.5, 6.5) if i < 5 else 7 + (SPARKLINE_DAYS - 7.5) * rng.random() ** 1.2
                created = self.ago(days=days)
                status = self._request_status(rng, created)
            plans.append((self.gardener, created, status))
        # Make sure the gardener's list shows every outcome at least once.
        for index, status in ((3, IdentificationStatus.NEEDS_HELP), (6, IdentificationStatus.FAILED)):
            if index < len(plans):
                member, created, _ = plans[index]
                plans[index] = (member, created, status)
        if total - len(plans) > 0:
            created = self.ago(days=1.1)
            plans.append((self.newbie, created, IdentificationStatus.NEEDS_HELP))
        while len(plans) < total:
            owner = self._pick(rng)
            created = self.now - (self.now - max(self.ago(days=FORUM_HISTORY_DAYS), owner.joined)) * rng.random()
            plans.append((owner, created, self._request_status(rng, created)))

        requests, photos = [], []
        for owner, created, status in plans:
            thumb, photo, width, height = rng.choice(self.images)
            id_request = PlantIdentificationRequest(
                owner=owner.user,
                notes=rng.choice(REQUEST_NOTES).format(**self._context(rng, rng.choice(self.species))),
                thumbnail=thumb,
                status=status,
                created_at=created,
            )
            if rng.random() < 0.4:
                lat, lon = rng.choice(CITIES)
                exact = rng.random() < 0.3
                places = Decimal("0.00001") if exact else Decimal("0.01")
                id_request.latitude = Decimal(str(lat + rng.uniform(-0.08, 0.08))).quantize(places)
                id_request.longitude = Decimal(str(lon + rng.uniform(-0.08, 0.08))).quantize(places)
                id_request.location_is_exact = exact
            requests.append(id_request)
            photos.append(PlantPhoto(request=id_request, image=photo, position=0, width=width, height=height))
        PlantIdentificationRequest.objects.bulk_create(requests, batch_size=BATCH_SIZE)
        PlantPhoto.objects.bulk_create(photos, batch_size=BATCH_SIZE)

        suggestions: list[IdentificationSuggestion] = []
        accepted: dict[int, IdentificationSuggestion] = {}
        for index, id_request in enumerate(requests):
            made = self._suggestions_for(rng, id_request, self.member_of[id(id_request.owner)])
            suggestions += made
            if id_request.status == IdentificationStatus.IDENTIFIED:
                # Accepted: the community's answer when there is one with species, else the
                # machine's most probable.
                community = [s for s in made if s.source == SuggestionSource.COMMUNITY and s.species is not None]
                best = community[0] if community else max(made, key=lambda s: s.probability or 0)
                accepted[index] = best
        # One SuggestionVote row per counted vote, so vote_count matches the votes table.
        voters_of: list[list[_Member]] = []
        # A gardener holds one current name per request (apps.plants.consensus): one agreeing
        # vote per gardener and request.
        named: dict[int, set[int]] = {}
        for suggestion in suggestions:
            voters: list[_Member] = []
            taken = named.setdefault(id(suggestion.request), set())

            def can_vote(member: _Member, suggestion=suggestion, taken=taken) -> bool:
                return (
                    member.user is not suggestion.suggested_by
                    and member.user is not suggestion.request.owner
                    and member.joined < suggestion.created_at
                    and id(member) not in taken
                )

            for _ in range(suggestion.vote_count):
                voter = self._pick(rng, accept=can_vote)
                if can_vote(voter):
                    voters.append(voter)
                    taken.add(id(voter))
            suggestion.vote_count = len(voters)
            voters_of.append(voters)
        IdentificationSuggestion.objects.bulk_create(suggestions, batch_size=BATCH_SIZE)
        votes = [
            SuggestionVote(
                suggestion=suggestion,
                request=suggestion.request,
                voter=voter.user,
                created_at=self._time_after(rng, start=suggestion.created_at, skew=2),
            )
            for suggestion, voters in zip(suggestions, voters_of, strict=True)
            for voter in voters
        ]
        SuggestionVote.objects.bulk_create(votes, batch_size=BATCH_SIZE)
        for index, suggestion in accepted.items():
            id_request = requests[index]
            id_request.accepted_suggestion = suggestion
            id_request.species = suggestion.species
            id_request.identified_at = max(suggestion.created_at, id_request.created_at) + timedelta(
                minutes=rng.uniform(1, 90)
            )
            id_request.identified_at = min(id_request.identified_at, self.now)
        PlantIdentificationRequest.objects.bulk_update(
            [requests[i] for i in accepted], ["accepted_suggestion", "species", "identified_at"], batch_size=BATCH_SIZE
        )

    def _suggestions_for(self, rng: random.Random, id_request: PlantIdentificationRequest, owner: _Member) -> list:
        """1-3 suggestions for an identified or needs-help request; none while the machine has
        not answered (pending, processing) or when it failed."""
        if id_request.status not in (IdentificationStatus.IDENTIFIED, IdentificationStatus.NEEDS_HELP):
            return []
        identified = id_request.status == IdentificationStatus.IDENTIFIED
        machine = rng.choice([SuggestionSource.PLANT_ID, SuggestionSource.PLANTNET])
        count = rng.randint(1, 3)
        picked = rng.sample(self.species, count)
        community_answer = identified and rng.random() < 0.2 or not identified and rng.random() < 0.6
        made = []
        for position, species in enumerate(picked):
            if community_answer and position == count - 1 and count > 1:
                break
            if identified and not community_answer and position == 0:
                probability = rng.uniform(0.72, 0.99)
            else:
                probability = rng.uniform(0.03, 0.45) / (position + 1)
            made.append(
                IdentificationSuggestion(
                    request=id_request,
                    species=species,
                    probability=round(probability, 4),
                    source=machine,
                    vote_count=rng.choices([0, 1, 2], weights=[6, 2, 1], k=1)[0],
                    created_at=min(self.now, id_request.created_at + timedelta(seconds=rng.uniform(4, 40))),
                )
            )
        if community_answer:
            helper = self._pick(rng, accept=lambda m: m is not owner and m.joined < id_request.created_at)
            when = self._time_after(rng, start=id_request.created_at, skew=3)
            if identified or rng.random() < 0.5:
                suggestion = IdentificationSuggestion(species=rng.choice(self.species))
            else:
                suggestion = IdentificationSuggestion(free_text_name=rng.choice(FREE_TEXT_NAMES))
            suggestion.request = id_request
            suggestion.source = SuggestionSource.COMMUNITY
            suggestion.suggested_by = helper.user
            suggestion.probability = None
            suggestion.vote_count = rng.randint(2, 5) if identified else rng.randint(0, 3)
            suggestion.created_at = when
            made.append(suggestion)
        return made

    # Care cards -----------------------------------------------------------------------------

    def save_care_cards(self) -> None:
        rng = self.rng("care-cards")
        total = self.sizes.care_cards
        owned: dict[int, set[int]] = {}
        cards: list[SavedCareInstructions] = []

        def add(member: _Member, status: str, *, favourite: bool, updated_days: float | None = None) -> None:
            taken = owned.setdefault(id(member), set())
            choices = [s for s in self.species if s.pk not in taken]
            if not choices:
                return
            species = rng.choice(choices)
            taken.add(species.pk)
            created = self._time_after(rng, start=max(member.joined, self.ago(days=300)))
            updated = self.ago(days=updated_days) if updated_days is not None else self._time_after(rng, start=created)
            updated = max(updated, created)
            name = species.display_name
            nickname = rng.choice(NICKNAMES).format(name=_mid_sentence(name))[:80]
            notes = (
                rng.choice(CARE_NOTES[status]).format(
                    spot_short=rng.choice(SPOTS_SHORT),
                    interval=species.watering_interval_days,
                    days=rng.randint(2, 20),
                    pest=rng.choice(PESTS),
                )
                if rng.random() < 0.85
                else ""
            )
            cards.append(
                SavedCareInstructions(
                    owner=member.user,
                    species=species,
                    nickname=nickname,
                    personal_notes=notes,
                    status=status,
                    is_favourite=favourite,
                    created_at=created,
                    updated_at=updated,
                )
            )

        gardener_statuses = [
            CareCardStatus.THRIVING,
            CareCardStatus.STRUGGLING,
            CareCardStatus.NEWLY_ACQUIRED,
            CareCardStatus.THRIVING,
            CareCardStatus.PLANNING,
            CareCardStatus.RECOVERED,
            CareCardStatus.LOST,
            CareCardStatus.THRIVING,
        ]
        for i, status in enumerate(gardener_statuses[: min(8, total)]):
            add(self.gardener, status, favourite=i in (0, 3, 5), updated_days=0.2 + i * 4.5)
        if len(cards) < total:
            add(self.newbie, CareCardStatus.PLANNING, favourite=False)
        statuses = list(CareCardStatus)
        status_weights = [10, 12, 35, 15, 12, 6]
        attempts = 0
        while len(cards) < total and attempts < total * 20:
            attempts += 1
            add(
                self._pick(rng),
                rng.choices(statuses, weights=status_weights, k=1)[0],
                favourite=rng.random() < 0.25,
            )
        SavedCareInstructions.objects.bulk_create(cards, batch_size=BATCH_SIZE)
        self._save_care_tasks(cards)

    # Care tasks (issue 14) ----------------------------------------------------------------------

    # The demo gardener's watering, card by card (newest card first): days from their local
    # today to the next due date, so the page and the "due today" panel show overdue and due
    # tasks at once.
    GARDENER_WATER_DUE = (-2, 0, -1, 0, 3, 5, 1, 9)

    def _save_care_tasks(self, cards: list[SavedCareInstructions]) -> None:
        """Every card's five default tasks (``care.defaults``, as a new card gets them), due
        somewhere within their interval, as in a garden that has been kept a while; the demo
        gardener's waterings as ``GARDENER_WATER_DUE`` says, with up to 10 past waterings each and
        a few done dates for the other tasks. Two ``bulk_create`` calls; same seed, same rows."""
        rng = self.rng("care-tasks")
        tasks: list[CareTask] = []
        done_dates: list[list[date]] = []
        gardener_cards = 0
        for card in cards:
            owner = card.owner
            today = schedule.local_today(owner.time_zone or "UTC", now=self.now)
            southern = schedule.is_southern(owner.home_latitude)
            started = card.created_at.date()
            is_gardener = owner is self.gardener.user
            water_due = self.GARDENER_WATER_DUE[gardener_cards % len(self.GARDENER_WATER_DUE)] if is_gardener else None
            gardener_cards += is_gardener
            for default in care_defaults.task_defaults(card.species):
                interval = default.interval_days
                if default.kind == CareTaskKind.WATER and water_due is not None:
                    due = today + timedelta(days=water_due)
                else:
                    due = today + timedelta(days=rng.randint(-1 if is_gardener else 0, min(interval, 45)))
                if default.growing_season_only:
                    due = schedule.growing_season_start_after(due, southern=southern) if due > today else due
                last = due - timedelta(days=interval)
                past: list[date] = []
                if default.is_enabled and last <= today and last >= started:
                    count = 10 if is_gardener and default.kind == CareTaskKind.WATER else (3 if is_gardener else 1)
                    for back in range(count):
                        day = last - timedelta(days=back * interval + (rng.randint(0, 1) if back else 0))
                        if day < started or (past and day >= past[-1]):
                            break
                        past.append(day)
                tasks.append(
                    CareTask(
                        care_card=card,
                        owner=owner,
                        kind=default.kind,
                        interval_days=interval,
                        growing_season_only=default.growing_season_only,
                        is_enabled=default.is_enabled,
                        next_due_on=due,
                        last_done_on=past[0] if past else None,
                        created_at=card.created_at,
                        updated_at=card.updated_at,
                    )
                )
                done_dates.append(past)
        CareTask.objects.bulk_create(tasks, batch_size=BATCH_SIZE)
        CareTaskDone.objects.bulk_create(
            (
                CareTaskDone(task=task, done_on=day, recorded_at=self.now)
                for task, days in zip(tasks, done_dates, strict=True)
                for day in days
            ),
            batch_size=BATCH_SIZE,
        )
