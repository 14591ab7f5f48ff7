"""Step "Writing N gardeners": the named demo accounts first, then the crowd, and the ranking
that decides who writes the most (``_Ranked`` per kind of row)."""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib.auth.models import Group

from apps.accounts.models import TrustLevel, User, username_confusable_key
from apps.core.permissions import MODERATORS_GROUP

from ..accounts import GARDENER, MODERATOR, NEWBIE, OTHER_PASSWORD
from ..texts import USERNAME_STEMS
from .base import _ScaledBase
from .draw import _dt, _Ranked, _User
from .sizes import DAY, MEMBERSHIP_DAYS, POPULATION, TOP_SHARE


class _UserSteps(_ScaledBase):
    """Writes every account with one ``COPY`` and sets ``gardener``, ``moderator``, ``newbie``,
    ``ranks``, ``user_by_id`` and ``draw``."""

    def write_users(self) -> None:
        rng = self.rng("users")
        total = self.scale.users
        first_id = self._next_id(User)
        now = self.now
        # Named accounts first: the gardener (rank 0, the most active), the moderator (rank 3),
        # the newbie (joined 3.4 days ago, a few rows of its own, outside the ranking).
        named = [
            (GARDENER, now - 1000 * DAY),
            (MODERATOR, now - 1090 * DAY),
            (NEWBIE, now - 3.4 * DAY),
        ]
        numbers = list(range(1, total * 3 + 1))
        rng.shuffle(numbers)

        def rows() -> Iterator[tuple]:
            for index in range(total):
                user_id = first_id + index
                if index < len(named):
                    account, joined = named[index]
                    username, password = account.username, account.password
                else:
                    # Recent years busier: more gardeners joined lately.
                    joined = now - MEMBERSHIP_DAYS * DAY * rng.random() ** 0.7
                    username = f"{USERNAME_STEMS[numbers[index] % len(USERNAME_STEMS)]}_{numbers[index]}"
                    password = OTHER_PASSWORD
                self.users.append(_User(id=user_id, joined=joined))
                last_login = joined + (now - joined) * (0.6 + 0.4 * rng.random())
                is_moderator = username == MODERATOR.username
                yield (
                    user_id,
                    self.hashes[password],
                    _dt(last_login),
                    False,
                    "Robin" if username == GARDENER.username else "",
                    "Gardener" if username == GARDENER.username else "",
                    is_moderator,
                    True,
                    _dt(joined),
                    username,
                    username_confusable_key(username),
                    f"{username}@example.com",
                    TrustLevel.NEW.value,
                    is_moderator,
                    _dt(joined + rng.uniform(120, 5400)),
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                )

        self._copy(
            User,
            (
                "id",
                "password",
                "last_login",
                "is_superuser",
                "first_name",
                "last_name",
                "is_staff",
                "is_active",
                "date_joined",
                "username",
                "username_skeleton",
                "email",
                "trust_level",
                "trust_level_set_by_moderator",
                "email_confirmed_at",
                "approved_post_count",
                "post_count",
                "topic_count",
                "identification_request_count",
                "identified_plant_count",
                "care_card_count",
            ),
            rows(),
        )
        self.gardener, self.moderator, self.newbie = self.users[0], self.users[1], self.users[2]
        Group.objects.get_or_create(name=MODERATORS_GROUP)[0].user_set.add(self.moderator.id)
        # Ranks: the gardener first, the moderator fourth, everyone else shuffled.
        others = [u.id for u in self.users[3:]]
        rng.shuffle(others)
        self.ranks = [self.gardener.id, *others[:2], self.moderator.id, *others[2:]]
        self.user_by_id = {u.id: u for u in self.users}
        count = len(self.ranks)
        self.draw = {
            kind: _Ranked(self.ranks, int(count * POPULATION[kind]), TOP_SHARE[kind] * self.scale.top_share)
            for kind in POPULATION
        }
