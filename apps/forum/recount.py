"""What every denormalized forum field means: the recount is the definition (issue 9).

- A topic's ``is_approved``, ``is_hidden`` and ``is_deleted`` are its opening post's.
- A topic's ``post_count`` counts its public posts (approved, not hidden, not deleted); its
  ``last_post_at`` / ``last_poster`` are those of its latest public post (by time, then id), or
  the topic's own creation time and poster when it has none.
- A forum's ``topic_count`` counts its public topics (approved, not hidden, not deleted); its
  ``post_count`` adds up their ``post_count``; ``last_topic`` / ``last_poster`` /
  ``last_post_at`` come from its public topic with the latest ``last_post_at`` (then the highest
  id), so "last activity" is the same for every viewer.
- A user's ``topic_count`` / ``post_count`` count their topics / posts not deleted (held ones
  included, as the author sees them); ``approved_post_count`` their approved, not deleted posts.

Services keep these equal to the definition in the same transaction as every write
(``apps.forum.services``); ``manage.py forum_recount`` repairs drift and ``--check`` reports
it. Each expectation is one SQL statement over all rows (correlated subqueries on indexed
columns), portable to SQLite for the embedded default.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import BigIntegerField, F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from apps.accounts.models import User
from apps.core.db import SubqueryCount

from .models import PUBLIC_POST, PUBLIC_TOPIC, Forum, Post, Topic

TOPIC_FIELDS = ("is_approved", "is_hidden", "is_deleted", "post_count", "last_post_at", "last_poster_id")
FORUM_FIELDS = ("topic_count", "post_count", "last_topic_id", "last_poster_id", "last_post_at")
USER_FIELDS = ("topic_count", "post_count", "approved_post_count")


def _opening(topic_ref) -> Subquery:
    return Post.objects.filter(topic=topic_ref, is_opening_post=True).order_by("id")


def topic_expectations() -> dict:
    """Expressions, for a query over ``Topic``, of what each field in ``TOPIC_FIELDS`` should
    hold (keys are the field names)."""
    opening = _opening(OuterRef("pk"))
    public = Post.objects.filter(PUBLIC_POST, topic=OuterRef("pk"))
    latest = public.order_by("-created_at", "-id")
    return {
        "is_approved": Coalesce(Subquery(opening.values("is_approved")[:1]), F("is_approved")),
        "is_hidden": Coalesce(Subquery(opening.values("is_hidden")[:1]), F("is_hidden")),
        "is_deleted": Coalesce(Subquery(opening.values("is_deleted")[:1]), F("is_deleted")),
        "post_count": SubqueryCount(public),
        "last_post_at": Coalesce(Subquery(latest.values("created_at")[:1]), F("created_at")),
        "last_poster_id": Coalesce(
            Subquery(latest.values("poster_id")[:1]), F("poster_id"), output_field=BigIntegerField()
        ),
    }


def forum_expectations() -> dict:
    """Expressions, for a query over ``Forum``, of what each field in ``FORUM_FIELDS`` should
    hold, computed from the topics' *stored* fields (check topics first: ``drift`` does)."""
    public_topics = Topic.objects.filter(PUBLIC_TOPIC, forum=OuterRef("pk"))
    latest = public_topics.order_by("-last_post_at", "-id")
    post_total = public_topics.order_by().values("forum").annotate(total=Sum("post_count")).values("total")
    return {
        "topic_count": SubqueryCount(public_topics),
        "post_count": Coalesce(Subquery(post_total[:1]), 0),
        "last_topic_id": Subquery(latest.values("id")[:1]),
        "last_poster_id": Subquery(latest.values("last_poster_id")[:1]),
        "last_post_at": Subquery(latest.values("last_post_at")[:1]),
    }


def user_expectations() -> dict:
    """Expressions, for a query over ``User``, of the forum counters in ``USER_FIELDS``."""
    live = Post.objects.filter(poster=OuterRef("pk"), is_deleted=False)
    return {
        "topic_count": SubqueryCount(live.filter(is_opening_post=True)),
        "post_count": SubqueryCount(live),
        "approved_post_count": SubqueryCount(live.filter(is_approved=True)),
    }


@dataclass(frozen=True)
class Drift:
    """One stored field that differs from its definition."""

    model: str
    pk: int
    field: str
    stored: object
    expected: object

    def __str__(self) -> str:
        return f"{self.model} {self.pk}: {self.field} is {self.stored!r}, expected {self.expected!r}"


def _drift(queryset, name: str, expectations: dict, *, chunk_size: int = 5000) -> list[Drift]:
    fields = list(expectations)
    annotated = queryset.annotate(**{f"expected_{field}": expression for field, expression in expectations.items()})
    rows = annotated.values("pk", *fields, *[f"expected_{field}" for field in fields]).order_by("pk")
    found = []
    for row in rows.iterator(chunk_size=chunk_size):
        for field in fields:
            if row[field] != row[f"expected_{field}"]:
                found.append(Drift(name, row["pk"], field, row[field], row[f"expected_{field}"]))
    return found


def forum_state_drift() -> list[Drift]:
    """Every stored topic, forum and user field that differs from its definition, topics
    first. Three statements (one per model; users are read in chunks). Changes nothing."""
    return [
        *_drift(Topic.objects.all(), "topic", topic_expectations()),
        *_drift(Forum.objects.all(), "forum", forum_expectations()),
        *_drift(User.objects.all(), "user", user_expectations()),
    ]


@transaction.atomic
def forum_state_recount(*, user_ids: list[int] | None = None) -> None:
    """Rewrite every topic, forum and user forum counter from the rows (``manage.py
    forum_recount``, bulk loads such as ``seed_demo``). ``user_ids`` limits the user part
    (``None``: everyone). Three ``UPDATE`` statements, topics before forums (forums read the
    topics' stored values). Takes the forum rows' locks first, as services do."""
    list(Forum.objects.select_for_update().order_by("pk").values_list("pk", flat=True))
    Topic.objects.update(**topic_expectations())
    Forum.objects.update(**forum_expectations())
    users = User.objects.all() if user_ids is None else User.objects.filter(pk__in=user_ids)
    users.update(**user_expectations())
