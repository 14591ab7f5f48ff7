"""Steps "Writing N identification requests, photos, suggestions and votes" and "Writing N
care cards".

Requests are written in time order, each with its photo (from the shared image pool), its
machine suggestions (1-3 for identified and needs-help ones), sometimes a community one, and
votes; identified ones accept a suggestion. Care cards: one per species at most for a gardener,
statuses weighted towards "thriving", the newbie's one still in "planning".
"""

from __future__ import annotations

import random
from decimal import Decimal

from apps.plants.models import (
    CareCardStatus,
    IdentificationStatus,
    IdentificationSuggestion,
    PlantIdentificationRequest,
    PlantPhoto,
    SavedCareInstructions,
    SuggestionSource,
    SuggestionVote,
)

from ..texts import CITIES, FREE_TEXT_NAMES, NICKNAMES, _mid_sentence
from .base import _ScaledBase
from .draw import _dt
from .sizes import DAY


class _PlantSteps(_ScaledBase):
    """Writes identification requests (with photos, suggestions and votes) and care cards."""

    def _request_status(self, rng: random.Random, created: float) -> str:
        if self.now - created < 3600:
            return rng.choice(
                [IdentificationStatus.PENDING, IdentificationStatus.PROCESSING, IdentificationStatus.IDENTIFIED]
            ).value
        roll = rng.random()
        status = (
            IdentificationStatus.IDENTIFIED
            if roll < 0.68
            else IdentificationStatus.NEEDS_HELP
            if roll < 0.88
            else IdentificationStatus.FAILED
        )
        return status.value

    def write_requests(self) -> None:
        """Requests in time order, each written with its photo, suggestions and votes; in
        chunks, so four ``COPY`` streams take turns and memory stays bounded."""
        rng = self.rng("identifications")
        now = self.now
        owners: list[tuple[float, int]] = [(now - 1.1 * DAY, self.newbie.id)]
        while len(owners) < self.scale.requests:
            owner = self.user_by_id[self.draw["requests"].draw(rng)]
            owners.append((self._when(rng, owner), owner.id))
        owners.sort()
        next_request = self._next_id(PlantIdentificationRequest)
        next_photo = self._next_id(PlantPhoto)
        next_suggestion = self._next_id(IdentificationSuggestion)
        next_vote = self._next_id(SuggestionVote)
        voters = self.draw["votes"]
        species_ids = self.species_ids
        chunk = 50_000
        for start in range(0, len(owners), chunk):
            requests, photos, suggestions, votes = [], [], [], []
            for created, owner_id in owners[start : start + chunk]:
                request_id = next_request
                next_request += 1
                status = (
                    IdentificationStatus.NEEDS_HELP.value
                    if owner_id == self.newbie.id
                    else self._request_status(rng, created)
                )
                thumb, photo, width, height = self.images[rng.randrange(len(self.images))]
                made = []  # (suggestion row, species)
                if status in (IdentificationStatus.IDENTIFIED, IdentificationStatus.NEEDS_HELP):
                    identified = status == IdentificationStatus.IDENTIFIED
                    source = (SuggestionSource.PLANT_ID if rng.random() < 0.5 else SuggestionSource.PLANTNET).value
                    count = rng.randint(1, 3)
                    community = (identified and rng.random() < 0.2) or (not identified and rng.random() < 0.6)
                    picked = rng.sample(species_ids, count)
                    for position, species_id in enumerate(picked):
                        if community and position == count - 1 and count > 1:
                            break
                        if identified and not community and position == 0:
                            probability = round(rng.uniform(0.72, 0.99), 4)
                        else:
                            probability = round(rng.uniform(0.03, 0.45) / (position + 1), 4)
                        when = min(now, created + rng.uniform(4, 40))
                        made.append(
                            [
                                next_suggestion,
                                request_id,
                                species_id,
                                "",
                                probability,
                                source,
                                None,
                                rng.choices((0, 1, 2), weights=(6, 2, 1))[0],
                                when,
                            ]
                        )
                        next_suggestion += 1
                    if community:
                        for _attempt in range(6):
                            helper = voters.draw(rng)
                            if helper != owner_id and self.user_by_id[helper].joined < created:
                                break
                        else:
                            helper = self.moderator.id
                        when = created + (now - created) * rng.random() ** 3
                        species_id, name = (
                            (rng.choice(species_ids), "")
                            if identified or rng.random() < 0.5
                            else (None, rng.choice(FREE_TEXT_NAMES))
                        )
                        made.append(
                            [
                                next_suggestion,
                                request_id,
                                species_id,
                                name,
                                None,
                                SuggestionSource.COMMUNITY.value,
                                helper,
                                rng.randint(2, 5) if identified else rng.randint(0, 3),
                                when,
                            ]
                        )
                        next_suggestion += 1
                accepted_id = species = identified_at = None
                # One current name per gardener and request (apps.plants.consensus).
                named = {owner_id}
                for row in made:
                    wanted, taken = row[7], named | {row[6]}
                    voted = 0
                    for _ in range(wanted):
                        for _attempt in range(6):
                            voter = voters.draw(rng)
                            if voter not in taken and self.user_by_id[voter].joined < row[8]:
                                taken.add(voter)
                                named.add(voter)
                                voted += 1
                                votes.append(
                                    (
                                        next_vote,
                                        row[0],
                                        request_id,
                                        voter,
                                        True,
                                        _dt(row[8] + (now - row[8]) * rng.random() ** 2),
                                    )
                                )
                                next_vote += 1
                                break
                    row[7] = voted
                if status == IdentificationStatus.IDENTIFIED and made:
                    community_rows = [r for r in made if r[5] == SuggestionSource.COMMUNITY.value and r[2] is not None]
                    best = community_rows[0] if community_rows else max(made, key=lambda r: r[4] or 0)
                    accepted_id, species = best[0], best[2]
                    identified_at = _dt(min(now, max(best[8], created) + rng.uniform(60, 5400)))
                for row in made:
                    suggestions.append((row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], 0, _dt(row[8])))
                lat = lon = None
                exact = False
                if rng.random() < 0.4:
                    city_lat, city_lon = CITIES[rng.randrange(len(CITIES))]
                    exact = rng.random() < 0.3
                    places = Decimal("0.00001") if exact else Decimal("0.01")
                    lat = Decimal(f"{city_lat + rng.uniform(-0.08, 0.08):.5f}").quantize(places)
                    lon = Decimal(f"{city_lon + rng.uniform(-0.08, 0.08):.5f}").quantize(places)
                requests.append(
                    (
                        request_id,
                        owner_id,
                        self.request_notes[rng.randrange(len(self.request_notes))],
                        thumb,
                        lat,
                        lon,
                        exact,
                        status,
                        _dt(created),
                        identified_at,
                        accepted_id,
                        species,
                    )
                )
                photos.append((next_photo, request_id, photo, 0, width, height))
                next_photo += 1
            self._copy(
                PlantIdentificationRequest,
                (
                    "id",
                    "owner_id",
                    "notes",
                    "thumbnail",
                    "latitude",
                    "longitude",
                    "location_is_exact",
                    "status",
                    "created_at",
                    "identified_at",
                    "accepted_suggestion_id",
                    "species_id",
                ),
                requests,
            )
            self._copy(PlantPhoto, ("id", "request_id", "image", "position", "width", "height"), photos)
            self._copy(
                IdentificationSuggestion,
                (
                    "id",
                    "request_id",
                    "species_id",
                    "free_text_name",
                    "probability",
                    "source",
                    "suggested_by_id",
                    "vote_count",
                    "disagree_count",
                    "created_at",
                ),
                suggestions,
            )
            self._copy(SuggestionVote, ("id", "suggestion_id", "request_id", "voter_id", "agrees", "created_at"), votes)

    def write_care_cards(self) -> None:
        rng = self.rng("care-cards")
        now = self.now
        statuses = list(CareCardStatus)
        weights = [10, 12, 35, 15, 12, 6]
        owned: dict[int, set[int]] = {}
        cards: list[tuple] = []
        next_id = self._next_id(SavedCareInstructions)
        names = {s.pk: s.display_name for s in self.species}
        forced = [(self.newbie.id, CareCardStatus.PLANNING.value)]
        attempts = 0
        while len(cards) < self.scale.care_cards and attempts < self.scale.care_cards * 20:
            attempts += 1
            if forced:
                owner_id, status = forced.pop()
            else:
                owner_id = self.draw["care_cards"].draw(rng)
                status = rng.choices(statuses, weights=weights)[0].value
            taken = owned.setdefault(owner_id, set())
            if len(taken) >= len(self.species_ids):
                continue
            species_id = rng.choice(self.species_ids)
            while species_id in taken:
                species_id = rng.choice(self.species_ids)
            taken.add(species_id)
            created = self._when(rng, self.user_by_id[owner_id], after=now - 300 * DAY)
            updated = created + (now - created) * rng.random()
            nickname = rng.choice(NICKNAMES).format(name=_mid_sentence(names[species_id]))[:80]
            notes = rng.choice(self.care_notes[CareCardStatus(status)]) if rng.random() < 0.85 else ""
            cards.append(
                (
                    next_id,
                    owner_id,
                    species_id,
                    nickname,
                    notes,
                    status,
                    rng.random() < 0.25,
                    _dt(created),
                    _dt(updated),
                )
            )
            next_id += 1
        cards.sort(key=lambda card: card[7])
        self._copy(
            SavedCareInstructions,
            (
                "id",
                "owner_id",
                "species_id",
                "nickname",
                "personal_notes",
                "status",
                "is_favourite",
                "created_at",
                "updated_at",
            ),
            cards,
        )
