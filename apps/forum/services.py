"""Forum writes."""

from django.db.models import F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from apps.core.db import SubqueryCount

from .models import Forum, Post, Topic


def forum_counters_recount() -> None:
    """Recompute the denormalized counters and last-activity columns of every topic and forum
    from their visible posts (approved, not hidden, not deleted).

    Services keep these current in the same transaction as the write; this is for bulk loads
    (``seed_demo``) and repair. Two ``UPDATE`` statements for topics, one for forums.
    """
    visible_posts = Post.objects.filter(topic=OuterRef("pk"), is_approved=True, is_hidden=False, is_deleted=False)
    latest = visible_posts.order_by("-created_at", "-id")
    Topic.objects.update(
        post_count=SubqueryCount(visible_posts),
        last_poster_id=Subquery(latest.values("poster_id")[:1]),
    )
    Topic.objects.filter(post_count__gt=0).update(last_post_at=Subquery(latest.values("created_at")[:1]))
    Topic.objects.filter(post_count=0).update(last_post_at=F("created_at"))

    visible_topics = Topic.objects.filter(forum=OuterRef("pk"), is_approved=True, is_deleted=False)
    latest_topic = visible_topics.filter(post_count__gt=0).order_by("-last_post_at", "-id")
    Forum.objects.update(
        topic_count=SubqueryCount(visible_topics),
        post_count=Coalesce(
            Subquery(visible_topics.values("forum").annotate(total=Sum("post_count")).values("total")[:1]), 0
        ),
        last_topic_id=Subquery(latest_topic.values("id")[:1]),
        last_poster_id=Subquery(latest_topic.values("last_poster_id")[:1]),
        last_post_at=Subquery(latest_topic.values("last_post_at")[:1]),
    )
