"""Locations: the one rounding rule for every place the portal keeps about a gardener (where an
identification photo was taken, a home location), and the great-circle geometry of "near me"
searches. Knows no domain model."""

import math
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


EARTH_RADIUS_KM = 6371.0088  # the IUGG mean radius
KM_PER_DEGREE_LATITUDE = 111.195  # EARTH_RADIUS_KM * pi / 180


def near_box(*, latitude: float, longitude: float, km: float) -> tuple[float, float, float | None, float | None]:
    """``(lat_min, lat_max, lon_min, lon_max)`` in degrees: a box that holds every point within
    ``km`` (great-circle) of (``latitude``, ``longitude``). The longitude span widens with
    latitude: at latitude φ the widest it can be is at the box's edge nearest the pole, so the
    span uses the cosine of that edge's latitude. Near a pole (that edge within 1° of it), or
    where the box would cross the antimeridian, ``lon_min`` and ``lon_max`` are ``None``
    (unbounded) and the exact distance alone decides. Pure."""
    dlat = km / KM_PER_DEGREE_LATITUDE
    lat_min, lat_max = latitude - dlat, latitude + dlat
    poleward = max(abs(lat_min), abs(lat_max))
    if poleward >= 89:
        return lat_min, lat_max, None, None
    # A point at great-circle distance d from the centre differs in longitude by at most
    # asin(sin(d/R) / cos(latitude)), which is within dlat / cos(poleward edge) for these sizes.
    dlon = math.degrees(math.asin(min(1.0, math.sin(km / EARTH_RADIUS_KM) / math.cos(math.radians(latitude)))))
    dlon = max(dlon, dlat / math.cos(math.radians(poleward)))
    if longitude - dlon < -180 or longitude + dlon > 180:
        return lat_min, lat_max, None, None
    return lat_min, lat_max, longitude - dlon, longitude + dlon


def haversine_km(*, latitude1: float, longitude1: float, latitude2: float, longitude2: float) -> float:
    """The great-circle distance in kilometres between two points in degrees (haversine, mean
    Earth radius ``EARTH_RADIUS_KM``). Pure; ``apps.plants.selectors._near_filter`` computes the same in SQL."""
    phi1, phi2 = math.radians(latitude1), math.radians(latitude2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(longitude2 - longitude1) / 2
    inner = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, inner)))
