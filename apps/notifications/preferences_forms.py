"""The notification settings form (``/accounts/settings/notifications/``, issues 12 and 14)."""

from django import forms

from .models import NotificationDelivery, NotificationKind

# The page groups the kinds by where they happen.
FORUM_KINDS = (NotificationKind.REPLY, NotificationKind.MENTION)
IDENTIFICATION_KINDS = tuple(kind for kind in NotificationKind if kind not in FORUM_KINDS)

# The daily care reminder (issue 14): off, or the local hour it goes after, shown as "07:00".
CARE_REMINDER_OFF = "off"
CARE_REMINDER_CHOICES = [(CARE_REMINDER_OFF, "Off"), *((str(hour), f"{hour:02d}:00") for hour in range(24))]


class NotificationPreferencesForm(forms.Form):
    """One radio group per ``NotificationKind`` (field name: the kind's value, ``"reply"``), each
    offering the ``NotificationDelivery`` choices, and ``care_reminder_hour`` (``"off"`` or an
    hour ``"0"``..``"23"``; cleaned to ``None`` or an ``int``). Every kind is required: a post
    that leaves one out, or names an unknown choice (for the reminder too), is refused whole.
    A post without ``care_reminder_hour`` keeps the current setting (``initial``), so a page
    rendered before the field existed still saves. ``time_zone`` (the gardener's IANA name) is
    named in the reminder's help text."""

    care_reminder_hour = forms.ChoiceField(
        label="Daily care reminder",
        choices=CARE_REMINDER_CHOICES,
        required=False,
        error_messages={"invalid_choice": "Choose Off or an hour of the day."},
    )

    def __init__(self, *args, time_zone: str = "UTC", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["care_reminder_hour"].help_text = (
            "One email on days when care tasks are due or overdue, sent after this hour in your time zone "
            f"({time_zone})."
        )
        for kind in NotificationKind:
            self.fields[kind.value] = forms.ChoiceField(
                label=kind.label,
                choices=NotificationDelivery.choices,
                widget=forms.RadioSelect,
                error_messages={
                    "required": "Choose how you hear of this.",
                    "invalid_choice": "Choose one of the three options.",
                },
            )

    def groups(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        """``(id, heading, bound fields)`` for the page's two sections, forum first."""
        return [
            ("forum", "Forum", [self[kind.value] for kind in FORUM_KINDS]),
            ("identification", "Plant identification", [self[kind.value] for kind in IDENTIFICATION_KINDS]),
        ]

    def clean_care_reminder_hour(self) -> int | None:
        value = self.cleaned_data.get("care_reminder_hour")
        if value in (None, ""):
            value = self.initial.get("care_reminder_hour", CARE_REMINDER_OFF)
        return None if value == CARE_REMINDER_OFF else int(value)


def care_reminder_initial(hour: int | None) -> str:
    """The form's value for a stored ``User.care_reminder_hour`` (``None``: ``"off"``)."""
    return CARE_REMINDER_OFF if hour is None else str(hour)
