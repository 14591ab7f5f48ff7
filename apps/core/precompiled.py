"""ORM statements compiled to SQL once per process and executed with new values (issue 13,
part 2: "cheaper misses").

A dashboard panel's statement has the same shape for every gardener; only a few values change
(the gardener's id, ``now``, a window's start). Building the queryset and compiling it costs
1-3 ms per request at the large scale, more than PostgreSQL takes to run it. ``PrecompiledValues``
builds the queryset once with marker values in place of the changing ones, compiles it with the
queryset's own compiler, remembers where each marker landed among the parameters, and then
runs the same SQL text with the real values; rows go through the same compiler's converters and
come back as the dicts ``QuerySet.values()`` would give. The SQL is the ORM's own, so the
selector still reads as ORM code, and a test compares every precompiled statement's rows with
the plain queryset's (``tests/core/test_precompiled.py`` and the selectors' tests).

Only PostgreSQL runs the precompiled text (the project's database; SQLite, the embedded demo
default, adapts datetimes into strings, so markers could not be found there): on any other
backend ``rows`` evaluates the queryset the usual way.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from weakref import ref as weak_ref

from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.models import QuerySet

# Values nothing real holds: far below any id, and instants in 1900 a microsecond apart.
_INT_MARKER_BASE = -7_000_000_000_000_000_000


def _marker(kind: type, index: int):
    if kind is int:
        return _INT_MARKER_BASE - index
    if kind is datetime:
        return datetime(1900, 1, 1, 0, 0, 0, index + 1, tzinfo=UTC)
    if kind is date:
        return date(1900, 1, 1) + timedelta(days=index)
    raise TypeError(f"precompiled parameters are int, datetime or date, not {kind.__name__}")


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: dict[str, tuple[int, ...]]  # parameter name -> positions in ``params``
    compiler: Any  # the SQLCompiler that produced ``sql`` (its converters turn rows into values)
    names: tuple[str, ...]
    fetch_mode: Any  # the queryset's fetch mode (model instances only)


class PrecompiledValues:
    """A ``values()`` queryset compiled once per process and database alias.

    ``build(**markers)`` returns the queryset; it must use each named parameter only as a value
    in the query (a filter value, ``Value(...)``), never in Python arithmetic (pass a window's
    start as its own parameter). ``parameters`` maps each name to ``int``, ``datetime`` or
    ``date``.
    Constants that change the SQL text (a ``LIMIT``, the moderator shape of a visibility rule)
    belong in the caller's cache key: make one ``PrecompiledValues`` per combination.

    Raises ``ImproperlyConfigured`` on first use when a parameter does not reach the SQL as a
    parameter (it would be silently ignored otherwise)."""

    def __init__(self, build: Callable[..., QuerySet], **parameters: type) -> None:
        self._build = build
        self._parameters = parameters
        self._by_alias: dict[str, _Compiled] = {}

    def _compile(self, alias: str) -> _Compiled:
        markers = {name: _marker(kind, index) for index, (name, kind) in enumerate(self._parameters.items())}
        queryset = self._build(**markers)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots = {}
        for name, marker in markers.items():
            positions = tuple(i for i, value in enumerate(params) if type(value) is type(marker) and value == marker)
            if not positions:
                raise ImproperlyConfigured(f"precompiled parameter {name!r} does not reach the SQL as a parameter")
            slots[name] = positions
        query = queryset.query
        names = (
            list(query.selected)
            if query.selected
            else [
                *query.extra_select,
                *query.values_select,
                *query.annotation_select,
            ]
        )
        compiled = _Compiled(
            sql=sql,
            params=tuple(params),
            slots=slots,
            compiler=compiler,
            names=tuple(names),
            fetch_mode=queryset._fetch_mode,
        )
        self._by_alias[alias] = compiled
        return compiled

    def _fetch(self, using: str, values: dict) -> tuple[_Compiled, list] | None:
        """``(compiled, fetched rows)``, or ``None`` on a backend other than PostgreSQL."""
        if set(values) != set(self._parameters):
            raise TypeError(f"expected the parameters {sorted(self._parameters)}, got {sorted(values)}")
        connection = connections[using]
        if connection.vendor != "postgresql":
            return None
        compiled = self._by_alias.get(using) or self._compile(using)
        params = list(compiled.params)
        for name, positions in compiled.slots.items():
            for position in positions:
                params[position] = values[name]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            return compiled, cursor.fetchall()

    def rows(self, *, using: str = "default", **values) -> list[dict]:
        """The rows for ``values`` (every parameter by name), as ``values()`` dicts, in one
        statement. On a backend other than PostgreSQL: ``list(build(**values))``."""
        found = self._fetch(using, values)
        if found is None:
            return list(self._build(**values))
        compiled, fetched = found
        names = compiled.names
        return [dict(zip(names, row, strict=True)) for row in compiled.compiler.results_iter(results=[fetched])]


class PrecompiledModels(PrecompiledValues):
    """Like ``PrecompiledValues`` for a queryset of model instances (``select_related``,
    ``only()`` and ``annotate()`` included): rows become instances the way Django's own
    ``ModelIterable`` makes them (``Model.from_db``, the related populators, annotations set
    as attributes), with the fetch mode given per call. Relies on two helpers of
    ``django.db.models.query`` (``_get_from_db``, ``get_related_populators``) that the pinned
    Django provides; the tests compare every use with the plain queryset, so an upgrade that
    changes them fails there first."""

    def rows(self, *, using: str = "default", fetch_mode=None, **values) -> list:
        """The instances for ``values``, in one statement. ``fetch_mode``: Django's fetch mode
        for the instances (default: the queryset's own)."""
        found = self._fetch(using, values)
        if found is None:
            queryset = self._build(**values)
            return list(queryset if fetch_mode is None else queryset.fetch_mode(fetch_mode))
        from django.db.models.query import _get_from_db, get_related_populators

        compiled, fetched = found
        compiler = compiled.compiler
        fetch_mode = fetch_mode or compiled.fetch_mode
        select, klass_info, annotation_col_map = compiler.select, compiler.klass_info, compiler.annotation_col_map
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        init_list = [column[0].target.attname for column in select[start:end]]
        from_db = _get_from_db(klass_info["model"], fetch_mode)
        populators = get_related_populators(klass_info, select, using, fetch_mode)
        instances, peers = [], []
        for row in compiler.results_iter(results=[fetched]):
            instance = from_db(using, init_list, row[start:end])
            if fetch_mode.track_peers:
                peers.append(weak_ref(instance))
                instance._state.peers = peers
            for populator in populators:
                populator.populate(row, instance)
            for name, position in (annotation_col_map or {}).items():
                setattr(instance, name, row[position])
            instances.append(instance)
        return instances
