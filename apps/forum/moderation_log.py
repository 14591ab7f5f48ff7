"""The moderation log as people read it (``/moderation/log/``).

Each audit row (``apps.core.models.ModerationAction``, written only by
``apps.core.audit.audit_record``) becomes a sentence with links to what it is about, e.g.
"mod rejected a post by newbie in “Yellow leaves”: spam" or "newbie was promoted from New to
Basic automatically". The page filters by moderator and by action through
``ModerationLogFilterForm``.

The vocabulary and the targets each action names come from ``apps/core/audit.py``: post actions
(and ``report.*``) target a post id, ``topic.*`` a topic id, ``trust.*`` a user id and
``lockout.clear`` a lock key (``user:<id>`` or ``name:<hash>``). Target ids are text in the
table, so targets are loaded in batches by id, one statement per kind, whatever the page size.
"""

from dataclasses import dataclass
from datetime import datetime

from django import forms
from django.contrib.auth.models import Permission
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.urls import reverse

from apps.accounts.lockout import lock_key_user_id
from apps.accounts.models import TrustLevel, User
from apps.core.models import ModerationAction
from apps.core.people import is_former_member, profile_url
from apps.core.permissions import MODERATION_PERMISSION

from .models import Forum, Post, Topic

PAGE_SIZE = 50

# The filter's choices, grouped as the select shows them; labels read as "what happened".
ACTION_GROUPS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Posts",
        [
            ("post.approve", "Approved a post"),
            ("post.reject", "Rejected a post"),
            ("post.edit_approve", "Approved an edit"),
            ("post.edit_reject", "Rejected an edit"),
            ("post.delete", "Deleted a post"),
            ("post.hide", "Hidden by reports"),
        ],
    ),
    (
        "Reports",
        [
            ("report.agree", "Agreed with reports"),
            ("report.disagree", "Disagreed with reports"),
            ("report.ignore", "Ignored reports"),
        ],
    ),
    (
        "Topics",
        [
            ("topic.lock", "Locked a topic"),
            ("topic.unlock", "Unlocked a topic"),
            ("topic.pin", "Pinned a topic"),
            ("topic.unpin", "Unpinned a topic"),
            ("topic.move", "Moved a topic"),
            ("topic.delete", "Deleted a topic"),
        ],
    ),
    (
        "Members",
        [
            ("trust.promote", "Raised a trust level"),
            ("trust.set", "Set a trust level"),
            ("lockout.clear", "Cleared a sign-in lock"),
        ],
    ),
]
ACTION_LABELS: dict[str, str] = {action: label for _, group in ACTION_GROUPS for action, label in group}

# How each post action reads: the verb phrase before the post ("rejected a post by ...").
_POST_VERBS = {
    "post.approve": "approved",
    "post.reject": "rejected",
    "post.edit_approve": "approved an edit to",
    "post.edit_reject": "rejected an edit to",
    "post.delete": "deleted",
    "post.hide": "hid",
    "report.agree": "agreed with the reports on",
    "report.disagree": "disagreed with the reports on",
    "report.ignore": "ignored the reports on",
}
_TOPIC_VERBS = {
    "topic.lock": "locked",
    "topic.unlock": "unlocked",
    "topic.pin": "pinned",
    "topic.unpin": "unpinned",
    "topic.delete": "deleted",
    "topic.move": "moved",
}
# A missing actor on an action that always has one means the account that acted was deleted
# (the audit row keeps the action: ``on_delete=SET_NULL``).
FORMER_MEMBER = "a former member"


@dataclass(frozen=True)
class Part:
    """A piece of a log sentence: plain text, or a link when ``url`` is set."""

    text: str
    url: str | None = None


@dataclass(frozen=True)
class LogEntry:
    """One log line: ``parts`` make the sentence; ``action`` is the raw name (``topic.move``)."""

    id: int
    created_at: datetime
    action: str
    label: str
    parts: tuple[Part, ...]


# Moderators (the permission through a group or directly) and every distinct actor of the log.
# The actors come from a "loose index scan" of the actor foreign key's index: a recursive CTE
# that jumps from one actor id to the next, one index probe per distinct actor, where
# ``SELECT DISTINCT actor_id`` (or ``IN (SELECT actor_id ...)``) would read every log row; at a
# million rows that is the difference between a millisecond and minutes. Table names are
# Django's defaults for these models.
_ACTOR_CHOICES_SQL = """
WITH RECURSIVE actor_ids(id) AS (
    (SELECT actor_id FROM core_moderationaction WHERE actor_id IS NOT NULL ORDER BY actor_id LIMIT 1)
    UNION ALL
    SELECT (SELECT later.actor_id FROM core_moderationaction AS later
            WHERE later.actor_id > actor_ids.id ORDER BY later.actor_id LIMIT 1)
    FROM actor_ids WHERE actor_ids.id IS NOT NULL
), permission AS (
    SELECT p.id FROM auth_permission AS p JOIN django_content_type AS ct ON ct.id = p.content_type_id
    WHERE ct.app_label = %(app_label)s AND p.codename = %(codename)s
), chosen(id) AS (
    SELECT ug.user_id FROM accounts_user_groups AS ug
    JOIN auth_group_permissions AS gp ON gp.group_id = ug.group_id
    WHERE gp.permission_id IN (SELECT id FROM permission)
    UNION
    SELECT up.user_id FROM accounts_user_user_permissions AS up WHERE up.permission_id IN (SELECT id FROM permission)
    UNION
    SELECT id FROM actor_ids WHERE id IS NOT NULL
)
SELECT u.id, u.username FROM accounts_user AS u WHERE u.id IN (SELECT id FROM chosen)
ORDER BY lower(u.username), u.id
"""


def moderation_log_actor_choices() -> list[tuple[int, str]]:
    """The moderator filter's choices, ``[(user id, username), ...]`` by username (any case):
    users with the moderation permission (``apps.core.permissions.MODERATION_PERMISSION``,
    through a group or directly) and anyone who appears as an actor in the log (veterans move
    topics; a former moderator keeps their entries; a superuser appears once they act).

    One SQL statement whose cost grows with the number of distinct actors, not with the log
    (see ``_ACTOR_CHOICES_SQL``)."""
    app_label, codename = MODERATION_PERMISSION.split(".")
    if connection.vendor != "postgresql":
        # The embedded default (SQLite, a demo-sized log): the plain query is fine there.
        return _actor_choices_portable(app_label=app_label, codename=codename)
    with connection.cursor() as cursor:
        cursor.execute(_ACTOR_CHOICES_SQL, {"app_label": app_label, "codename": codename})
        return [(user_id, username) for user_id, username in cursor.fetchall()]


def _actor_choices_portable(*, app_label: str, codename: str) -> list[tuple[int, str]]:
    permission = Q(content_type__app_label=app_label, codename=codename)
    granted = Q(groups__permissions__in=Permission.objects.filter(permission)) | Q(
        user_permissions__in=Permission.objects.filter(permission)
    )
    acted = Q(pk__in=ModerationAction.objects.filter(actor__isnull=False).values("actor_id"))
    chosen = User.objects.filter(granted | acted).values("pk")
    users = User.objects.filter(pk__in=chosen).order_by(Lower("username"), "id")
    return list(users.values_list("id", "username"))


class ModerationLogFilterForm(forms.Form):
    """GET ``moderator`` (a user id from ``moderation_log_actor_choices``) and ``action`` (a
    name of the audit vocabulary); both optional. A value outside the choices is refused with
    the field's message, so the view never queries with it."""

    moderator = forms.TypedChoiceField(
        label="Moderator",
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": "Choose a moderator from the list."},
    )
    action = forms.ChoiceField(
        label="Action",
        required=False,
        choices=[("", "Any action"), *ACTION_GROUPS],
        error_messages={"invalid_choice": "Choose an action from the list."},
    )

    def __init__(self, data=None, *, actor_choices: list[tuple[int, str]]):
        super().__init__(data)
        self.fields["moderator"].choices = [("", "Anyone"), *actor_choices]


def moderation_log_rows(*, actor_id: int | None = None, action: str | None = None) -> QuerySet[ModerationAction]:
    """The log's rows in page order (newest first, then by id), optionally one actor's
    (``actor_id``) and one action's (``action``), with the actor's username: a lazy queryset
    for ``moderation_log_page`` to paginate. Ordered as the index ``core_modaction_action_recent``
    is, so one action's page is an index range; an actor's uses the foreign key's index."""
    rows = (
        ModerationAction.objects.select_related("actor")
        .only(
            "id",
            "action",
            "target_type",
            "target_id",
            "reason",
            "metadata",
            "created_at",
            "actor__id",
            "actor__username",
        )
        .order_by("-created_at", "-id")
    )
    if actor_id is not None:
        rows = rows.filter(actor_id=actor_id)
    if action:
        rows = rows.filter(action=action)
    return rows


def moderation_log_page(
    *, page_number: str | int | None, actor_id: int | None = None, action: str | None = None
) -> Page:
    """A page (``PAGE_SIZE``, 50) of the moderation log, newest first, as ``LogEntry`` sentences.

    ``page_number``: the ``page`` query parameter as given (text, int or ``None``); anything
    that is not a page number shows the first page, a number past the end the last
    (``Paginator.get_page``). ``actor_id`` keeps one moderator's entries; ``action`` one action
    name. Both are validated by ``ModerationLogFilterForm`` first; this function trusts them.

    SQL: the count and the page's rows (with the actor's username), then one statement for each
    kind of target the page names: posts (with topic and poster), topics, users and forums.
    So at most 6 statements whatever the page size (see ``moderation_log_rows`` for the
    indexes the filters use). Returns a Django ``Page`` whose ``object_list`` is a list of
    ``LogEntry``.
    """
    page = Paginator(moderation_log_rows(actor_id=actor_id, action=action), PAGE_SIZE).get_page(page_number)
    actions = list(page.object_list)
    targets = _Targets.load(actions)
    page.object_list = [
        LogEntry(
            id=row.pk,
            created_at=row.created_at,
            action=row.action,
            label=ACTION_LABELS.get(row.action, row.action),
            parts=tuple(_sentence(row, targets)),
        )
        for row in actions
    ]
    return page


def _meta(row: ModerationAction, key: str):
    return row.metadata.get(key) if isinstance(row.metadata, dict) else None


def _int_id(value) -> int | None:
    """An id from the text of ``target_id`` or a metadata value; ``None`` for anything else
    (an id must fit PostgreSQL's bigint)."""
    text = str(value)
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


@dataclass(frozen=True)
class _Targets:
    posts: dict[int, Post]
    topics: dict[int, Topic]
    usernames: dict[int, str]
    forums: dict[int, Forum]

    @classmethod
    def load(cls, actions: list[ModerationAction]) -> "_Targets":
        post_ids, topic_ids, user_ids, forum_ids = set(), set(), set(), set()
        for row in actions:
            target = _int_id(row.target_id)
            if row.target_type == "post" and target:
                post_ids.add(target)
            elif row.target_type == "topic" and target:
                topic_ids.add(target)
                if row.action == "topic.move":
                    forum_ids.update(filter(None, (_int_id(_meta(row, key)) for key in ("from_forum", "to_forum"))))
            elif row.target_type == "user" and target:
                user_ids.add(target)
            elif row.target_type == "account" and (owner := lock_key_user_id(row.target_id)):
                user_ids.add(owner)
        posts = {
            post.pk: post
            for post in Post.objects.filter(pk__in=post_ids)
            .select_related("topic", "poster")
            .only(
                "id", "is_deleted", "topic__id", "topic__subject", "topic__is_deleted", "poster__id", "poster__username"
            )
        }
        # A post that is gone may still name its topic in the metadata ({"topic_id": 7}).
        topic_ids.update(
            topic_id
            for row in actions
            if row.target_type == "post"
            and _int_id(row.target_id) not in posts
            and (topic_id := _int_id(_meta(row, "topic_id")))
        )
        topics = {
            topic.pk: topic for topic in Topic.objects.filter(pk__in=topic_ids).only("id", "subject", "is_deleted")
        }
        usernames = dict(User.objects.filter(pk__in=user_ids).values_list("id", "username"))
        forums = {forum.pk: forum for forum in Forum.objects.filter(pk__in=forum_ids).only("id", "name", "slug")}
        return cls(posts=posts, topics=topics, usernames=usernames, forums=forums)


def _reason(row: ModerationAction) -> list[Part]:
    return [Part(f": {row.reason}")] if row.reason else []


def _topic_parts(topic: Topic | None) -> list[Part]:
    if topic is None:
        return [Part("a topic that no longer exists")]
    if topic.is_deleted:  # kept for the log, shown to nobody: no link that would be a 404
        return [Part(f"“{topic.subject}” (deleted)")]
    return [Part(f"“{topic.subject}”", reverse("forum:topic-detail", kwargs={"pk": topic.pk}))]


def _post_parts(row: ModerationAction, targets: _Targets, *, capital: bool = False, topic: bool = True) -> list[Part]:
    """ "a post by newbie in “Yellow leaves”" (linked to the post and the topic); ``topic=False``
    leaves the topic out where the sentence goes on after the post."""
    article = "A" if capital else "a"
    post = targets.posts.get(_int_id(row.target_id))
    if post is not None:
        if post.is_deleted or post.topic.is_deleted:
            # Kept for the log, shown to nobody: named without a link (it would be a 404).
            deleted_here = row.action in ("post.delete", "report.agree")
            parts = [Part(f"{article} post" if deleted_here else f"{article} since deleted post")]
        else:
            parts = [Part(f"{article} post", reverse("forum:post-permalink", kwargs={"pk": post.pk}))]
        if not topic:
            return [*parts, Part(" by "), _member_part(post.poster.username)]
        return [*parts, Part(" by "), _member_part(post.poster.username), Part(" in "), *_topic_parts(post.topic)]
    topic = targets.topics.get(_int_id(_meta(row, "topic_id")))
    if topic is None:
        return [Part(f"{article} post that no longer exists")]
    return [Part(f"{article} removed post in "), *_topic_parts(topic)]


def _member_part(name: str | None, *, former: str = FORMER_MEMBER) -> Part:
    """A member's name linked to their profile (issue 12); ``former`` for an account that is
    gone or erased, without a link (its profile is a 404)."""
    if is_former_member(name):
        return Part(former)
    return Part(name, profile_url(name))


def _forum_parts(forum: Forum | None) -> list[Part]:
    if forum is None:
        return [Part("a removed forum")]
    return [Part(forum.name, reverse("forum:forum-detail", kwargs={"slug": forum.slug}))]


def _trust_label(value) -> str:
    try:
        return TrustLevel(value).label
    except ValueError:
        return str(value or "?")


def _sentence(row: ModerationAction, targets: _Targets) -> list[Part]:
    """The parts of one entry's sentence; see the module docstring for examples."""
    actor = row.actor.username if row.actor is not None else None
    who = [_member_part(actor, former=FORMER_MEMBER.capitalize())]
    if row.action == "post.hide" and actor is None:
        cause = f" after {row.reason}" if row.reason else " by reports"
        return [*_post_parts(row, targets, capital=True, topic=False), Part(f" was hidden automatically{cause}")]
    if row.action in _POST_VERBS and row.target_type == "post":
        return [*who, Part(f" {_POST_VERBS[row.action]} "), *_post_parts(row, targets), *_reason(row)]
    if row.action in _TOPIC_VERBS and row.target_type == "topic":
        topic = targets.topics.get(_int_id(row.target_id))
        parts = [*who, Part(f" {_TOPIC_VERBS[row.action]} "), *_topic_parts(topic)]
        if row.action == "topic.move":
            parts += [
                Part(" from "),
                *_forum_parts(targets.forums.get(_int_id(_meta(row, "from_forum")))),
                Part(" to "),
                *_forum_parts(targets.forums.get(_int_id(_meta(row, "to_forum")))),
            ]
        replies = _int_id(_meta(row, "replies")) if row.action == "topic.delete" else None
        if replies:
            parts.append(Part(f" and its {replies} repl{'y' if replies == 1 else 'ies'}"))
        return [*parts, *_reason(row)]
    if row.action == "trust.promote" and row.target_type == "user":
        member = targets.usernames.get(_int_id(row.target_id))
        levels = f"from {_trust_label(_meta(row, 'from'))} to {_trust_label(_meta(row, 'to'))}"
        if actor is None:
            # The automatic promotion's reason only restates the levels.
            return [
                _member_part(member, former=FORMER_MEMBER.capitalize()),
                Part(f" was promoted {levels} automatically"),
            ]
        return [*who, Part(" promoted "), _member_part(member), Part(f" {levels}"), *_reason(row)]
    if row.action == "trust.set" and row.target_type == "user":
        member = targets.usernames.get(_int_id(row.target_id))
        levels = f"from {_trust_label(_meta(row, 'from'))} to {_trust_label(_meta(row, 'to'))}"
        return [*who, Part(" set "), _member_part(member), Part(f"'s trust level {levels}"), *_reason(row)]
    if row.action == "lockout.clear" and row.target_type == "account":
        user_id = lock_key_user_id(row.target_id)
        owner = Part("an unknown name") if user_id is None else _member_part(targets.usernames.get(user_id))
        return [*who, Part(" cleared the sign-in lock on "), owner, *_reason(row)]
    if row.action == "account.delete" and row.target_type == "user":
        # The row stays, anonymized (apps.accounts.data_services.account_erase): its posts too.
        member = targets.usernames.get(_int_id(row.target_id), FORMER_MEMBER)
        return [Part(f"A member deleted their account; their posts stay under {member}")]
    # An action this page does not know yet still says what the row holds.
    return [
        Part(actor or "The portal"),
        Part(f" recorded “{row.action}” on {row.target_type} {row.target_id}"),
        *_reason(row),
    ]
