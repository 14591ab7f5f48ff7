"""Moderators' pages: the review queue (approve, reject, decide on reports) and the audit log."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from apps.core.permissions import check_moderate_permission

from . import selectors, services
from .forms import RejectForm
from .models import Post, Report


def _live_post(pk: int) -> Post:
    post = Post.objects.filter(pk=pk, is_deleted=False).only("id", "is_approved", "is_hidden").first()
    if post is None:
        raise Http404("No such post.")
    return post


def _already_decided(request: HttpRequest) -> HttpResponse:
    return render(request, "400.html", {"detail": "This post was already decided."}, status=409)

QUEUE_TEMPLATE = "forum/review_queue.html"


@login_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    """``/moderation/``: held posts and topics from new gardeners and posts hidden by reports.
    Three statements: user, permission, queue (with totals)."""
    check_moderate_permission(request.user)
    return render(request, QUEUE_TEMPLATE, selectors.review_queue())


def _decided(request: HttpRequest, event: str, message: str) -> HttpResponse:
    if not request.htmx:
        return redirect("moderation:queue")
    response = render(request, f"{QUEUE_TEMPLATE}#decided", {"message": message})
    return trigger_client_event(response, event)


@login_required
@require_POST
def post_approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve a held post or topic; it appears for everyone (``postApproved``)."""
    check_moderate_permission(request.user)
    if _live_post(pk).is_approved:
        return _already_decided(request)
    services.post_approve(post_id=pk, moderator=request.user)
    return _decided(request, "postApproved", "Approved: it is visible now.")


@login_required
@require_POST
def post_reject(request: HttpRequest, pk: int) -> HttpResponse:
    """Reject a held post with a reason its author sees (``postRejected``)."""
    check_moderate_permission(request.user)
    if _live_post(pk).is_approved:
        return _already_decided(request)
    form = RejectForm(request.POST)
    if not form.is_valid():
        return render(request, "400.html", {"detail": "Give a reason the author will see."}, status=400)
    services.post_reject(post_id=pk, moderator=request.user, reason=form.cleaned_data["reason"])
    return _decided(request, "postRejected", "Rejected: the author sees your reason.")


@login_required
@require_POST
def reports_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    """Agree (delete the post), disagree or ignore (show it again) on a reported post."""
    check_moderate_permission(request.user)
    if decision not in ("agree", "disagree", "ignore"):
        return render(request, "400.html", {"detail": "Unknown decision."}, status=400)
    _live_post(pk)
    if not Report.objects.filter(post_id=pk, status=Report.Status.OPEN).exists():
        return render(request, "400.html", {"detail": "This post has no open reports."}, status=400)
    services.reports_resolve(post_id=pk, moderator=request.user, decision=decision)
    messages = {"agree": "Agreed: the post is deleted.", "disagree": "Disagreed: the post is visible again.",
                "ignore": "Ignored: the post is visible again."}
    return _decided(request, "reportsResolved", messages[decision])


@login_required
@require_GET
def moderation_log(request: HttpRequest) -> HttpResponse:
    """``/moderation/log/``: who did what, when and why, as sentences with links, newest first,
    50 a page. GET ``moderator`` and ``action`` filter it (``ModerationLogFilterForm``); a value
    outside the choices shows the form's message and no entries (200); ``page`` keeps them."""
    # Imported here so the log's change stays inside this one view while the module's other
    # views are rewritten; hoist it to the top with them.
    from .moderation_log import ModerationLogFilterForm, moderation_log_actor_choices, moderation_log_page

    check_moderate_permission(request.user)
    form = ModerationLogFilterForm(request.GET, actor_choices=moderation_log_actor_choices())
    page = None
    if form.is_valid():
        page = moderation_log_page(
            page_number=request.GET.get("page"), actor_id=form.cleaned_data["moderator"],
            action=form.cleaned_data["action"] or None,
        )
    return render(request, "forum/moderation_log.html", {"form": form, "page": page})
