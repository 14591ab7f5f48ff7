"""Care task endpoints (issue 14): POST-only writes shared by the care cards page and the
dashboard's ``care-due`` panel.

Contract (both callers rely on it):

- ``POST /plants/care/tasks/<id>/done/`` (``done_on`` optional, ``YYYY-MM-DD``),
  ``POST /plants/care/tasks/<id>/snooze/`` (``days``: 1, 3 or 7) and
  ``POST /plants/care/tasks/<id>/edit/`` (``interval_days``, ``is_enabled``).
- Another gardener's task, or none: 404. Not signed in: the login redirect.
- htmx, success: ``204 No Content`` with ``HX-Trigger: careTaskDone`` whose detail is
  ``{"task": id, "message": "..."}``; every region showing tasks listens and refreshes itself,
  and the message goes to the polite live region.
- htmx, invalid input: ``400`` with a one-paragraph error fragment (``role="alert"``) for the
  form's ``hx-target``; nothing changes.
- Without JavaScript: a flash message and ``303`` to ``next`` when it is a local URL, else to
  the care cards page.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from . import schedule, services, wording
from .forms import CareTaskDoneForm, CareTaskEditForm, CareTaskSnoozeForm
from .models import CareTask

EVENT = "careTaskDone"


def _own_task(request: HttpRequest, pk: int) -> CareTask:
    return get_object_or_404(
        CareTask.objects.select_related("care_card__species").only(
            "id",
            "owner_id",
            "kind",
            "interval_days",
            "next_due_on",
            "care_card__nickname",
            "care_card__species__primary_common_name",
            "care_card__species__scientific_name",
        ),
        pk=pk,
        owner=request.user,
    )


def _plant_name(task: CareTask) -> str:
    card = task.care_card
    return card.nickname or card.species.primary_common_name or card.species.scientific_name


def _first_error(form) -> str:
    return next(iter(form.errors.values()))[0]


def _answer(request: HttpRequest, *, task: CareTask, message: str | None, error: str | None) -> HttpResponse:
    if request.htmx:
        if error:
            return HttpResponse(format_html('<p class="form-error" role="alert">{}</p>', error), status=400)
        return trigger_client_event(HttpResponse(status=204), EVENT, {"task": task.pk, "message": message})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, message)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        target = "plants:care-card-list"
    return redirect(target)


def _next_due(request: HttpRequest, task: CareTask) -> str:
    return wording.day_words(task.next_due_on, today=schedule.local_today(request.user.time_zone))


@login_required
@require_POST
def care_task_done(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one of the gardener's tasks done today or on ``done_on``."""
    task = _own_task(request, pk)
    form = CareTaskDoneForm(request.POST)
    if not form.is_valid():
        return _answer(request, task=task, message=None, error=_first_error(form))
    try:
        saved = services.care_task_done(task=task, owner=request.user, done_on=form.cleaned_data["done_on"])
    except ValidationError as error:
        return _answer(request, task=task, message=None, error=error.messages[0])
    message = f"{task.get_kind_display()} {_plant_name(task)}: done. Next due {_next_due(request, saved)}."
    return _answer(request, task=task, message=message, error=None)


@login_required
@require_POST
def care_task_snooze(request: HttpRequest, pk: int) -> HttpResponse:
    """Put one of the gardener's tasks off by 1, 3 or 7 days."""
    task = _own_task(request, pk)
    form = CareTaskSnoozeForm(request.POST)
    if not form.is_valid():
        return _answer(request, task=task, message=None, error=_first_error(form))
    try:
        saved = services.care_task_snooze(task=task, owner=request.user, days=form.cleaned_data["days"])
    except ValidationError as error:
        return _answer(request, task=task, message=None, error=error.messages[0])
    message = f"{task.get_kind_display()} {_plant_name(task)}: snoozed until {_next_due(request, saved)}."
    return _answer(request, task=task, message=message, error=None)


@login_required
@require_POST
def care_task_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change one of the gardener's tasks' interval and whether it is switched on."""
    task = _own_task(request, pk)
    form = CareTaskEditForm(request.POST)
    if not form.is_valid():
        return _answer(request, task=task, message=None, error=_first_error(form))
    saved = services.care_task_update(task=task, owner=request.user, **form.cleaned_data)
    every = wording.every_words(saved.interval_days)
    state = f"{every}, next {_next_due(request, saved)}" if saved.is_enabled else "switched off"
    message = f"{task.get_kind_display()} {_plant_name(task)}: {state}."
    return _answer(request, task=task, message=message, error=None)
