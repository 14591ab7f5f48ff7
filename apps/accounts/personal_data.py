"""The registry of personal data: which rows are "about you", how each app exports and erases
them (issue 11, "Your data"; GDPR articles 15, 17 and 20: access, erasure, portability).

``accounts`` sits below ``plants`` and ``forum`` and may not import them (README "Layout"), so
each app describes its own rows in a ``PersonalDataSource`` and registers it from its
``AppConfig.ready()`` (the way WordPress core asks every plugin for a personal-data exporter
and eraser). The export task and the account deletion service then run every registered
source without knowing the models.

A *user relation* is every foreign key, one-to-one or many-to-many from any installed model to
the user model (``apps.get_models(include_auto_created=True)``, so the auto-created
``User.groups`` and ``User.user_permissions`` tables count too). Each one must be claimed by
exactly one source, either as *exported* (its rows are in the export under the model's label),
as *derived* (a denormalized copy of something exported, or another person's data, with the
reason) or as *kept out* (a credential such as the two-factor key or recovery-code hashes: a
secret, not data about you, with the reason; the export says that it exists, not what it is).
``unclaimed_user_relations()`` names any that is not; ``tests/accounts/test_personal_data.py``
fails on it, so a new model with a user foreign key must be registered.

What an export holds, per model label: the rows whose user relation points at the user, plus
the rows a source lists in ``indirect`` (a request's photos), each a JSON object with its
``id``. Never another person's name or email; public content others wrote around yours (replies
in your topics, other gardeners' suggestions on your requests) is theirs, not "about you", and
is left out (README "Your data").
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import F, QuerySet

EXPORT_FORMAT = "plant-community-portal.data-export.v1"


@dataclass
class ExportPart:
    """What one source contributes to an export.

    ``rows``: model label (``"forum.Post"``) -> list of JSON-ready dicts, each with ``"id"``.
    ``files``: ``(path inside the ZIP, name in the default storage)`` pairs, e.g.
    ``("files/plants/request-12/photo-0.jpg", "identification/photos/2026/11/ab12-0.jpg")``.
    """

    rows: dict[str, list[dict]] = field(default_factory=dict)
    files: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ErasurePart:
    """What one source's erasure leaves to do after the commit: stored files to remove (names in
    the default storage) and Redis keys to delete (exact keys)."""

    files: list[str] = field(default_factory=list)
    redis_keys: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PersonalDataSource:
    """One app's personal data.

    ``name``: a short name (``"forum"``). ``exported``: the user relations whose rows ``export``
    puts in the export, as ``"app_label.Model.field"``. ``derived``: relation -> why its rows are
    not exported on their own. ``indirect``: model label -> the lookup from that model to the
    user (``"request__owner"``) for rows exported without a user relation of their own.
    ``export(user)`` returns an ``ExportPart``; ``erase(user)`` runs inside the deletion's
    transaction (the user row locked, not yet anonymized), deletes the rows of every relation
    it claims (kept-out ones included) and returns an ``ErasurePart``. ``kept_out``: relation ->
    why its rows (secrets) are never exported.
    """

    name: str
    exported: tuple[str, ...]
    derived: dict[str, str]
    indirect: dict[str, str]
    export: Callable[..., ExportPart]
    erase: Callable[..., ErasurePart]
    kept_out: dict[str, str] = field(default_factory=dict)


_SOURCES: dict[str, PersonalDataSource] = {}


def personal_data_source_register(source: PersonalDataSource) -> None:
    """Add ``source`` to the registry (from an ``AppConfig.ready()``). Registering the same name
    again replaces it (``ready()`` may run twice in tests). Raises ``ValueError`` when a relation
    is already claimed by another source."""
    claimed = {
        relation: other.name for other in _SOURCES.values() if other.name != source.name for relation in _claims(other)
    }
    for relation in _claims(source):
        if relation in claimed:
            raise ValueError(f"{relation} is already claimed by the {claimed[relation]!r} personal-data source")
    _SOURCES[source.name] = source


def personal_data_sources() -> list[PersonalDataSource]:
    """Every registered source, in registration order (accounts first, then apps in
    ``INSTALLED_APPS`` order)."""
    return list(_SOURCES.values())


def _claims(source: PersonalDataSource) -> set[str]:
    return {*source.exported, *source.derived, *source.kept_out}


def user_relations() -> list[str]:
    """Every relation from an installed model to the user model, as ``"app_label.Model.field"``
    (auto-created many-to-many tables included: ``"accounts.User_groups.user"``), sorted."""
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    found = set()
    for model in apps.get_models(include_auto_created=True):
        for model_field in model._meta.get_fields(include_hidden=True):
            if not model_field.is_relation or (model_field.auto_created and not model_field.concrete):
                continue  # reverse accessors are the other side of a relation counted elsewhere
            if model_field.related_model is user_model and (model_field.concrete or model_field.many_to_many):
                found.add(f"{model._meta.label}.{model_field.name}")
    return sorted(found)


def unclaimed_user_relations() -> list[str]:
    """User relations no registered source claims (exported, derived or kept out), sorted: each is a
    model whose rows about a user would be missing from exports and left behind by deletion."""
    claimed = set().union(*(_claims(source) for source in personal_data_sources()))
    return [relation for relation in user_relations() if relation not in claimed]


def rows_of(queryset: QuerySet, *fields: str, **renamed) -> list[dict]:
    """``queryset.values(...)`` as plain dicts ordered by ``id``: ``fields`` as they are and
    ``renamed`` as ``{"species": "species__scientific_name"}`` (a lookup) or an expression. One
    query; no lazy loads."""
    expressions = {name: F(value) if isinstance(value, str) else value for name, value in renamed.items()}
    return [dict(row) for row in queryset.order_by("pk").values("id", *fields, **expressions)]


class ExportEncoder(DjangoJSONEncoder):
    """JSON for exports: datetimes as ISO 8601 (UTC), decimals as strings (Django's encoder)."""


def merge_parts(parts: Iterable[ExportPart]) -> ExportPart:
    """One ``ExportPart`` from several (rows of the same label concatenated)."""
    merged = ExportPart()
    for part in parts:
        for label, rows in part.rows.items():
            merged.rows.setdefault(label, []).extend(rows)
        merged.files.extend(part.files)
    return merged
