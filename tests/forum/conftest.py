"""Helpers for forum tests."""

from apps.forum.models import Post, post_version


def seen(post_id: int) -> str:
    """The version of post ``post_id`` a moderator sees in the review queue (the hidden
    ``seen`` field every queue decision sends)."""
    post = Post.objects.only("source", "pending_source").get(pk=post_id)
    return post_version(source=post.source, pending_source=post.pending_source)
