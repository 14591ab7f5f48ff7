"""Forms of the care task endpoints (issue 14)."""

from django import forms

from .models import MAX_INTERVAL_DAYS, SNOOZE_DAYS


class CareTaskDoneForm(forms.Form):
    """ "Done": today when ``done_on`` is left empty, else that local date (the service refuses
    future dates and dates over a year back)."""

    done_on = forms.DateField(required=False, label="Done on", widget=forms.DateInput(attrs={"type": "date"}))


class CareTaskSnoozeForm(forms.Form):
    """ "Snooze" by 1, 3 or 7 days."""

    days = forms.TypedChoiceField(choices=[(d, f"{d} day{'s' if d > 1 else ''}") for d in SNOOZE_DAYS], coerce=int)


class CareTaskEditForm(forms.Form):
    """A task's interval (days) and whether it is switched on."""

    interval_days = forms.IntegerField(min_value=1, max_value=MAX_INTERVAL_DAYS, label="Every (days)")
    is_enabled = forms.BooleanField(required=False, label="Remind me")
