"""Query helpers shared by selectors."""

from django.db import models


class SubqueryCount(models.Subquery):
    """``(SELECT COUNT(*) FROM (<queryset>))`` as a scalar expression.

    Lets a selector put several counts into one statement (``annotate``/``aggregate`` on an
    outer query) instead of one ``COUNT`` query each. ``queryset`` may use ``OuterRef``.
    """

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _count)"
    output_field = models.IntegerField()

    def __init__(self, queryset, **extra):
        super().__init__(queryset.values("pk").order_by(), **extra)
