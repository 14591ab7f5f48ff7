"""Issue 12: the forum's notifications move to the notifications app (one list for the site).

Each ``forum.Notification`` row is copied into ``notifications.Notification`` with the keys
the forum's services now write (group "forum.topic:<id>", target "forum.post:<id>", the post's
permalink, the topic's subject) and ``is_visible`` computed by the one visibility rule as
``services._notification_visibility_sync`` does: a public post in a public topic; or a public
post in a held or hidden, not deleted, topic that is the recipient's own. Then the forum's
table goes. Going back copies the forum's rows back from the new table.
"""

from django.db import migrations
from django.db.models import Q

BATCH = 2000


def _permalink(post_id: int) -> str:
    # Frozen here on purpose: a migration must not change with today's URLconf. This is
    # ``forum:post-permalink`` as it was when the rows moved.
    return f"/forum/p/{post_id}/"


def forward(apps, schema_editor):
    Old = apps.get_model("forum", "Notification")
    New = apps.get_model("notifications", "Notification")
    rows = Old.objects.order_by("pk").values_list(
        "recipient_id",
        "actor_id",
        "kind",
        "topic_id",
        "post_id",
        "created_at",
        "read_at",
        "topic__subject",
        "topic__poster_id",
        "topic__is_approved",
        "topic__is_hidden",
        "topic__is_deleted",
        "post__is_approved",
        "post__is_hidden",
        "post__is_deleted",
    )
    batch = []
    for row in rows.iterator(chunk_size=BATCH):
        (recipient, actor, kind, topic_id, post_id, created_at, read_at, subject, topic_poster) = row[:9]
        topic_approved, topic_hidden, topic_deleted, post_approved, post_hidden, post_deleted = row[9:]
        post_public = post_approved and not post_hidden and not post_deleted
        topic_seen = not topic_deleted and ((topic_approved and not topic_hidden) or topic_poster == recipient)
        batch.append(
            New(
                recipient_id=recipient,
                actor_id=actor,
                kind=kind,
                group_key=f"forum.topic:{topic_id}",
                group_title=subject[:200],
                url=_permalink(post_id),
                target_key=f"forum.post:{post_id}",
                detail="",
                is_visible=post_public and topic_seen,
                created_at=created_at,
                read_at=read_at,
            )
        )
        if len(batch) >= BATCH:
            New.objects.bulk_create(batch)
            batch = []
    New.objects.bulk_create(batch)


def backward(apps, schema_editor):
    Old = apps.get_model("forum", "Notification")
    New = apps.get_model("notifications", "Notification")
    Post = apps.get_model("forum", "Post")
    forum_rows = New.objects.filter(
        Q(kind__in=["reply", "mention"]), group_key__startswith="forum.topic:", target_key__startswith="forum.post:"
    )
    existing = set(Post.objects.values_list("pk", flat=True))
    batch = []
    for row in forum_rows.order_by("pk").iterator(chunk_size=BATCH):
        post_id = int(row.target_key.split(":", 1)[1])
        if post_id not in existing:
            continue
        batch.append(
            Old(
                recipient_id=row.recipient_id,
                actor_id=row.actor_id,
                kind=row.kind,
                topic_id=int(row.group_key.split(":", 1)[1]),
                post_id=post_id,
                created_at=row.created_at,
                read_at=row.read_at,
            )
        )
    Old.objects.bulk_create(batch)
    forum_rows.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("forum", "0007_keep_posts_when_user_goes"),
        ("notifications", "0001_generic_notifications"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
        migrations.RemoveIndex(model_name="notification", name="forum_notif_unread"),
        migrations.RemoveIndex(model_name="notification", name="forum_notif_recent"),
        migrations.DeleteModel(name="Notification"),
    ]
