"""Moderators' pages: the review queue (held posts, pending edits, reports; approve, reject,
decide) and the audit log. Every decision answers htmx with the decided item replaced by a
note and the queue's counts swapped out of band, so the numbers stay true after each step."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from apps.core.permissions import check_moderate_permission

from . import permissions, selectors, services
from .forms import ReasonForm, RejectForm
from .moderation_log import ModerationLogFilterForm, moderation_log_actor_choices, moderation_log_page

QUEUE_TEMPLATE = "forum/review_queue.html"
DECISIONS = ("agree", "disagree", "ignore")


@login_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    """``/moderation/``: held posts and topics from new gardeners, pending edits (as diffs),
    posts hidden by reports and every open report. Statements: user, queue, reports."""
    check_moderate_permission(request.user)
    return render(request, QUEUE_TEMPLATE, selectors.review_queue())


def _invalid(request: HttpRequest, form) -> HttpResponse:
    """A decision with bad input (a NUL byte, an overlong or missing reason): 400 with the
    form's messages, for htmx and plain POSTs alike (the queue has no other place to show
    them); nothing changes."""
    problems = " ".join(" ".join(errors) for errors in form.errors.values())
    return render(request, "400.html", {"detail": f"Nothing was changed. {problems}"}, status=400)


def _already_decided(request: HttpRequest) -> HttpResponse:
    return render(request, "409.html", {"detail": "Another moderator already decided this post."}, status=409)


def _decided(request: HttpRequest, event: str, message: str) -> HttpResponse:
    if not request.htmx:
        return redirect("moderation:queue")
    context = {"message": message, "counts": selectors.review_queue_counts(viewer=request.user)}
    response = render(request, f"{QUEUE_TEMPLATE}#decided", context)
    return trigger_client_event(response, event)


def _queue_post(request: HttpRequest, pk: int):
    check_moderate_permission(request.user)
    return permissions.get_post_for_user(pk=pk, user=request.user)


@login_required
@require_POST
def post_approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve a held post or topic; it appears for everyone (``postApproved``)."""
    post = _queue_post(request, pk)
    if not services.post_approve(post_id=post.pk, moderator=request.user):
        return _already_decided(request)
    return _decided(request, "postApproved", "Approved: it is visible now.")


@login_required
@require_POST
def post_reject(request: HttpRequest, pk: int) -> HttpResponse:
    """Reject a held post with a reason its author sees (``postRejected``)."""
    post = _queue_post(request, pk)
    form = RejectForm(request.POST)
    if not form.is_valid():
        return _invalid(request, form)
    if not services.post_reject(post_id=post.pk, moderator=request.user, reason=form.cleaned_data["reason"]):
        return _already_decided(request)
    return _decided(request, "postRejected", "Rejected: the author sees your reason.")


@login_required
@require_POST
def post_edit_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    """Approve or reject a new gardener's pending edit (``editApproved`` / ``editRejected``);
    a rejection's reason is shown to the author."""
    post = _queue_post(request, pk)
    if decision not in ("approve", "reject"):
        return render(request, "400.html", {"detail": "Unknown decision."}, status=400)
    form = (RejectForm if decision == "reject" else ReasonForm)(request.POST)
    if not form.is_valid():
        return _invalid(request, form)
    approve = decision == "approve"
    if not services.post_edit_decide(post_id=post.pk, moderator=request.user, approve=approve,
                                     reason=form.cleaned_data["reason"]):
        return _already_decided(request)
    message = "Edit approved: the new text is public." if approve else "Edit declined: the author sees your reason."
    return _decided(request, "editApproved" if approve else "editRejected", message)


@login_required
@require_POST
def reports_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    """Agree (delete the post; an opening post takes its topic), disagree or ignore (show it
    again) on a reported post's open reports (``reportsResolved``)."""
    post = _queue_post(request, pk)
    if decision not in DECISIONS:
        return render(request, "400.html", {"detail": "Unknown decision."}, status=400)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _invalid(request, form)
    if not services.reports_resolve(post_id=post.pk, moderator=request.user, decision=decision,
                                    reason=form.cleaned_data["reason"]):
        return _already_decided(request)
    messages = {"agree": "Agreed: the post is deleted.", "disagree": "Disagreed: the post is visible again.",
                "ignore": "Ignored: the reports are closed and the post is visible."}
    return _decided(request, "reportsResolved", messages[decision])


@login_required
@require_GET
def moderation_log(request: HttpRequest) -> HttpResponse:
    """``/moderation/log/``: who did what, when and why, as sentences with links, newest first,
    50 a page. GET ``moderator`` and ``action`` filter it (``ModerationLogFilterForm``); a value
    outside the choices shows the form's message and no entries (200); ``page`` keeps them."""
    check_moderate_permission(request.user)
    form = ModerationLogFilterForm(request.GET, actor_choices=moderation_log_actor_choices())
    page = None
    if form.is_valid():
        page = moderation_log_page(
            page_number=request.GET.get("page"), actor_id=form.cleaned_data["moderator"],
            action=form.cleaned_data["action"] or None,
        )
    return render(request, "forum/moderation_log.html", {"form": form, "page": page})
