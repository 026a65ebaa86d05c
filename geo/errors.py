"""Errors raised by the spatial core."""

from __future__ import annotations


class GeoError(Exception):
    """Base class of every error raised in ``geo``."""

    code = "geo_error"


class WardFileError(GeoError):
    """A ward boundary file cannot be read or fails validation."""

    code = "bad_ward_file"


class InvalidGeometryError(GeoError):
    """A geometry is of the wrong type or cannot be repaired."""

    code = "invalid_geometry"


class CRSMismatchError(GeoError):
    """A layer has no CRS, or one that cannot be turned into EPSG:4326."""

    code = "unknown_crs"


class NoWardSetError(GeoError):
    """No ward boundaries have been imported yet."""

    code = "no_wards"

    def __init__(self, message: str = "no ward boundaries are loaded; run "
                 "'wardwatch wards import' first") -> None:
        super().__init__(message)


class WardNotFoundError(GeoError):
    """A point falls outside every ward of the current ward set."""

    code = "outside_service_area"

    def __init__(self, lon: float, lat: float, nearest_code: str | None,
                 distance_m: float | None) -> None:
        self.lon, self.lat = lon, lat
        self.nearest_code, self.distance_m = nearest_code, distance_m
        where = f"({lon:.6f}, {lat:.6f})"
        if nearest_code is None:
            message = f"point {where} is outside the service area"
        else:
            message = (
                f"point {where} is outside the service area: the nearest "
                f"ward, {nearest_code}, is {distance_m:,.0f} m away"
            )
        super().__init__(message)


class UnknownCategoryError(GeoError):
    """A routing request names a category that does not exist or is retired."""

    code = "unknown_category"
