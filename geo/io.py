"""Reading and checking ward boundary files.

GeoJSON, Shapefile (plain or zipped), GeoPackage and KML are read through
geopandas with the pyogrio engine.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from pyproj.exceptions import ProjError

from geo.crs import STORAGE_CRS, metric_crs
from geo.errors import CRSMismatchError, InvalidGeometryError, WardFileError

logger = logging.getLogger(__name__)

#: Overlaps and gaps smaller than this are digitising slivers: counted in one
#: line, not listed one by one.
MIN_REPORTED_AREA_M2 = 100.0

POLYGONAL = ("Polygon", "MultiPolygon")


@dataclass
class WardFile:
    """Wards read from a file, ready to store.

    Attributes
    ----------
    wards : GeoDataFrame
        Columns ``ward_code``, ``ward_name``, ``population`` (may be missing)
        and ``geom`` (MultiPolygon, EPSG:4326), sorted by ``ward_code``.
    repairs : list of str
        One line per geometry that was invalid and has been repaired.
    warnings : list of str
        Overlaps and gaps between wards, with their areas.
    """

    wards: gpd.GeoDataFrame
    repairs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        """SHA-256 over codes, names and geometries: equal for equal ward sets."""
        digest = hashlib.sha256()
        wards = self.wards
        for code, name, geom in zip(wards["ward_code"], wards["ward_name"],
                                    wards.geometry):
            digest.update(f"{code}\0{name}\0".encode())
            digest.update(shapely.to_wkb(geom))
        return digest.hexdigest()


def read_wards(path: str | Path, code_field: str, name_field: str | None = None,
               layer: str | None = None) -> WardFile:
    """Read, check, reproject and repair a ward boundary file.

    Parameters
    ----------
    path : str or Path
        GeoJSON, Shapefile (``.shp`` or ``.zip``), GeoPackage or KML file.
    code_field : str
        Attribute holding each ward's official code; must be unique.
    name_field : str, optional
        Attribute holding the ward's name; the code is used when absent.
    layer : str, optional
        Layer to read from a multi-layer file (GeoPackage, KML).

    Returns
    -------
    WardFile

    Raises
    ------
    WardFileError
        Unreadable or empty file, unknown field or layer, missing or
        duplicate codes.
    CRSMismatchError
        The file declares no CRS or one that cannot be converted.
    InvalidGeometryError
        A feature has no geometry, a non-polygon geometry, or one that stays
        non-polygonal after repair.
    """
    path = Path(path)
    frame = _read_layer(path, layer)
    _check_fields(frame, path, code_field, name_field)
    frame = _to_storage_crs(frame, path)
    wards = _ward_columns(frame, path, code_field, name_field)
    wards, repairs = _repair(wards)
    warnings = _overlaps_and_gaps(wards)
    for line in repairs + warnings:
        logger.info("%s: %s", path.name, line)
    return WardFile(wards.sort_values("ward_code", ignore_index=True),
                    repairs, warnings)


def _read_layer(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    if not path.exists():
        raise WardFileError(f"{path}: no such file")
    source = str(path)
    try:
        layers = [name for name, _ in pyogrio.list_layers(source)]
        if layer is None and len(layers) > 1:
            raise WardFileError(
                f"{path}: has {len(layers)} layers ({', '.join(layers)}); "
                "choose one with --layer"
            )
        if layer is not None and layer not in layers:
            raise WardFileError(
                f"{path}: no layer {layer!r}; layers are {', '.join(layers)}"
            )
        frame = gpd.read_file(source, layer=layer, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
            pyogrio.errors.FieldError, pyogrio.errors.GeometryError) as err:
        raise WardFileError(f"{path}: cannot be read as a ward file ({err})") from err
    if frame.empty:
        raise WardFileError(f"{path}: contains no features")
    return frame


def _check_fields(frame: gpd.GeoDataFrame, path: Path, code_field: str,
                  name_field: str | None) -> None:
    fields = [c for c in frame.columns if c != frame.geometry.name]
    for option, name in (("--code-field", code_field), ("--name-field", name_field)):
        if name is not None and name not in fields:
            raise WardFileError(
                f"{path}: {option} {name!r} is not a field of this file; "
                f"its fields are: {', '.join(fields) or '(none)'}"
            )


def _to_storage_crs(frame: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise CRSMismatchError(
            f"{path}: declares no coordinate reference system (for a Shapefile, "
            "the .prj file is missing); cannot place its wards on the map"
        )
    try:
        return frame.to_crs(STORAGE_CRS)
    except (ProjError, ValueError) as err:
        raise CRSMismatchError(
            f"{path}: its coordinate reference system ({frame.crs.name}) "
            f"cannot be converted to {STORAGE_CRS}: {err}"
        ) from err


def _ward_columns(frame: gpd.GeoDataFrame, path: Path, code_field: str,
                  name_field: str | None) -> gpd.GeoDataFrame:
    codes = frame[code_field].map(_as_code)
    # pandas stores the None of _as_code as NaN in a text column.
    missing = [i + 1 for i, code in enumerate(codes) if pd.isna(code)]
    if missing:
        raise WardFileError(
            f"{path}: features {_first(missing)} have no value in {code_field!r}"
        )
    duplicated = sorted(set(codes[codes.duplicated()]))
    if duplicated:
        raise WardFileError(
            f"{path}: ward codes must be unique in {code_field!r}; repeated: "
            f"{_first(duplicated)}"
        )
    names = frame[name_field].map(_as_code) if name_field else codes
    geoms = frame.geometry.values
    _check_geometry_types(geoms, codes, path)
    return gpd.GeoDataFrame({
        "ward_code": codes.values,
        "ward_name": names.fillna(codes).values,
        "population": _population(frame),
    }, geometry=gpd.GeoSeries(geoms, crs=STORAGE_CRS).rename("geom"))


def _check_geometry_types(geoms, codes: pd.Series, path: Path) -> None:
    empty = [c for c, g in zip(codes, geoms) if g is None or g.is_empty]
    if empty:
        raise InvalidGeometryError(f"{path}: wards {_first(empty)} have no geometry")
    wrong = [f"{c} ({g.geom_type})" for c, g in zip(codes, geoms)
             if g.geom_type not in POLYGONAL]
    if wrong:
        raise InvalidGeometryError(
            f"{path}: wards must be polygons; these are not: {_first(wrong)}"
        )


def _population(frame: gpd.GeoDataFrame) -> pd.Series:
    for name in frame.columns:
        if name.lower() == "population":
            values = pd.to_numeric(frame[name], errors="coerce")
            return values.round().astype("Int64").values
    return pd.array([pd.NA] * len(frame), dtype="Int64")


def _repair(wards: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[str]]:
    repairs = []
    fixed = []
    for code, geom in zip(wards["ward_code"], wards.geometry):
        if not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            geom = _polygonal_part(shapely.make_valid(geom))
            if geom.is_empty:
                raise InvalidGeometryError(
                    f"ward {code}: invalid geometry ({reason}) cannot be repaired"
                )
            repairs.append(f"ward {code}: repaired invalid geometry ({reason})")
        # The ward table is 2D; KML from Google Earth carries altitudes.
        fixed.append(_as_multi(shapely.force_2d(geom)))
    wards = wards.set_geometry(gpd.GeoSeries(fixed, crs=STORAGE_CRS, name="geom"))
    return wards, repairs


def _polygonal_part(geom):
    """Keep the polygons of a repaired geometry; slivers that became lines go."""
    if geom.geom_type in POLYGONAL:
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in POLYGONAL]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _as_multi(geom):
    if geom.geom_type == "Polygon":
        return shapely.MultiPolygon([geom])
    return geom


def _overlaps_and_gaps(wards: gpd.GeoDataFrame) -> list[str]:
    metric = wards.to_crs(metric_crs(wards))
    warnings = []
    n_slivers = 0
    pairs = gpd.sjoin(metric, metric, predicate="overlaps")
    for left, row in pairs.iterrows():
        code_a, code_b = row["ward_code_left"], row["ward_code_right"]
        if code_a >= code_b:
            continue
        shared = metric.geometry[left].intersection(metric.geometry[row.index_right])
        if shared.area >= MIN_REPORTED_AREA_M2:
            warnings.append(
                f"wards {code_a} and {code_b} overlap by {shared.area:,.0f} m²"
            )
        else:
            n_slivers += 1
    outline = shapely.union_all(metric.geometry.values)
    for polygon in shapely.get_parts(outline):
        for ring in polygon.interiors:
            hole = shapely.Polygon(ring)
            if hole.area >= MIN_REPORTED_AREA_M2:
                x, y = hole.representative_point().coords[0]
                lon, lat = _lonlat(x, y, metric.crs)
                warnings.append(
                    f"gap of {hole.area:,.0f} m² between wards near "
                    f"({lon:.5f}, {lat:.5f})"
                )
            else:
                n_slivers += 1
    if n_slivers:
        warnings.append(f"{n_slivers} overlaps or gaps smaller than "
                        f"{MIN_REPORTED_AREA_M2:,.0f} m² each (digitising slivers)")
    return warnings


def _lonlat(x: float, y: float, crs) -> tuple[float, float]:
    point = gpd.GeoSeries([shapely.Point(x, y)], crs=crs).to_crs(STORAGE_CRS)
    return point.x[0], point.y[0]


def _as_code(value) -> str | None:
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _first(items: list, n: int = 10) -> str:
    shown = ", ".join(str(i) for i in items[:n])
    return shown + (f" and {len(items) - n} more" if len(items) > n else "")
