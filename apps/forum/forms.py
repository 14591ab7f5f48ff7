"""Forum forms. Images in posts follow SPEC's upload rules through ``apps.core.uploads``
(decoded by Pillow, 10 MiB, no more than 40 megapixels, no metadata, random names)."""

from django import forms

from apps.core.audit import REASON_MAX_CHARS
from apps.core.text import refuse_direction_controls
from apps.core.uploads import PHOTO_MAX_PX, ImageRejected, image_process, upload_size_check

from .models import Forum, Report
from .services import TOPIC_FLAG_ACTIONS

POST_MAX_CHARS = 20000


class PostImageField(forms.FileField):
    """An optional photo: validation checks its size only; ``ReplyForm.image_process``
    decodes it once the view has checked permission and counted the write throttle."""

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if not upload:
            return None
        try:
            upload_size_check(upload)
        except ImageRejected:
            raise forms.ValidationError("That image is larger than 10 MB.") from None
        return upload


class ReplyForm(forms.Form):
    source = forms.CharField(
        label="Your reply",
        max_length=POST_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Markdown: **bold**, *italic*, lists, [links](https://example.org). Mention someone with @name.",
    )
    image = PostImageField(label="Photo (optional)", required=False, help_text="JPEG, PNG or WebP up to 10 MB.")

    def __init__(self, *args, image_refusal: str = "", **kwargs):
        """``image_refusal``: why the writer may not attach a photo
        (``permissions.image_refusal``), or ``""``. When set the form has no ``image`` field
        (the page shows the sentence instead of a file input, issue 15) and a file sent anyway
        is refused with that sentence as a form error."""
        super().__init__(*args, **kwargs)
        self.image_refusal = image_refusal
        if image_refusal:
            del self.fields["image"]

    def clean(self):
        cleaned = super().clean()
        if self.image_refusal:
            if self.files.get("image"):
                raise forms.ValidationError(self.image_refusal)
            cleaned["image"] = None  # no field, no photo: the views read ``cleaned_data["image"]``
        return cleaned

    def image_process(self) -> bool:
        """Decode the valid form's photo, if any, and put the stored version (a metadata-free
        JPEG of at most 1600 px, ``ContentFile``) in ``cleaned_data["image"]``. Returns False,
        with the reason as an error on ``image``, when it is not an image we accept. Called by
        the view after the cheap checks and the write throttle (issue 11: nothing is decoded
        for a request that is refused anyway)."""
        upload = self.cleaned_data.get("image")
        if upload is None:
            return True
        try:
            (processed,) = image_process(upload, sizes=[PHOTO_MAX_PX])
        except ImageRejected as rejected:
            self.add_error("image", str(rejected))
            return False
        self.cleaned_data["image"] = processed.content
        return True

    def clean_source(self):
        source = self.cleaned_data["source"].strip()
        if not source:
            raise forms.ValidationError("Write something first.")
        return source


class TopicForm(ReplyForm):
    subject = forms.CharField(label="Subject", max_length=200, min_length=5, validators=[refuse_direction_controls])
    field_order = ["subject", "source", "image"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].label = "Your post"  # the opening post, not a reply

    def clean_subject(self):
        return " ".join(self.cleaned_data["subject"].split())


class EditForm(forms.Form):
    source = forms.CharField(label="Post", max_length=POST_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 8}))

    def clean_source(self):
        source = self.cleaned_data["source"].strip()
        if not source:
            raise forms.ValidationError("Write something first.")
        return source


class ReportForm(forms.Form):
    reason = forms.ChoiceField(choices=Report.Reason.choices)
    detail = forms.CharField(
        required=False, max_length=500, label="Details (optional)", validators=[refuse_direction_controls]
    )


def reason_field(*, required: bool = False, label: str = "Reason (for the moderation log)") -> forms.CharField:
    """A moderator's reason: one line of at most 500 characters (the audit log's limit);
    Django's ``CharField`` refuses NUL characters, surrounding spaces are dropped, and direction
    controls are refused (``apps.core.text``)."""
    return forms.CharField(
        required=required, max_length=REASON_MAX_CHARS, label=label, validators=[refuse_direction_controls]
    )


class ReasonForm(forms.Form):
    """An optional reason, for deletions."""

    reason = reason_field()


class DecisionForm(ReasonForm):
    """A review-queue decision: ``seen`` is the ``models.post_version`` of the text the
    moderator reviewed (a hidden field of the queue's forms), so a decision never applies to
    text the moderator did not see; ``confirm`` answers the confirmation an opening post's
    deletion ("agree" with its reports) asks for."""

    seen = forms.CharField(
        max_length=16,
        min_length=16,
        widget=forms.HiddenInput,
        error_messages={"required": "Reload the review queue and decide again."},
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)


class RejectForm(DecisionForm):
    reason = reason_field(required=True, label="Reason (shown to the author)")


class DeleteForm(ReasonForm):
    """Deleting a post; ``confirm`` is the confirmation step an opening post (which takes its
    topic and replies with it) needs."""

    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)


class TopicToolForm(forms.Form):
    """Lock, unlock, pin or unpin a topic, with an optional reason."""

    action = forms.ChoiceField(choices=[(name, name.capitalize()) for name in TOPIC_FLAG_ACTIONS])
    reason = reason_field()


class MoveForm(forms.Form):
    """Move a topic: the other forums (``current_forum_id`` left out) and an optional reason."""

    forum = forms.ModelChoiceField(queryset=Forum.objects.none(), to_field_name="slug", label="Move to")
    reason = reason_field()

    def __init__(self, *args, current_forum_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["forum"].queryset = Forum.objects.exclude(pk=current_forum_id).order_by("position", "name")
