"""The forum's personal data (issue 11, "Your data"): what an export holds and what deleting an
account removes. Registered from ``ForumConfig.ready()`` (see ``apps.accounts.personal_data``).

Exported: the gardener's topics and posts (Markdown source, states, pending edit, images),
their reports, the revisions they made (the earlier text only for their own posts: a
moderator's edit of someone else's post keeps that person's words out). Not exported: replies
others wrote in the gardener's topics (public content that is theirs). Notifications are the
notifications app's (``apps.notifications.personal_data``).

Erased: nothing. Kept, as Discourse keeps an anonymized user's posts: topics, posts (and
their images), reports and revisions, under the anonymized account, so no one else's replies,
report history or counters move (``forum_recount --check`` stays clean). Mentions of the old
name in other gardeners' posts are their words and stay (Discourse's anonymizer does not rewrite
them either).
"""

from django.db.models import Case, F, When

from apps.accounts.models import User
from apps.accounts.personal_data import ErasurePart, ExportPart, PersonalDataSource, rows_of

from .models import Post, PostRevision, Report, Topic


def forum_export(user: User) -> ExportPart:
    """Four queries, none per row."""
    part = ExportPart()
    posts = rows_of(
        Post.objects.filter(poster=user),
        "topic_id",
        "is_opening_post",
        "source",
        "created_at",
        "updated_at",
        "is_approved",
        "is_hidden",
        "is_deleted",
        "rejection_reason",
        "edit_count",
        "pending_source",
        "pending_at",
        "edit_rejection_reason",
        "image",
    )
    for row in posts:
        stored = row.pop("image")
        row["image"] = None
        if stored:
            extension = stored.rsplit(".", 1)[-1] if "." in stored else "jpg"
            row["image"] = f"files/forum/post-{row['id']}.{extension}"
            part.files.append((row["image"], stored))
    own_text = Case(When(post__poster=user, then=F("previous_source")), default=None)
    part.rows = {
        "forum.Topic": rows_of(
            Topic.objects.filter(poster=user),
            "subject",
            "created_at",
            "is_approved",
            "is_locked",
            "is_pinned",
            "is_hidden",
            "is_deleted",
            forum_slug="forum__slug",
        ),
        "forum.Post": posts,
        "forum.Report": rows_of(
            Report.objects.filter(reporter=user), "post_id", "reason", "detail", "status", "created_at"
        ),
        "forum.PostRevision": rows_of(
            PostRevision.objects.filter(editor=user), "post_id", "created_at", earlier_text=own_text
        ),
    }
    return part


def forum_erase(user: User) -> ErasurePart:
    """Runs inside the account deletion's transaction: nothing to delete; everything stays
    under the anonymized account (see the module docstring)."""
    return ErasurePart()


FORUM_SOURCE = PersonalDataSource(
    name="forum",
    exported=(
        "forum.Topic.poster",
        "forum.Post.poster",
        "forum.Report.reporter",
        "forum.PostRevision.editor",
    ),
    derived={
        "forum.Topic.last_poster": "a copy of the author of the topic's latest public post; the posts are exported",
        "forum.Forum.last_poster": "a copy of the author of the forum's latest public post; the posts are exported",
    },
    indirect={},
    export=forum_export,
    erase=forum_erase,
)
