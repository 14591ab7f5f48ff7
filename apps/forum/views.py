"""Forum pages: reading (index, forum, topic, permalinks), writing (topics, replies, edits,
deletes, reports) and the topic tools (lock, pin, move). Thin views: the 404 getters and
checks of ``permissions``, a form, one selector or service.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.permissions import is_moderator
from apps.core.ratelimit import set_retry_after
from apps.core.responses import error_page

from . import permissions, selectors, services
from .forms import DeleteForm, EditForm, MoveForm, ReplyForm, ReportForm, TopicForm, TopicToolForm
from .markdown import render_markdown
from .models import Report
from .throttling import write_throttled


def _viewer(request: HttpRequest):
    return request.user if request.user.is_authenticated else None


@require_GET
def forum_index(request: HttpRequest) -> HttpResponse:
    """``/forum/``: forums with topic and post counts and last activity (public topics only,
    the same for every viewer)."""
    return render(request, "forum/index.html", {"forums": selectors.forum_list()})


@require_GET
def forum_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """One forum: the topics the viewer sees, pinned first, then by last activity, 25 a page."""
    forum = permissions.get_forum_for_user(slug=slug, user=_viewer(request))
    page = selectors.topic_page_for_forum(forum=forum, viewer=_viewer(request), page_number=request.GET.get("page"))
    return render(request, "forum/forum_detail.html", {"forum": forum, "page": page})


def _render_topic(request: HttpRequest, topic, *, status: int = 200, **forms) -> HttpResponse:
    page = selectors.post_page_for_topic(topic=topic, viewer=_viewer(request), page_number=request.GET.get("page"))
    for post in page.object_list:
        post.can = permissions.post_permissions(request.user, post)
    context = {
        "topic": topic,
        "page": page,
        "can": permissions.topic_permissions(request.user, topic),
        "reply_form": forms.get("reply_form") or ReplyForm(image_refusal=permissions.image_refusal(request.user)),
        "tool_form": forms.get("tool_form") or TopicToolForm(),
        "report_reasons": Report.Reason.choices,
    }
    return render(request, "forum/topic_detail.html", context, status=status)


@require_GET
def topic_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One topic: the posts the viewer sees in order (moderators see held and hidden ones in
    place), 20 a page, with posters' names and trust levels; the reply form and the tools the
    viewer may use. Statements: user, topic, posts."""
    return _render_topic(request, permissions.get_topic_for_user(pk=pk, user=_viewer(request)))


@require_GET
def post_permalink(request: HttpRequest, pk: int) -> HttpResponse:
    """``/forum/p/<id>/``: a post's lasting link; redirects to the topic page it is on as the
    viewer sees the topic."""
    location = selectors.post_location_for_viewer(pk=pk, viewer=_viewer(request))
    if location is None:
        raise Http404("No such post.")
    topic_id, page = location
    url = reverse("forum:topic-detail", kwargs={"pk": topic_id})
    return redirect(f"{url}{'?page=%d' % page if page > 1 else ''}#post-{pk}")


# --- Writing ------------------------------------------------------------------------------


def _content_error(request: HttpRequest, form) -> str | None:
    """The trust-level rule a valid form still breaks (an image below Basic, too many links
    for a new member), or ``None``."""
    if form.cleaned_data.get("image") is not None:
        try:
            permissions.check_attach_image_permission(request.user)
        except PermissionDenied as denied:
            return str(denied)
    return permissions.link_limit_error(request.user, render_markdown(form.cleaned_data["source"]))


@login_required
@require_http_methods(["GET", "POST"])
def topic_create(request: HttpRequest, slug: str) -> HttpResponse:
    """``/forum/f/<slug>/new/``: start a topic. ``new`` gardeners' topics wait for review.
    Over the write throttle: 429 with ``Retry-After``, the form kept as typed. An unconfirmed
    email: 403 with a page that explains and offers to resend the confirmation email."""
    forum = permissions.get_forum_for_user(slug=slug, user=request.user)
    try:
        permissions.check_post_permission(request.user)
    except permissions.EmailUnconfirmed as unconfirmed:
        return error_page(
            request, 403, detail=str(unconfirmed), template="forum/email_unconfirmed.html", context={"forum": forum}
        )
    refusal = permissions.image_refusal(request.user)
    if request.method == "POST":
        form = TopicForm(request.POST, request.FILES, image_refusal=refusal)
    else:
        form = TopicForm(image_refusal=refusal)
    status = 200
    if request.method == "POST" and form.is_valid():
        if error := _content_error(request, form):
            form.add_error(None, error)
        elif throttled := write_throttled(request, form, action="post"):
            status = throttled
        elif form.image_process():
            topic = services.topic_create(
                forum=forum,
                poster=request.user,
                subject=form.cleaned_data["subject"],
                source=form.cleaned_data["source"],
                image=form.cleaned_data["image"],
                publish=permissions.publishes_at_once(request.user),
            )
            if not topic.is_approved:
                messages.info(
                    request, "Thanks! As a new member, your topic waits for a moderator before others see it."
                )
            return redirect(topic)
    context = {"forum": forum, "form": form, "limits": permissions.new_member_limits(request.user)}
    response = render(request, "forum/topic_form.html", context, status=status)
    return _with_retry_after(response, form)


def _with_retry_after(response: HttpResponse, form) -> HttpResponse:
    if retry_after := getattr(form, "retry_after", None):
        set_retry_after(response, retry_after)
    return response


@login_required
@require_POST
def reply_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Reply to a topic (a plain form POST at the foot of the topic page)."""
    topic = permissions.get_topic_for_user(pk=pk, user=request.user)
    permissions.check_reply_permission(request.user, topic)
    form = ReplyForm(request.POST, request.FILES, image_refusal=permissions.image_refusal(request.user))
    status = 200
    if form.is_valid():
        if error := _content_error(request, form):
            form.add_error(None, error)
        elif throttled := write_throttled(request, form, action="post"):
            status = throttled
        elif form.image_process():
            try:
                post = services.reply_create(
                    topic=topic,
                    poster=request.user,
                    source=form.cleaned_data["source"],
                    image=form.cleaned_data["image"],
                    publish=permissions.publishes_at_once(request.user),
                )
            except services.TopicClosed as closed:
                return _closed(request, str(closed), form.cleaned_data["source"])
            if not post.is_approved:
                messages.info(
                    request, "Thanks! As a new member, your reply waits for a moderator before others see it."
                )
            return redirect(post)
    return _with_retry_after(_render_topic(request, topic, status=status, reply_form=form), form)


def _closed(request: HttpRequest, detail: str, typed: str) -> HttpResponse:
    """409: the topic or post was deleted or locked between the page and the write (services
    check again under the topic's lock); what was typed is shown so it is not lost."""
    return error_page(request, 409, detail=detail, context={"typed": typed})


@login_required
@require_http_methods(["GET", "POST"])
def post_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a post one may change; the previous text is kept as a revision. A ``new``
    gardener's edit of an approved post waits for review (the approved text stays public)."""
    post = permissions.get_post_for_user(pk=pk, user=request.user)
    permissions.check_edit_post_permission(request.user, post)
    initial = {"source": post.pending_source if post.pending_at and post.poster_id == request.user.pk else post.source}
    form = EditForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        if error := permissions.link_limit_error(request.user, render_markdown(form.cleaned_data["source"])):
            form.add_error("source", error)
        else:
            try:
                applied = services.post_edit(
                    post_id=post.pk,
                    editor=request.user,
                    source=form.cleaned_data["source"],
                    review=permissions.edit_needs_review(request.user, post),
                )
            except services.TopicClosed as closed:
                return _closed(request, str(closed), form.cleaned_data["source"])
            if not applied:
                messages.info(
                    request, "Thanks! Your edit waits for a moderator; until then others see the earlier text."
                )
            return redirect(post)
    return render(
        request,
        "forum/post_edit.html",
        {
            "form": form,
            "post": post,
            "pending_review": (post.pending_at is not None and post.poster_id != request.user.pk),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def post_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a post one may change. Deleting an opening post deletes its whole topic, so it is
    asked first: GET (or a POST without ``confirm``) shows a confirmation page naming how many
    replies go with it; a reply is deleted at once. Moderators may give a reason (audited)."""
    post = permissions.get_post_for_user(pk=pk, user=request.user)
    permissions.check_edit_post_permission(request.user, post)
    form = DeleteForm(request.POST if request.method == "POST" else None)
    confirmed = form.is_valid() and (form.cleaned_data["confirm"] or not post.is_opening_post)
    if request.method == "GET" or not confirmed:
        replies = selectors.replies_count(topic_id=post.topic_id, viewer=request.user)
        context = {"post": post, "form": form, "replies": replies, "moderator": is_moderator(request.user)}
        return render(
            request, "forum/post_delete.html", context, status=200 if form.is_valid() or not form.is_bound else 400
        )
    replies = services.post_delete(post_id=post.pk, actor=request.user, reason=form.cleaned_data["reason"])
    if post.is_opening_post:
        messages.info(request, f"The topic is deleted, with {replies} repl{'y' if replies == 1 else 'ies'}.")
        return redirect("forum:index")
    messages.info(request, "The post is deleted.")
    return redirect("forum:topic-detail", pk=post.topic_id)


@login_required
@require_POST
def post_report(request: HttpRequest, pk: int) -> HttpResponse:
    """Report a post (trust level basic and up). An htmx POST gets the small form back."""
    post = permissions.get_post_for_user(pk=pk, user=request.user)
    permissions.check_report_post_permission(request.user, post)
    form = ReportForm(request.POST)
    if not form.is_valid():
        return _report_form(request, post, form, status=400)
    if throttled := write_throttled(request, form, action="report"):
        return _with_retry_after(_report_form(request, post, form, status=throttled), form)
    hidden = services.report_create(
        post_id=post.pk, reporter=request.user, reason=form.cleaned_data["reason"], detail=form.cleaned_data["detail"]
    )
    note = (
        "Thanks: the post is hidden until a moderator looks at it." if hidden else "Thanks: moderators will look at it."
    )
    if request.htmx:
        return HttpResponse(f'<p class="muted" role="status">{note}</p>')
    messages.info(request, note)
    return redirect("forum:topic-detail", pk=post.topic_id)


def _report_form(request: HttpRequest, post, form, *, status: int) -> HttpResponse:
    template = "forum/post_report.html#form" if request.htmx else "forum/post_report.html"
    context = {"post": post, "form": form, "report_reasons": Report.Reason.choices}
    return render(request, template, context, status=status)


# --- Topic tools ----------------------------------------------------------------------------


@login_required
@require_POST
def topic_moderate(request: HttpRequest, pk: int) -> HttpResponse:
    """Lock, unlock, pin or unpin a topic (moderators), with an optional reason; audited.
    Invalid input (an unknown action, a NUL byte or an overlong reason) changes nothing: 400
    with the form's message for htmx, the topic page with the form shown again otherwise."""
    topic = permissions.get_topic_for_user(pk=pk, user=request.user)
    permissions.check_moderate_topic_permission(request.user)
    form = TopicToolForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            return render(request, "forum/topic_detail.html#tools", {"topic": topic, "tool_form": form}, status=400)
        return _render_topic(request, topic, tool_form=form)
    services.topic_flag_set(
        topic_id=topic.pk,
        moderator=request.user,
        action=form.cleaned_data["action"],
        reason=form.cleaned_data["reason"],
    )
    return redirect("forum:topic-detail", pk=topic.pk)


@login_required
@require_http_methods(["GET", "POST"])
def topic_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a topic to another forum (moderators and veterans), with an optional reason;
    audited. A topic the user cannot see is a 404 before the permission check."""
    topic = permissions.get_topic_for_user(pk=pk, user=request.user)
    permissions.check_move_topic_permission(request.user)
    form = MoveForm(request.POST if request.method == "POST" else None, current_forum_id=topic.forum.pk)
    if request.method == "GET" or not form.is_valid():
        status = 400 if form.is_bound and request.htmx else 200
        return render(request, "forum/topic_move.html", {"topic": topic, "form": form}, status=status)
    services.topic_move(
        topic_id=topic.pk, actor=request.user, to_forum=form.cleaned_data["forum"], reason=form.cleaned_data["reason"]
    )
    messages.success(request, f"Moved to {form.cleaned_data['forum'].name}.")
    return redirect("forum:topic-detail", pk=topic.pk)
