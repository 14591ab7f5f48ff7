"""``/forum/search/``: full-text search over the forum, grouped by topic."""

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import search

QUERY_MAX_CHARS = 200


class SearchForm(forms.Form):
    """The search box and its two filters. Django's ``CharField`` already refuses NUL
    characters (which PostgreSQL text cannot hold), so no input reaches the database that
    could make it fail."""

    q = forms.CharField(
        label="Search the forum",
        required=False,
        max_length=QUERY_MAX_CHARS,
        help_text='Words to find; "quotes" for a phrase, or for either word, -word to leave a word out.',
    )
    forum = forms.ChoiceField(label="Forum", required=False)
    author = forms.CharField(label="Posted by", required=False, max_length=150, help_text="A username.")

    def __init__(self, *args, forum_choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["forum"].choices = [("", "All forums"), *forum_choices]


@require_GET
def forum_search(request: HttpRequest) -> HttpResponse:
    """Search topics and posts: ``?q=`` (web-search syntax), ``forum=<slug>``,
    ``author=<username>``, ``page=``. An empty ``q`` shows the form only; invalid input (too
    long, an unknown forum) shows the form again with its message, 200 (SPEC "Bad input").
    Statements: the user lookup, the forum list, then the result count and the page."""
    form = SearchForm(request.GET or None, forum_choices=search.search_forum_choices())
    page = None
    query = ""
    if form.is_bound and form.is_valid():
        query = form.cleaned_data["q"]
        if query:
            page = search.forum_search(
                query=query,
                viewer=request.user if request.user.is_authenticated else None,
                forum_slug=form.cleaned_data["forum"],
                author=form.cleaned_data["author"].strip(),
                page_number=request.GET.get("page"),
            )
    return render(
        request,
        "forum/search.html",
        {"form": form, "page": page, "query": query, "full_text": search.is_full_text()},
    )
