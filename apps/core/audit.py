"""The audit log's one writer (SPEC "Domain": ``ModerationAction`` is the audit log).

Every moderation step (forum decisions, topic tools, lock clearing, automatic trust promotions)
is recorded through ``audit_record``, called inside the same transaction as the action it
describes, so the row and the action commit together or not at all.

Action names are ``<target>.<verb>``; the moderation log turns them into sentences:
``post.approve``, ``post.reject``, ``post.edit_approve``, ``post.edit_reject``, ``post.delete``,
``post.hide``, ``report.agree``, ``report.disagree``, ``report.ignore``, ``topic.lock``,
``topic.unlock``, ``topic.pin``, ``topic.unpin``, ``topic.move``, ``topic.delete``,
``trust.promote``, ``trust.set``, ``lockout.clear``, ``account.delete`` (a gardener deleted their
account; target the user id, nothing personal).
"""

from django.db import transaction

from .models import ModerationAction

REASON_MAX_CHARS = 500


def audit_record(
    *, actor, action: str, target_type: str, target_id: int | str, reason: str = "", metadata: dict | None = None
) -> ModerationAction:
    """Write one audit row.

    ``actor``: the user who acted, or ``None`` for an automatic step (a hide by reports, a
    daily trust promotion). ``action``: one of the names listed in this module's docstring.
    ``target_type``/``target_id``: what was acted on (``"post"``/``42``, ``"account"``/a lock
    key). ``reason``: free text the moderator gave (at most 500 characters; forms validate it,
    longer text raises ``ValueError`` rather than being cut silently). ``metadata``: small JSON
    facts such as ``{"topic_id": 7}``; no personal data beyond ids.

    Must run inside a transaction (``TransactionManagementError`` otherwise), so the row never
    outlives a rolled-back action. Returns the saved row.
    """
    if not transaction.get_connection().in_atomic_block:
        raise transaction.TransactionManagementError("audit_record must run inside the action's transaction.")
    if len(reason) > REASON_MAX_CHARS:
        raise ValueError(f"An audit reason holds at most {REASON_MAX_CHARS} characters.")
    return ModerationAction.objects.create(
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        reason=reason,
        metadata=metadata or {},
    )
