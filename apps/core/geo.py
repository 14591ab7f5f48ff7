"""Coarse locations: the one rounding rule for every place the portal keeps about a gardener
(where an identification photo was taken, a home location). Knows no domain model."""

from decimal import ROUND_HALF_EVEN, Decimal

COARSE_LOCATION_STEP = Decimal("0.2")


def coarse_coordinate(value: Decimal) -> Decimal:
    """Round a coordinate (degrees, a ``Decimal``) to the nearest multiple of 0.2°, about 20 km
    (0.2° of latitude is 22.2 km; of longitude, 22.2 km times the cosine of the latitude),
    halves to even, with one decimal place: ``Decimal("51.5074")`` -> ``Decimal("51.4")``.
    Where a plant grows helps identify it, and a home's region sets the seasons of its care
    schedule, without pointing at anybody's house. Raises ``decimal.InvalidOperation`` for a
    non-finite value."""
    cells = (value / COARSE_LOCATION_STEP).quantize(Decimal("1"), rounding=ROUND_HALF_EVEN)
    return (cells * COARSE_LOCATION_STEP).quantize(Decimal("0.1"))
