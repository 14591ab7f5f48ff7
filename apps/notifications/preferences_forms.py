"""The notification settings form (``/accounts/settings/notifications/``, issue 12)."""

from django import forms

from .models import NotificationDelivery, NotificationKind

# The page groups the kinds by where they happen.
FORUM_KINDS = (NotificationKind.REPLY, NotificationKind.MENTION)
IDENTIFICATION_KINDS = tuple(kind for kind in NotificationKind if kind not in FORUM_KINDS)


class NotificationPreferencesForm(forms.Form):
    """One radio group per ``NotificationKind`` (field name: the kind's value, ``"reply"``), each
    offering the ``NotificationDelivery`` choices. Every kind is required: a post that leaves
    one out, or names an unknown choice, is refused whole."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
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
