"""Moderators' pages: the review queue (held posts, pending edits, reports; approve, reject,
decide) and the audit log. Every decision answers htmx with the decided item replaced by a
note and the queue's counts swapped out of band, so the numbers stay true after each step."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from apps.core.permissions import check_moderate_permission
from apps.core.responses import error_page

from . import permissions, selectors, services
from .forms import DecisionForm, RejectForm
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


def _refused(request: HttpRequest, pk: int, *, status: int, message: str, form=None) -> HttpResponse:
    """The queue item again, as it is now, with ``message`` (and the form's messages): htmx
    swaps it over the item; without JavaScript the whole queue is shown with it. Used for
    invalid input (400), a decision on text that changed since the moderator looked (409) and
    the confirmation an opening post's deletion needs (200)."""
    queue = selectors.review_queue(post_id=pk)
    if not queue["items"]:  # decided meanwhile by another moderator
        return _decided(request, pk, "postDecided", "Another moderator already decided this post.", status=409)
    context = {"post": queue["items"][0], "notice": message, "notice_post_id": pk, "form": form}
    if request.htmx:
        return render(request, f"{QUEUE_TEMPLATE}#item", context, status=status)
    full = selectors.review_queue()
    full.update(notice=message, notice_post_id=pk, form=form)
    return render(request, QUEUE_TEMPLATE, full, status=200 if status == 400 else status)


def _decided(request: HttpRequest, pk: int, event: str, message: str, *, status: int = 200) -> HttpResponse:
    """The decision's answer. htmx: the item's note in its place (same ``id``, so focus can go to
    it, static/js/htmx-focus.js) with the counts out of band, and ``event`` carrying ``message``
    for the polite live region. Without JavaScript: the queue with the message."""
    if not request.htmx:
        if status == 200:
            messages.success(request, message)
            return redirect("moderation:queue")
        return render(request, QUEUE_TEMPLATE, {**selectors.review_queue(), "page_notice": message}, status=status)
    context = {"message": message, "post_id": pk, "counts": selectors.review_queue_counts(viewer=request.user)}
    response = render(request, f"{QUEUE_TEMPLATE}#decided", context, status=status)
    return trigger_client_event(response, event, {"message": message})


def _queue_post(request: HttpRequest, pk: int):
    check_moderate_permission(request.user)
    return permissions.get_post_for_user(pk=pk, user=request.user)


def _decide(request: HttpRequest, pk: int, form, decide, *, event: str, message: str) -> HttpResponse:
    """Run ``decide(form.cleaned_data)`` (a service returning False when already decided) and
    answer: the decided note with fresh counts, or the item again when the form is invalid
    or the text changed since the moderator looked."""
    if not form.is_valid():
        return _refused(request, pk, status=400, message="Nothing was changed: see below.", form=form)
    try:
        done = decide(form.cleaned_data)
    except services.PostChanged:
        return _refused(
            request,
            pk,
            status=409,
            message="This post changed after you opened the queue. Review the new text and decide again.",
        )
    if not done:
        return _decided(request, pk, "postDecided", "Another moderator already decided this post.", status=409)
    return _decided(request, pk, event, message)


@login_required
@require_POST
def post_approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve a held post or topic, as the moderator saw it (``seen``); it appears for
    everyone (``postApproved``)."""
    post = _queue_post(request, pk)
    return _decide(
        request,
        pk,
        DecisionForm(request.POST),
        lambda data: services.post_approve(post_id=post.pk, moderator=request.user, seen=data["seen"]),
        event="postApproved",
        message="Approved: it is visible now.",
    )


@login_required
@require_POST
def post_reject(request: HttpRequest, pk: int) -> HttpResponse:
    """Reject a held post with a reason its author sees (``postRejected``)."""
    post = _queue_post(request, pk)
    return _decide(
        request,
        pk,
        RejectForm(request.POST),
        lambda data: services.post_reject(
            post_id=post.pk, moderator=request.user, reason=data["reason"], seen=data["seen"]
        ),
        event="postRejected",
        message="Rejected: the author sees your reason.",
    )


@login_required
@require_POST
def post_edit_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    """Approve or decline a new gardener's pending edit (``editApproved`` / ``editRejected``);
    a declined edit's reason is shown to the author."""
    post = _queue_post(request, pk)
    if decision not in ("approve", "reject"):
        return error_page(request, 400, detail="Unknown decision.")
    approve = decision == "approve"
    return _decide(
        request,
        pk,
        (DecisionForm if approve else RejectForm)(request.POST),
        lambda data: services.post_edit_decide(
            post_id=post.pk, moderator=request.user, approve=approve, reason=data["reason"], seen=data["seen"]
        ),
        event="editApproved" if approve else "editRejected",
        message="Edit approved: the new text is public." if approve else "Edit declined: the author sees your reason.",
    )


REPORT_MESSAGES = {
    "agree": "Agreed: the post is deleted.",
    "disagree": "Disagreed: the reports are closed and the post is visible.",
    "ignore": "Ignored: the reports are closed and the post is visible.",
}


@login_required
@require_POST
def reports_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    """Agree (delete the post), disagree or ignore (show it again) on a reported post's open
    reports (``reportsResolved``). Agreeing on an opening post deletes its whole topic, so it
    asks first (``confirm``), naming how many replies go with it."""
    post = _queue_post(request, pk)
    if decision not in DECISIONS:
        return error_page(request, 400, detail="Unknown decision.")
    form = DecisionForm(request.POST)
    if decision == "agree" and post.is_opening_post and form.is_valid() and not form.cleaned_data["confirm"]:
        return _refused(request, pk, status=200, message="confirm-agree", form=form)
    return _decide(
        request,
        pk,
        form,
        lambda data: services.reports_resolve(
            post_id=post.pk, moderator=request.user, decision=decision, reason=data["reason"], seen=data["seen"]
        ),
        event="reportsResolved",
        message=REPORT_MESSAGES[decision],
    )


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
            page_number=request.GET.get("page"),
            actor_id=form.cleaned_data["moderator"],
            action=form.cleaned_data["action"] or None,
        )
    return render(request, "forum/moderation_log.html", {"form": form, "page": page})
