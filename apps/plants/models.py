"""Plant species catalog, identification requests with their suggestions, and care cards."""

import re

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from apps.core.models import PortalManager
from apps.core.uploads import RandomName


class PlantSpecies(models.Model):
    """One species of the catalog with general care facts and the sources they come from."""

    class Light(models.TextChoices):
        LOW = "low", "Low light"
        MEDIUM = "medium", "Medium light"
        BRIGHT_INDIRECT = "bright_indirect", "Bright, indirect light"
        PARTIAL_SHADE = "partial_shade", "Partial shade"
        FULL_SUN = "full_sun", "Full sun"

    class Humidity(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"

    class Difficulty(models.TextChoices):
        EASY = "easy", "Easy"
        MODERATE = "moderate", "Moderate"
        CHALLENGING = "challenging", "Challenging"

    class Category(models.TextChoices):
        HOUSEPLANT = "houseplant", "Houseplant"
        GARDEN = "garden", "Garden plant"

    scientific_name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=140, unique=True)
    common_names = models.JSONField(default=list, help_text="Most common first.")
    primary_common_name = models.CharField(max_length=120, blank=True, db_index=True)
    family = models.CharField(max_length=80)
    category = models.CharField(max_length=12, choices=Category.choices)
    summary = models.TextField(blank=True)
    light = models.CharField(max_length=16, choices=Light.choices)
    watering = models.TextField()
    watering_interval_days = models.PositiveSmallIntegerField()
    humidity = models.CharField(max_length=8, choices=Humidity.choices)
    temperature_min_c = models.SmallIntegerField()
    temperature_max_c = models.SmallIntegerField()
    soil = models.CharField(max_length=200)
    toxic_to_cats = models.BooleanField()
    toxic_to_dogs = models.BooleanField()
    toxic_to_people = models.BooleanField()
    toxicity_notes = models.TextField(blank=True)
    hardiness_zone_min = models.PositiveSmallIntegerField()
    hardiness_zone_max = models.PositiveSmallIntegerField()
    difficulty = models.CharField(max_length=12, choices=Difficulty.choices)
    references = models.JSONField(default=list, help_text="[{publisher, title, url}, ...]")

    objects = PortalManager()

    class Meta:
        ordering = ["primary_common_name"]
        verbose_name_plural = "plant species"

    def __str__(self):
        return f"{self.primary_common_name} ({self.scientific_name})"

    def get_absolute_url(self):
        return reverse("plants:species-detail", kwargs={"slug": self.slug})

    @property
    def display_name(self) -> str:
        return self.primary_common_name or self.scientific_name

    @property
    def hardiness_zones(self) -> str:
        if self.hardiness_zone_min == self.hardiness_zone_max:
            return str(self.hardiness_zone_min)
        return f"{self.hardiness_zone_min}-{self.hardiness_zone_max}"


class IdentificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSING = "processing", "Processing"
    IDENTIFIED = "identified", "Identified"
    NEEDS_HELP = "needs_help", "Needs community help"
    # Issue 12: a failed machine run is not a failed request; the community can still name it.
    FAILED = "failed", "Machine suggestions unavailable"


class PlantIdentificationRequest(models.Model):
    """A gardener's request to identify a plant from one to three photos."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="identification_requests"
    )
    notes = models.TextField(blank=True, max_length=2000)
    thumbnail = models.ImageField(upload_to=RandomName("identification/thumbs"), blank=True)
    latitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    longitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    location_is_exact = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=IdentificationStatus.choices, default=IdentificationStatus.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    identified_at = models.DateTimeField(null=True, blank=True)
    accepted_suggestion = models.ForeignKey(
        "IdentificationSuggestion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    species = models.ForeignKey(
        PlantSpecies, null=True, blank=True, on_delete=models.SET_NULL, related_name="identifications"
    )
    # The machine run's deadline starts here (``IDENTIFICATION_PROCESSING_DEADLINE_SECONDS``);
    # ``identification_requeue`` puts a run past it back in the queue, at most
    # ``IDENTIFICATION_MACHINE_MAX_ATTEMPTS`` times in all.
    processing_started_at = models.DateTimeField(null=True, blank=True)
    machine_attempts = models.PositiveSmallIntegerField(default=0, help_text="Machine runs started.")
    # Issue 12: the owner's consent to show this request's photo among the species page's
    # community photos once it is identified (never its location).
    show_on_species_pages = models.BooleanField(default=True, db_default=True)

    objects = PortalManager()

    class Meta:
        indexes = [
            # Previous searches, newest first, keyset-paginated on (created_at, id); also bounds
            # "searches this week" and the 12-week sparkline to an index range.
            models.Index(fields=["owner", "-created_at", "-id"], name="plants_request_owner_recent"),
            # A species page's community photos: identified requests of the species whose owner
            # allows it, newest identification first (issue 12).
            models.Index(
                fields=["species", "-identified_at", "-id"],
                condition=models.Q(status="identified", show_on_species_pages=True),
                name="plants_request_species_photos",
            ),
            # The public home's recently identified plants, across species (issue 15).
            models.Index(
                fields=["-identified_at", "-id"],
                condition=models.Q(status="identified", show_on_species_pages=True),
                name="plants_request_identified",
            ),
            # Help identify: requests waiting for a name, newest first, keyset on (created_at, id).
            models.Index(
                fields=["-created_at", "-id"],
                condition=models.Q(status__in=["needs_help", "failed"]),
                name="plants_request_needing_help",
            ),
        ]

    def __str__(self):
        return f"Identification request #{self.pk}"

    def get_absolute_url(self):
        return reverse("plants:request-detail", kwargs={"pk": self.pk})

    @property
    def accepted_name(self) -> str:
        """The owner's (or the machine's) accepted name: the catalog species' display name, or
        the accepted suggestion's free text (loaded by the selector as ``accepted_free_text``)."""
        if self.status != IdentificationStatus.IDENTIFIED:
            return ""
        if self.species_id is not None:
            return self.species.display_name
        return getattr(self, "accepted_free_text", None) or ""

    @property
    def title(self) -> str:
        """The request's title on every page (``identification_request_title``): the accepted
        name, else "Maybe <top suggestion>?" when a selector loaded ``top_suggestion_name``."""
        return identification_request_title(
            pk=self.pk, accepted_name=self.accepted_name, top_name=getattr(self, "top_suggestion_name", None) or ""
        )


# A name's own hedging: a leading "maybe" / "perhaps" / "possibly" with whatever separates it
# ("Maybe, a fern"), and trailing question marks.
_HEDGE_PREFIX = re.compile(r"^(?:maybe|perhaps|possibly)\b[\s,.;:!?-]*", re.IGNORECASE)


def name_without_hedging(name: str) -> str:
    """``name`` with whitespace collapsed and its own hedging removed, repeatedly: "Maybe, maybe
    a fern??" -> "a fern"; "Maybe" -> "". Pure."""
    name = " ".join(name.split())
    while True:
        trimmed = _HEDGE_PREFIX.sub("", name).rstrip("?").strip()
        if trimmed == name:
            return name
        name = trimmed


def identification_request_title(*, pk: int, accepted_name: str = "", top_name: str = "") -> str:
    """The one title of an identification request (issue 12): the accepted name ("Meadow
    sage"); else, with a top suggestion, "Maybe <name>?"; else "Identification request #<pk>".
    Either name loses its own hedging first (``name_without_hedging``), so a title never reads
    "Maybe Maybe a Peperomia??" or "maybe meadow sage"; a name that is nothing but hedging
    ("Maybe?") counts as none."""
    if accepted := name_without_hedging(accepted_name):
        return accepted[:1].upper() + accepted[1:]
    if name := name_without_hedging(top_name):
        return f"Maybe {name}?"
    return f"Identification request #{pk}"


class PlantPhoto(models.Model):
    """One stored photo of an identification request (EXIF stripped, at most 1600 px)."""

    request = models.ForeignKey(PlantIdentificationRequest, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to=RandomName("identification/photos"))
    position = models.PositiveSmallIntegerField(default=0)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)

    objects = PortalManager()

    class Meta:
        ordering = ["request", "position"]
        constraints = [
            models.UniqueConstraint(fields=["request", "position"], name="plants_photo_request_position_uniq")
        ]


class SuggestionSource(models.TextChoices):
    PLANT_ID = "plant_id", "Plant.id"
    PLANTNET = "plantnet", "Pl@ntNet"
    COMMUNITY = "community", "Community"


class IdentificationSuggestion(models.Model):
    """A proposed name for a request, from a machine source or a gardener."""

    request = models.ForeignKey(PlantIdentificationRequest, on_delete=models.CASCADE, related_name="suggestions")
    species = models.ForeignKey(
        PlantSpecies, null=True, blank=True, on_delete=models.SET_NULL, related_name="suggestions"
    )
    free_text_name = models.CharField(max_length=120, blank=True)
    probability = models.FloatField(null=True, blank=True, help_text="0..1, machine sources only.")
    source = models.CharField(max_length=10, choices=SuggestionSource.choices)
    suggested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="suggestions"
    )
    vote_count = models.PositiveIntegerField(default=0, help_text="Gardeners who agree.")
    disagree_count = models.PositiveIntegerField(default=0, help_text="Gardeners who disagree.")
    created_at = models.DateTimeField(default=timezone.now)

    objects = PortalManager()

    class Meta:
        indexes = [
            # The "top suggestion" of a request: most votes, then highest probability.
            models.Index(fields=["request", "-vote_count", "-probability"], name="plants_sugg_request_top"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(probability__isnull=True) | models.Q(probability__gte=0, probability__lte=1),
                name="plants_sugg_probability_0_1",
            ),
            models.CheckConstraint(
                condition=models.Q(species__isnull=False) | ~models.Q(free_text_name=""),
                name="plants_sugg_has_name",
            ),
        ]

    def __str__(self):
        return self.free_text_name or f"species #{self.species_id}"


class SuggestionVote(models.Model):
    """A gardener agreeing (or not) with a suggestion; one vote per gardener and suggestion, and
    at most one agreeing vote per gardener and request: the gardener's current name (SPEC
    "Domain", "Identification opinions"; ``apps.plants.consensus``)."""

    suggestion = models.ForeignKey(IdentificationSuggestion, on_delete=models.CASCADE, related_name="votes")
    # The suggestion's request, copied so the database can hold "one current name per gardener
    # and request" as a constraint and the consensus counts read one index range.
    request = models.ForeignKey(PlantIdentificationRequest, on_delete=models.CASCADE, related_name="+")
    # PROTECT: a cascade would drop votes without moving ``vote_count`` / ``disagree_count``; votes
    # go through ``services`` (or ``personal_data.erase``), which keep the counters.
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="suggestion_votes")
    agrees = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = PortalManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["suggestion", "voter"], name="plants_vote_one_per_voter"),
            models.UniqueConstraint(
                fields=["request", "voter"], condition=models.Q(agrees=True), name="plants_vote_one_name_per_voter"
            ),
        ]
        indexes = [models.Index(fields=["request", "agrees"], name="plants_vote_request_agrees")]


class CareCardStatus(models.TextChoices):
    PLANNING = "planning", "Planning"
    NEWLY_ACQUIRED = "newly_acquired", "Newly acquired"
    THRIVING = "thriving", "Thriving"
    STRUGGLING = "struggling", "Struggling"
    RECOVERED = "recovered", "Recovered"
    LOST = "lost", "Lost"


class SavedCareInstructions(models.Model):
    """A care card: a gardener's own plant of a species, with a nickname, notes and status."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="care_cards")
    species = models.ForeignKey(PlantSpecies, on_delete=models.CASCADE, related_name="care_cards")
    nickname = models.CharField(max_length=80, blank=True)
    personal_notes = models.TextField(blank=True, max_length=4000)
    status = models.CharField(max_length=16, choices=CareCardStatus.choices, default=CareCardStatus.PLANNING)
    is_favourite = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = PortalManager()

    class Meta:
        verbose_name = "care card"
        indexes = [
            models.Index(fields=["owner", "-updated_at", "-id"], name="plants_carecard_owner_recent"),
        ]
        constraints = [models.UniqueConstraint(fields=["owner", "species"], name="plants_carecard_one_per_species")]

    def __str__(self):
        return self.nickname or f"care card #{self.pk}"


# Care tasks (issue 14) live in their own module; importing them here registers them with the
# ``plants`` app.
from .care.models import (  # noqa: E402, F401
    CareCalendarFeed,
    CareReminderSent,
    CareTask,
    CareTaskDone,
    CareTaskKind,
)
