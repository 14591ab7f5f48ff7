"""Forum pages: reading (index, forum, topic), writing (topics, replies, edits, deletes,
reports) and moderator tools on topics. Thin views over selectors, services and permissions."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.models import TrustLevel
from apps.core.permissions import is_moderator

from . import permissions, selectors, services
from .forms import EditForm, MoveForm, ReplyForm, ReportForm, TopicForm
from .markdown import render_markdown
from .models import Report


def _viewer(request: HttpRequest):
    return request.user if request.user.is_authenticated else None


@require_GET
def forum_index(request: HttpRequest) -> HttpResponse:
    """``/forum/``: forums with topic and post counts and last activity."""
    return render(request, "forum/index.html", {"forums": selectors.forum_list()})


@require_GET
def forum_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """One forum: visible topics, pinned first, then by last activity, 25 a page."""
    forum = selectors.forum_for_viewer(slug=slug, viewer=_viewer(request))
    if forum is None:
        raise Http404("No such forum.")
    page = selectors.topic_page_for_forum(forum=forum, viewer=_viewer(request), page_number=request.GET.get("page"))
    return render(request, "forum/forum_detail.html", {"forum": forum, "page": page})


def _topic_context(request: HttpRequest, topic, page, *, reply_form=None) -> dict:
    user = request.user
    signed_in = user.is_authenticated
    moderator = is_moderator(user) if signed_in else False
    return {
        "topic": topic,
        "page": page,
        "reply_form": reply_form or ReplyForm(),
        "is_moderator": moderator,
        "can_reply": signed_in and user.is_email_confirmed and (not topic.is_locked or moderator),
        "can_report": signed_in and (moderator or user.trust_level != TrustLevel.NEW),
        "can_move": signed_in and (moderator or user.trust_level == TrustLevel.VETERAN),
        "report_reasons": Report.Reason.choices,
    }


@require_GET
def topic_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One topic: its visible posts in order, 20 a page, with posters' names and trust levels;
    reply form, and the tools the viewer may use. At most 4 statements."""
    moderator = request.user.is_authenticated and is_moderator(request.user)
    topic = selectors.get_topic_for_viewer(pk=pk, viewer=_viewer(request), include_held=moderator)
    if topic is None:
        raise Http404("No such topic.")
    page = selectors.post_page_for_topic(
        topic=topic, viewer=_viewer(request), page_number=request.GET.get("page"), include_held=moderator
    )
    return render(request, "forum/topic_detail.html", _topic_context(request, topic, page))


@require_GET
def post_permalink(request: HttpRequest, pk: int) -> HttpResponse:
    """``/forum/p/<id>/``: a post's lasting link; redirects to the topic page it is on."""
    location = selectors.post_location_for_viewer(pk=pk, viewer=_viewer(request))
    if location is None:
        raise Http404("No such post.")
    topic_id, page = location
    url = reverse("forum:topic-detail", kwargs={"pk": topic_id})
    return redirect(f"{url}{'?page=%d' % page if page > 1 else ''}#post-{pk}")


# --- Writing ------------------------------------------------------------------------------

def _write_error(request: HttpRequest, form, template: str, context: dict, message: str) -> HttpResponse:
    form.add_error(None, message)
    return render(request, template, {**context, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def topic_create(request: HttpRequest, slug: str) -> HttpResponse:
    """``/forum/f/<slug>/new/``: start a topic. ``new`` gardeners' topics wait for review."""
    forum = selectors.forum_for_viewer(slug=slug, viewer=request.user)
    if forum is None:
        raise Http404("No such forum.")
    permissions.check_post_permission(request.user)
    form = TopicForm(request.POST or None, request.FILES or None) if request.method == "POST" else TopicForm()
    context = {"forum": forum}
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["image"] is not None:
            try:
                permissions.check_attach_image_permission(request.user)
            except PermissionDenied as denied:
                return _write_error(request, form, "forum/topic_form.html", context, str(denied))
        if error := permissions.link_limit_error(request.user, render_markdown(form.cleaned_data["source"])):
            return _write_error(request, form, "forum/topic_form.html", context, error)
        topic = services.topic_create(
            forum=forum, poster=request.user, subject=form.cleaned_data["subject"], source=form.cleaned_data["source"],
            image=form.cleaned_data["image"], publish=permissions.publishes_at_once(request.user),
        )
        if not topic.is_approved:
            messages.info(request, "Thanks! As a new member, your topic waits for a moderator before others see it.")
        return redirect(topic)
    return render(request, "forum/topic_form.html", {**context, "form": form})


@login_required
@require_POST
def reply_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Reply to a topic (a plain form POST at the foot of the topic page)."""
    topic = selectors.get_topic_for_viewer(pk=pk, viewer=request.user)
    if topic is None:
        raise Http404("No such topic.")
    permissions.check_reply_permission(request.user, topic)
    form = ReplyForm(request.POST, request.FILES)
    error = None
    if form.is_valid():
        if form.cleaned_data["image"] is not None:
            try:
                permissions.check_attach_image_permission(request.user)
            except PermissionDenied as denied:
                error = str(denied)
        error = error or permissions.link_limit_error(request.user, render_markdown(form.cleaned_data["source"]))
        if error is None:
            post = services.reply_create(
                topic=topic, poster=request.user, source=form.cleaned_data["source"], image=form.cleaned_data["image"],
                publish=permissions.publishes_at_once(request.user),
            )
            if not post.is_approved:
                messages.info(request, "Thanks! As a new member, your reply waits for a moderator before others see it.")
            return redirect(post)
    if error:
        form.add_error(None, error)
    page = selectors.post_page_for_topic(topic=topic, viewer=request.user, page_number=request.GET.get("page"))
    return render(request, "forum/topic_detail.html", _topic_context(request, topic, page, reply_form=form))


def _post_for_change(request: HttpRequest, pk: int):
    post = selectors.post_for_change(pk=pk)
    if post is None:
        raise Http404("No such post.")
    permissions.check_edit_post_permission(request.user, post)
    return post


@login_required
@require_http_methods(["GET", "POST"])
def post_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit one's own post; the previous text is kept as a revision."""
    post = _post_for_change(request, pk)
    form = EditForm(request.POST if request.method == "POST" else None, initial={"source": post.source})
    if request.method == "POST" and form.is_valid():
        if error := permissions.link_limit_error(request.user, render_markdown(form.cleaned_data["source"])):
            form.add_error("source", error)
        else:
            services.post_edit(post=post, editor=request.user, source=form.cleaned_data["source"])
            return redirect(post)
    return render(request, "forum/post_edit.html", {"form": form, "post": post})


@login_required
@require_POST
def post_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Soft-delete one's own post (the opening post deletes the topic)."""
    post = _post_for_change(request, pk)
    topic = selectors.topic_for_change(pk=post.topic_id)
    services.post_delete(post=post, actor=request.user, topic=topic)
    messages.info(request, "The topic is deleted." if post.is_opening_post else "Your post is deleted.")
    if post.is_opening_post:
        return redirect("forum:index")
    return redirect(topic)


@login_required
@require_POST
def post_report(request: HttpRequest, pk: int) -> HttpResponse:
    """Report a post (trust level basic and up)."""
    post = selectors.post_for_change(pk=pk)
    if post is None or not selectors.post_location_for_viewer(pk=pk, viewer=request.user):
        raise Http404("No such post.")
    permissions.check_report_post_permission(request.user, post)
    form = ReportForm(request.POST)
    if not form.is_valid():
        problems = " ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        return render(request, "400.html", {"detail": f"The report could not be sent. {problems}"}, status=400)
    hidden = services.report_create(
        post_id=post.pk, reporter=request.user, reason=form.cleaned_data["reason"], detail=form.cleaned_data["detail"]
    )
    note = "Thanks: the post is hidden until a moderator looks at it." if hidden else "Thanks: moderators will look at it."
    if request.htmx:
        return HttpResponse(f'<p class="muted" role="status">{note}</p>')
    messages.info(request, note)
    return redirect("forum:topic-detail", pk=post.topic_id)


@login_required
@require_POST
def topic_moderate(request: HttpRequest, pk: int) -> HttpResponse:
    """Lock, unlock, pin or unpin a topic (moderators); audited."""
    permissions.check_moderate_topic_permission(request.user)
    topic = selectors.topic_for_change(pk=pk)
    if topic is None:
        raise Http404("No such topic.")
    actions = {"lock": ("is_locked", True), "unlock": ("is_locked", False), "pin": ("is_pinned", True), "unpin": ("is_pinned", False)}
    if request.POST.get("action") not in actions:
        return render(request, "400.html", {"detail": "Unknown action."}, status=400)
    flag, value = actions[request.POST["action"]]
    services.topic_set_flag(topic=topic, moderator=request.user, flag=flag, value=value, reason=request.POST.get("reason", "")[:500])
    return redirect(topic)


@login_required
@require_http_methods(["GET", "POST"])
def topic_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a topic to another forum (moderators and veterans); audited."""
    permissions.check_move_topic_permission(request.user)
    topic = selectors.topic_for_change(pk=pk)
    if topic is None:
        raise Http404("No such topic.")
    form = MoveForm(request.POST if request.method == "POST" else None, initial={"forum": topic.forum_id})
    if request.method == "GET" or not form.is_valid():
        return render(request, "forum/topic_move.html", {"topic": topic, "form": form})
    services.topic_move(topic=topic, actor=request.user, to_forum=form.cleaned_data["forum"], reason=request.POST.get("reason", "")[:500])
    messages.success(request, f"Moved to {form.cleaned_data['forum'].name}.")
    return redirect(topic)
