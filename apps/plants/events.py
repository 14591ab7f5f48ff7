"""Identification events as notifications (issue 12: "the identification loop calls the
gardener back"), through ``apps.notifications.services``. Every event of a request is listed
in the group ``plants.request:<id>``, titled with the request's title, leading to the request
page; ``detail`` is the name concerned. Callers run these inside their own transaction, so a
notification commits or rolls back with its event. The notification service drops the
actor's own (no notification to yourself) and inactive accounts.

Who hears what:

- ``suggestion``: a gardener suggests a new name for your plant -> the owner.
- ``agreement`` / ``disagreement``: a gardener agrees or disagrees with a name on your plant ->
  the owner; withdrawing (or replacing) that vote removes that gardener's notification.
- ``consensus``: the community reaches consensus on a name (only on the change into it) -> the
  owner and the name's supporters, except the gardener whose click made it (they saw it
  happen): supporters helped decide and learn their name was taken up.
- ``machine_result`` / ``machine_failed``: machine suggestions arrived / the machine run failed
  for good -> the owner (actor ``None``).
- ``accepted``: the owner accepts your suggestion -> the suggester.
"""

from collections.abc import Iterable

from apps.notifications.models import NotificationKind
from apps.notifications.selectors import notification_ever_sent
from apps.notifications.services import notifications_delete, notifications_retitle, notifications_send

from .models import identification_request_title


def request_group_key(request_id: int) -> str:
    return f"plants.request:{request_id}"


def suggestion_target_key(suggestion_id: int) -> str:
    return f"plants.suggestion:{suggestion_id}"


def _request_url(request_id: int) -> str:
    from django.urls import reverse

    return reverse("plants:request-detail", kwargs={"pk": request_id})


def identification_event_send(
    *,
    request_id: int,
    title: str,
    recipient_ids: Iterable[int],
    actor_id: int | None,
    kind: NotificationKind,
    suggestion_id: int | None = None,
    name: str = "",
) -> None:
    """Notify ``recipient_ids`` (user pks) of ``kind`` on request ``request_id`` (titled
    ``title``), about suggestion ``suggestion_id`` when given (else about the request), with
    ``name`` as its detail. The group's earlier notifications take ``title`` too (issue 12: the
    accepted name titles the request everywhere). Three statements at most."""
    group_title = title or identification_request_title(pk=request_id)
    notifications_send(
        recipient_ids=recipient_ids,
        actor_id=actor_id,
        kind=kind,
        group_key=request_group_key(request_id),
        group_title=group_title,
        url=_request_url(request_id),
        target_key=suggestion_target_key(suggestion_id) if suggestion_id else request_group_key(request_id),
        detail=name,
    )
    notifications_retitle(group_key=request_group_key(request_id), title=group_title)


def consensus_announced(*, request_id: int, name: str) -> bool:
    """Whether the community's consensus on ``name`` was already announced for request
    ``request_id``: each name is announced once per request, however often later votes break
    and restore it (one notice, not one per flap). One statement."""
    return notification_ever_sent(group_key=request_group_key(request_id), kind=NotificationKind.CONSENSUS, detail=name)


def vote_notifications_withdraw(*, suggestion_ids: Iterable[int], voter_id: int, kind: NotificationKind) -> None:
    """Remove ``voter_id``'s ``kind`` (agreement or disagreement) notifications about
    ``suggestion_ids``: the vote they told of was withdrawn or replaced. One DELETE."""
    keys = [suggestion_target_key(pk) for pk in suggestion_ids]
    if keys:
        notifications_delete(target_keys=keys, actor_id=voter_id, kind=kind)


def request_notifications_delete(*, request_id: int) -> None:
    """Remove every notification about request ``request_id`` (it was deleted). One DELETE."""
    notifications_delete(group_key=request_group_key(request_id))
