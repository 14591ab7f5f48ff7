"""The care tasks a new care card starts with (issue 14), editable per card afterwards.

Watering comes from the species' care facts: the catalog's ``watering_interval_days`` scaled by
the species' light and humidity (a plant in full sun dries out sooner; one from a humid habitat
wants its soil kept moister), rounded and kept within 1..60 days.

The catalog has no data for fertilizing, misting, repotting and pruning; those use the generic
table ``GENERIC_TASKS`` by plant category (houseplant or garden plant) and the species' humidity,
from common houseplant and garden care guidance (e.g. RHS "Houseplants: care", Missouri
Botanical Garden plant finder). ``None`` in the table means the task starts switched off (a
succulent is not misted, a garden plant not repotted); the gardener can switch it on with the
fallback interval. Fertilizing is due only in the growing season."""

from dataclasses import dataclass

from ..models import PlantSpecies
from .models import CareTaskKind

LIGHT_FACTOR = {
    PlantSpecies.Light.FULL_SUN: 0.85,
    PlantSpecies.Light.PARTIAL_SHADE: 1.0,
    PlantSpecies.Light.BRIGHT_INDIRECT: 1.0,
    PlantSpecies.Light.MEDIUM: 1.15,
    PlantSpecies.Light.LOW: 1.3,
}
HUMIDITY_FACTOR = {
    PlantSpecies.Humidity.HIGH: 0.85,
    PlantSpecies.Humidity.MEDIUM: 1.0,
    PlantSpecies.Humidity.LOW: 1.2,
}
WATERING_DAYS_RANGE = (1, 60)

H, G = PlantSpecies.Category.HOUSEPLANT, PlantSpecies.Category.GARDEN
LOW, MEDIUM, HIGH = PlantSpecies.Humidity.LOW, PlantSpecies.Humidity.MEDIUM, PlantSpecies.Humidity.HIGH
# (category, humidity) -> {kind: interval in days, or None: starts switched off}
GENERIC_TASKS: dict[tuple[str, str], dict[str, int | None]] = {
    (H, LOW): {"fertilize": 30, "mist": None, "repot": 730, "prune": 365},
    (H, MEDIUM): {"fertilize": 30, "mist": 7, "repot": 365, "prune": 180},
    (H, HIGH): {"fertilize": 14, "mist": 2, "repot": 365, "prune": 180},
    (G, LOW): {"fertilize": 60, "mist": None, "repot": None, "prune": 180},
    (G, MEDIUM): {"fertilize": 30, "mist": None, "repot": None, "prune": 90},
    (G, HIGH): {"fertilize": 30, "mist": None, "repot": None, "prune": 90},
}
# The interval a task switched off by the table gets when the gardener switches it on.
FALLBACK_DAYS = {"fertilize": 30, "mist": 7, "repot": 365, "prune": 180}
# The species fields the defaults read.
SPECIES_FIELDS = ("category", "humidity", "light", "watering_interval_days")
SEASONAL_KINDS = frozenset({CareTaskKind.FERTILIZE})


@dataclass(frozen=True)
class TaskDefault:
    """A task a new card starts with: kind (a ``CareTaskKind`` value), interval in days,
    whether it starts switched on, whether it is due only in the growing season."""

    kind: str
    interval_days: int
    is_enabled: bool
    growing_season_only: bool


def watering_interval_days(species: PlantSpecies) -> int:
    """Days between waterings for ``species`` (see the module docstring for the rule)."""
    days = species.watering_interval_days * LIGHT_FACTOR.get(species.light, 1.0)
    days *= HUMIDITY_FACTOR.get(species.humidity, 1.0)
    low, high = WATERING_DAYS_RANGE
    return max(low, min(high, round(days)))


def task_defaults(species: PlantSpecies) -> list[TaskDefault]:
    """The five tasks (every ``CareTaskKind``, in its order) a new card of ``species`` starts
    with. Reads only the species row (no SQL)."""
    table = GENERIC_TASKS.get((species.category, species.humidity), GENERIC_TASKS[(H, MEDIUM)])
    rows = [TaskDefault(CareTaskKind.WATER, watering_interval_days(species), True, False)]
    for kind in (CareTaskKind.FERTILIZE, CareTaskKind.MIST, CareTaskKind.REPOT, CareTaskKind.PRUNE):
        days = table[kind]
        rows.append(TaskDefault(kind, days or FALLBACK_DAYS[kind], days is not None, kind in SEASONAL_KINDS))
    return rows
