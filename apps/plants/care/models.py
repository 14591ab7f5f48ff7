"""Care task models (issue 14). Registered with the ``plants`` app: ``apps.plants.models``
imports them, so their app label is ``plants``.

Due dates are calendar dates in the gardener's time zone (``accounts.User.time_zone``), not
instants: "water every 7 days" moves by whole local days whatever DST does, and "due today" is
``next_due_on <= the gardener's local date`` (``schedule.local_today``)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.models import PortalManager

MAX_INTERVAL_DAYS = 730
SNOOZE_DAYS = (1, 3, 7)


class CareTaskKind(models.TextChoices):
    """The task kinds of SPEC "Domain: Care tasks", in the order a card lists them."""

    WATER = "water", "Water"
    FERTILIZE = "fertilize", "Fertilize"
    MIST = "mist", "Mist"
    REPOT = "repot", "Repot"
    PRUNE = "prune", "Prune"


class CareTask(models.Model):
    """One recurring task of a care card: its kind, every how many days, and the next local
    date it is due. ``owner`` repeats the card's owner so the due-today panel reads one index,
    ``(owner, next_due_on)`` over enabled tasks, without a join (SPEC budget: ``care-due`` at
    most 2 statements)."""

    care_card = models.ForeignKey("plants.SavedCareInstructions", on_delete=models.CASCADE, related_name="care_tasks")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="care_tasks")
    kind = models.CharField(max_length=10, choices=CareTaskKind.choices)
    interval_days = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_INTERVAL_DAYS)], help_text="Every how many days."
    )
    growing_season_only = models.BooleanField(
        default=False, help_text="Only due in the growing season of the gardener's hemisphere (fertilizing)."
    )
    is_enabled = models.BooleanField(default=True)
    next_due_on = models.DateField(help_text="The gardener's local date.")
    last_done_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = PortalManager()

    class Meta:
        verbose_name = "care task"
        ordering = ["next_due_on", "id"]
        indexes = [
            models.Index(
                fields=["owner", "next_due_on", "id"], condition=Q(is_enabled=True), name="plants_caretask_owner_due"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["care_card", "kind"], name="plants_caretask_one_per_kind"),
            models.CheckConstraint(
                condition=Q(interval_days__gte=1, interval_days__lte=MAX_INTERVAL_DAYS),
                name="plants_caretask_interval_range",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} every {self.interval_days} days"


class CareTaskDone(models.Model):
    """A task marked done on a local date (the care card's history; the card shows the last
    10 of each kind)."""

    task = models.ForeignKey(CareTask, on_delete=models.CASCADE, related_name="done_history")
    done_on = models.DateField(help_text="The gardener's local date.")
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = PortalManager()

    class Meta:
        verbose_name = "care task done"
        indexes = [models.Index(fields=["task", "-done_on", "-id"], name="plants_caretaskdone_recent")]
        constraints = [
            # Done twice on one day (a double click, two tabs) is one entry.
            models.UniqueConstraint(fields=["task", "done_on"], name="plants_caretaskdone_once_a_day"),
        ]


class CareCalendarFeed(models.Model):
    """A gardener's secret calendar link (``/plants/care/calendar/<token>.ics``). Resetting the
    link replaces ``token``; the old one then answers 404."""

    owner = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="care_calendar_feed")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = PortalManager()

    class Meta:
        verbose_name = "care calendar feed"


class CareReminderSent(models.Model):
    """The idempotence key of the daily care reminder: one row, hence one email, per gardener
    and local date (the unique constraint settles two runs at once)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    local_date = models.DateField()
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = PortalManager()

    class Meta:
        verbose_name = "care reminder sent"
        constraints = [
            models.UniqueConstraint(fields=["user", "local_date"], name="plants_carereminder_user_date_uniq"),
        ]
