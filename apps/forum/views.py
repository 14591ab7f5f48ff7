"""Forum reading pages: the index, one forum's topics and one topic's posts."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from . import selectors


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


@require_GET
def topic_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One topic: its visible posts in order, 20 a page, with posters' names and trust levels."""
    topic = selectors.get_topic_for_viewer(pk=pk, viewer=_viewer(request))
    if topic is None:
        raise Http404("No such topic.")
    page = selectors.post_page_for_topic(topic=topic, viewer=_viewer(request), page_number=request.GET.get("page"))
    return render(request, "forum/topic_detail.html", {"topic": topic, "page": page})


@require_GET
def post_permalink(request: HttpRequest, pk: int) -> HttpResponse:
    """``/forum/p/<id>/``: a post's lasting link; redirects to the topic page it is on."""
    location = selectors.post_location_for_viewer(pk=pk, viewer=_viewer(request))
    if location is None:
        raise Http404("No such post.")
    topic_id, page = location
    url = reverse("forum:topic-detail", kwargs={"pk": topic_id})
    return redirect(f"{url}{'?page=%d' % page if page > 1 else ''}#post-{pk}")
