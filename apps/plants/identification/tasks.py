"""The background task that runs machine identification, and the helper that enqueues it.

Production runs ``django.tasks`` on django-tasks-db's ``DatabaseBackend``: the task is a row
in the database, and ``manage.py db_worker`` on any machine that reaches the database runs it.
The test settings use Django's ``ImmediateBackend``, which runs it at enqueue time.
"""

import logging
from functools import partial

from django.db import transaction
from django.tasks import task

from .service import machine_identification_run

logger = logging.getLogger(__name__)


@task
def identify_plant(request_id: int) -> str:
    """Run ``machine_identification_run`` for ``request_id`` (a ``PlantIdentificationRequest``
    primary key) and return its final status. Safe to deliver twice: a second run finds the
    request no longer ``pending`` and calls no provider."""
    return machine_identification_run(request_id=request_id)


def _enqueue(request_id: int) -> None:
    identify_plant.enqueue(request_id)


def identification_enqueue(*, request_id: int) -> None:
    """Queue ``identify_plant`` for ``request_id`` once the current transaction commits (at
    once outside one), so the worker never looks for a request that is not committed yet.

    A failure to enqueue is logged, not raised into the view that saved the request
    (``robust=True``): the request stays ``pending`` and a later enqueue can pick it up.
    """
    transaction.on_commit(partial(_enqueue, request_id), robust=True)
