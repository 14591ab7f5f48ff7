"""Builder steps for the gardeners: hash the demo passwords, plan the named accounts and the
generated crowd, then save them with trust levels earned from their planned posts."""

from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from apps.accounts.models import TrustLevel, User, trust_level_reached, username_confusable_key
from apps.core.permissions import MODERATORS_GROUP

from .accounts import GARDENER, MODERATOR, NEWBIE, OTHER_PASSWORD, _Member
from .base import BATCH_SIZE, _BuilderBase
from .texts import USERNAME_STEMS


class _UserSteps(_BuilderBase):
    """Steps "Hashing demo passwords", "Planning gardeners" and "Saving gardeners and the
    moderators group"."""

    def hash_passwords(self) -> None:
        # One hash per distinct password (Argon2 is deliberately slow); users share the string.
        for password in (GARDENER.password, MODERATOR.password, NEWBIE.password, OTHER_PASSWORD):
            self.hashes[password] = make_password(password)

    def _member(self, *, username: str, password: str, joined: datetime, weight: float, rng: random.Random) -> _Member:
        user = User(
            username=username,
            # bulk_create skips save(), which sets the lookalike key (accounts.User).
            username_skeleton=username_confusable_key(username),
            email=f"{username}@example.com",
            password=self.hashes[password],
            date_joined=joined,
            email_confirmed_at=joined + timedelta(minutes=rng.uniform(2, 90)),
            last_login=min(self.now, joined + (self.now - joined) * (0.6 + 0.4 * rng.random())),
            is_active=True,
        )
        return _Member(user=user, weight=weight, joined=joined)

    def plan_users(self) -> None:
        rng = self.rng("users")
        self.gardener = self._member(
            username=GARDENER.username, password=GARDENER.password, joined=self.ago(days=212.3), weight=0, rng=rng
        )
        self.gardener.user.first_name, self.gardener.user.last_name = "Robin", "Gardener"
        self.gardener.fixed_level = TrustLevel.BASIC
        self.moderator = self._member(
            username=MODERATOR.username, password=MODERATOR.password, joined=self.ago(days=361.7), weight=2.5, rng=rng
        )
        self.moderator.user.is_staff = True
        # The moderator's level is granted, not earned from posts: mark it as set by a moderator
        # so no automatic change overrides it (SPEC "Domain").
        self.moderator.user.trust_level_set_by_moderator = True
        self.moderator.fixed_level = TrustLevel.VETERAN
        self.newbie = self._member(
            username=NEWBIE.username, password=NEWBIE.password, joined=self.ago(days=3.4), weight=0, rng=rng
        )
        self.newbie.fixed_level = TrustLevel.NEW
        # Names are drawn until their lookalike key is free, as sign-up requires.
        taken = {username_confusable_key(name) for name in (GARDENER.username, MODERATOR.username, NEWBIE.username)}
        upper = max(99, self.sizes.users * 3)
        for _ in range(self.sizes.users):
            while True:
                name = f"{rng.choice(USERNAME_STEMS)}_{rng.randint(1, upper)}"
                if username_confusable_key(name) not in taken:
                    break
            taken.add(username_confusable_key(name))
            # Pareto weights: a few very active gardeners, many quiet ones (capped so one
            # member cannot write half the forum).
            weight = min(rng.paretovariate(1.1), 25.0)
            joined = self.ago(days=rng.uniform(2, 365))
            self.others.append(
                self._member(username=name, password=OTHER_PASSWORD, joined=joined, weight=weight, rng=rng)
            )
        self.members = [self.gardener, self.moderator, self.newbie, *self.others]
        self.active = [self.moderator, *self.others]  # who writes the bulk of the forum
        self.active_cum_weights = list(itertools.accumulate(max(m.weight, 0.05) for m in self.active))
        self.member_of = {id(m.user): m for m in self.members}

    def _trust_level(self, member: _Member) -> str:
        if member.fixed_level is not None:
            return member.fixed_level
        return trust_level_reached(
            current=TrustLevel.NEW,
            approved_posts=member.approved_posts,
            account_age_days=(self.now - member.joined).days,
        )

    def save_users(self) -> None:
        for member in self.members:
            member.user.trust_level = self._trust_level(member)
        # A member still at level "new" has had their older posts approved by a moderator; the
        # last two days' replies are still waiting in the review queue.
        recent = self.ago(days=2)
        for plan in self.topics:
            for post in plan.posts:
                if not post.is_opening_post and post.created_at > recent and post.poster.trust_level == TrustLevel.NEW:
                    post.is_approved = False
        User.objects.bulk_create([m.user for m in self.members], batch_size=BATCH_SIZE)
        group, _ = Group.objects.get_or_create(name=MODERATORS_GROUP)
        self.moderator.user.groups.add(group)
