"""Forms of the plant pages: asking for an identification, suggesting a name, care cards."""

from decimal import Decimal

from django import forms
from django.db.models import Q

from apps.core.text import refuse_direction_controls
from apps.core.uploads import (
    PHOTO_MAX_PX,
    THUMBNAIL_PX,
    ImageRejected,
    ProcessedImage,
    image_process,
    upload_size_check,
)

from .models import CareCardStatus, PlantSpecies, SavedCareInstructions

MAX_PHOTOS = 3


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """A file field that takes one to ``MAX_PHOTOS`` files under the same name (``image``)."""

    widget = MultipleImageInput
    default_error_messages = {"required": "Choose at least one photo of the plant."}

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        if not files:
            raise forms.ValidationError("Choose at least one photo of the plant.", code="required")
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(f"Choose at most {MAX_PHOTOS} photos.", code="too_many")
        return [super(MultipleImageField, self).clean(item, initial) for item in files]


class IdentificationRequestForm(forms.Form):
    """SPEC ``/plants/identify/``: ``image`` (one to three files), ``notes``, an optional
    location.

    Two steps, so the expensive one runs last (issue 11): ``is_valid()`` checks every field
    and the number and size of the files without decoding anything; the view then counts the
    hourly limit and calls ``photos_process()``, which decodes the photos one at a time with
    ``apps.core.uploads.image_process`` (so a file's name or declared type never decides) and
    fills ``cleaned_data["photos"]``."""

    image = MultipleImageField(
        label="Photos of the plant",
        help_text=(
            "One to three JPEG, PNG or WebP photos, up to 10 MB each: "
            "a whole-plant shot and a close-up of a leaf or flower work best."
        ),
        widget=MultipleImageInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    notes = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Where did you find it? How big is it? Anything that helps others identify it.",
    )
    latitude = forms.DecimalField(
        required=False, min_value=Decimal("-90"), max_value=Decimal("90"), decimal_places=6, max_digits=9
    )
    longitude = forms.DecimalField(
        required=False, min_value=Decimal("-180"), max_value=Decimal("180"), decimal_places=6, max_digits=10
    )
    exact_location = forms.BooleanField(
        required=False,
        label="Store my exact location",
        help_text="Off: the location is stored rounded to about 20 km (0.2°). Only you ever see the exact place.",
    )

    show_on_species_pages = forms.BooleanField(
        required=False,
        initial=True,
        label="Show my photo on the species page",
        help_text="Once identified, your photo may appear among the species page's community photos, "
        "with your username and never the location. You can change this on the request page.",
    )

    def clean_image(self):
        for upload in self.cleaned_data["image"]:
            try:
                upload_size_check(upload)
            except ImageRejected as rejected:
                raise forms.ValidationError(f"“{upload.name}”: {rejected}") from None
        return self.cleaned_data["image"]

    def photos_process(self) -> bool:
        """Decode the valid form's photos one at a time (each dropped before the next) into
        ``cleaned_data["photos"]`` (``ProcessedImage``s of at most 1600 px) and
        ``cleaned_data["thumbnail"]`` (the first photo at 300 px), metadata-free JPEGs.
        Returns False, with the reason as an error on ``image``, when a file is not an image
        we accept."""
        photos: list[ProcessedImage] = []
        for position, upload in enumerate(self.cleaned_data["image"]):
            sizes = [PHOTO_MAX_PX, THUMBNAIL_PX] if position == 0 else [PHOTO_MAX_PX]
            try:
                photo, *thumbnail = image_process(upload, sizes=sizes)
            except ImageRejected as rejected:
                self.add_error("image", f"“{upload.name}”: {rejected}")
                return False
            photos.append(photo)
            if thumbnail:
                self.cleaned_data["thumbnail"] = thumbnail[0]
        self.cleaned_data["photos"] = photos
        return True

    def clean(self):
        cleaned = super().clean()
        latitude, longitude = cleaned.get("latitude"), cleaned.get("longitude")
        if (latitude is None) != (longitude is None) and not self.errors:
            raise forms.ValidationError("Give both latitude and longitude, or neither.")
        return cleaned


class SuggestionForm(forms.Form):
    """A community suggestion: a catalog species (by scientific name, from the autocomplete)
    or a free-text name."""

    name = forms.CharField(
        label="Your suggestion",
        max_length=120,
        help_text="Start typing a common or scientific name; pick from the catalog or write your own.",
        widget=forms.TextInput(attrs={"list": "species-options", "autocomplete": "off"}),
        validators=[refuse_direction_controls],
    )

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if len(name) < 2:
            raise forms.ValidationError("Write at least two letters.")
        self.cleaned_data["species"] = (
            PlantSpecies.objects.filter(Q(scientific_name__iexact=name) | Q(primary_common_name__iexact=name))
            .only("id", "scientific_name", "primary_common_name")
            .order_by("id")
            .first()
        )
        return name


class CareCardForm(forms.ModelForm):
    """Inline edit of one care card: nickname, notes, status, favourite."""

    class Meta:
        model = SavedCareInstructions
        fields = ["nickname", "personal_notes", "status", "is_favourite"]
        labels = {"personal_notes": "Notes", "is_favourite": "Favourite"}
        widgets = {"personal_notes": forms.Textarea(attrs={"rows": 2})}

    status = forms.ChoiceField(choices=CareCardStatus.choices)

    def clean_nickname(self):
        nickname = self.cleaned_data["nickname"]
        refuse_direction_controls(nickname)
        return nickname


class HelpFilterForm(forms.Form):
    """The GET filters of Help identify (issue 12): which suggestions a request has, a plant
    family, and "near me". ``families`` are the catalog's (``selectors.help_families``)."""

    suggestions = forms.ChoiceField(
        required=False,
        label="Suggestions",
        choices=[
            ("", "Any"),
            ("unsuggested", "No suggestions yet"),
            ("second_opinion", "Needs a second opinion"),
        ],
    )
    family = forms.ChoiceField(required=False, label="Plant family")
    near = forms.BooleanField(required=False, label="Near me (within 100 km)")

    def __init__(self, *args, families: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["family"].choices = [("", "Any family"), *((name, name) for name in families)]
