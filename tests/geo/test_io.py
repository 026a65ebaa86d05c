"""Reading ward boundary files: formats, CRS, repairs, rejections and warnings.

Every file is written inside the test with geopandas, so the expected answers
can be read off the coordinates below.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from numpy.testing import assert_allclose
from pyproj import Transformer

from geo.errors import CRSMismatchError, InvalidGeometryError, WardFileError
from geo.io import read_wards

DRIVERS = {".geojson": "GeoJSON", ".shp": "ESRI Shapefile", ".gpkg": "GPKG",
           ".kml": "KML"}

#: Edges (degrees) of a row of 0.01° square wards near Mumbai. Written out, not
#: summed, so that neighbours share their edges exactly.
LON_EDGES = (72.80, 72.81, 72.82, 72.83)
LAT_EDGES = (19.00, 19.01)

#: Origin (metres, UTM 43N) of the wards laid out in metres; near Mumbai, so the
#: UTM zone chosen for areas is the one the wards are drawn in.
METRIC_CRS = "EPSG:32643"
E0, N0 = 270_000, 2_100_000

LOCAL_GRID_WKT = (
    'LOCAL_CS["Depot site grid",LOCAL_DATUM["Depot datum",0],UNIT["metre",1],'
    'AXIS["Easting",EAST],AXIS["Northing",NORTH]]'
)


def row_of_squares(n: int) -> list[shapely.Polygon]:
    """``n`` adjacent 0.01° squares, west to east."""
    return [shapely.box(LON_EDGES[i], LAT_EDGES[0], LON_EDGES[i + 1], LAT_EDGES[1])
            for i in range(n)]


def metric_polygon(*coords: tuple[float, float]) -> shapely.Polygon:
    """A polygon from ``(x, y)`` metres east and north of the metric origin."""
    return shapely.Polygon([(E0 + x, N0 + y) for x, y in coords])


def metric_box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(E0 + x0, N0 + y0, E0 + x1, N0 + y1)


def ring_around_hole(side_m: float) -> list[shapely.Polygon]:
    """Three wards that enclose a square hole ``side_m`` wide.

    A is a bottom strip, B an L along the left and top, C fills the right.
    Each ward carries the corners of its neighbours, so shared edges match
    vertex for vertex and the only gap is the hole.
    """
    a, b = 1000, 1000 + side_m
    c = b + 1000
    bottom = metric_polygon((0, 0), (c, 0), (c, a), (b, a), (a, a), (0, a))
    left_and_top = metric_polygon((0, a), (a, a), (a, b), (b, b), (c, b), (c, c),
                                  (0, c))
    right = metric_polygon((b, a), (c, a), (c, b), (b, b))
    return [bottom, left_and_top, right]


def write_wards(path: Path, codes: list, geoms: list, crs=None,
                **columns) -> Path:
    """Write wards with a ``ward_no`` field, in the format ``path`` names."""
    frame = gpd.GeoDataFrame({"ward_no": codes, **columns}, geometry=geoms,
                             crs=crs or "EPSG:4326")
    frame.to_file(path, driver=DRIVERS[path.suffix])
    return path


def zip_shapefile(shp: Path, archive: Path) -> Path:
    with zipfile.ZipFile(archive, "w") as bundle:
        for part in shp.parent.glob(f"{shp.stem}.*"):
            bundle.write(part, part.name)
    return archive


@pytest.mark.parametrize("suffix", [".geojson", ".shp", ".gpkg", ".kml"])
def test_each_format_reads_as_sorted_multipolygons_in_4326(tmp_path, suffix):
    path = write_wards(tmp_path / f"wards{suffix}", [7, 3, 5], row_of_squares(3),
                       label=["Seven", "Three", "Five"])

    ward_file = read_wards(path, "ward_no", "label")

    wards = ward_file.wards
    assert wards.crs == "EPSG:4326"
    assert list(wards["ward_code"]) == ["3", "5", "7"]
    assert list(wards["ward_name"]) == ["Three", "Five", "Seven"]
    assert set(wards.geom_type) == {"MultiPolygon"}
    assert_allclose(wards.total_bounds, [72.80, 19.00, 72.83, 19.01])
    assert ward_file.repairs == []
    assert ward_file.warnings == []


@pytest.mark.parametrize("suffix", [".geojson", ".shp", ".gpkg"])
def test_float_codes_become_whole_number_text(tmp_path, suffix):
    path = write_wards(tmp_path / f"wards{suffix}", [5.0, 12.0], row_of_squares(2))

    wards = read_wards(path, "ward_no").wards

    assert sorted(wards["ward_code"]) == ["12", "5"]


def test_name_defaults_to_code(tmp_path):
    path = write_wards(tmp_path / "wards.geojson", ["A", "B"], row_of_squares(2))

    wards = read_wards(path, "ward_no").wards

    assert list(wards["ward_name"]) == ["A", "B"]


def test_zipped_shapefile_is_read(tmp_path):
    (tmp_path / "shp").mkdir()
    shp = write_wards(tmp_path / "shp" / "wards.shp", ["A", "B"], row_of_squares(2))
    archive = zip_shapefile(shp, tmp_path / "wards.zip")

    wards = read_wards(archive, "ward_no").wards

    assert list(wards["ward_code"]) == ["A", "B"]
    assert wards.crs == "EPSG:4326"


@pytest.fixture
def two_layer_gpkg(tmp_path) -> Path:
    """A GeoPackage with a ``wards`` layer (A, B) and a ``zones`` layer (Z)."""
    path = write_wards(tmp_path / "city.gpkg", ["A", "B"], row_of_squares(2))
    frame = gpd.GeoDataFrame({"ward_no": ["Z"]}, geometry=row_of_squares(1),
                             crs="EPSG:4326")
    frame.to_file(path, driver="GPKG", layer="zones")
    return path


def test_geopackage_with_two_layers_needs_a_layer(two_layer_gpkg):
    with pytest.raises(WardFileError) as caught:
        read_wards(two_layer_gpkg, "ward_no")

    assert str(caught.value) == (
        f"{two_layer_gpkg}: has 2 layers (city, zones); choose one with --layer"
    )


def test_geopackage_layer_is_chosen_by_name(two_layer_gpkg):
    assert list(read_wards(two_layer_gpkg, "ward_no", layer="city")
                .wards["ward_code"]) == ["A", "B"]
    assert list(read_wards(two_layer_gpkg, "ward_no", layer="zones")
                .wards["ward_code"]) == ["Z"]


def test_unknown_layer_is_refused_with_layer_list(two_layer_gpkg):
    with pytest.raises(WardFileError) as caught:
        read_wards(two_layer_gpkg, "ward_no", layer="parks")

    assert str(caught.value) == (
        f"{two_layer_gpkg}: no layer 'parks'; layers are city, zones"
    )


@pytest.mark.parametrize("suffix", [".shp", ".gpkg", ".geojson"])
def test_metric_crs_is_reprojected_to_4326(tmp_path, suffix):
    # Easting 500 km is the zone's central meridian, 75°E.
    box = shapely.box(500_000, 2_100_000, 502_000, 2_101_000)
    path = write_wards(tmp_path / f"wards{suffix}", ["A"], [box], crs=METRIC_CRS)
    to_lonlat = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)
    lons, lats = to_lonlat.transform(*box.exterior.xy)

    wards = read_wards(path, "ward_no").wards

    assert wards.crs == "EPSG:4326"
    assert_allclose(wards.total_bounds, [75.0, min(lats), max(lons), max(lats)],
                    rtol=1e-9)
    assert_allclose(wards.total_bounds, [75.0, 18.9925, 75.0190, 19.0016],
                    atol=1e-4)


def test_bow_tie_ward_is_repaired_and_reported(tmp_path):
    # Corners in crossing order: two triangles that touch at (72.805, 19.005).
    bow_tie = shapely.Polygon([(72.80, 19.00), (72.81, 19.01), (72.81, 19.00),
                               (72.80, 19.01)])
    square = row_of_squares(3)[2]
    path = write_wards(tmp_path / "wards.geojson", ["X", "Y"], [bow_tie, square])

    ward_file = read_wards(path, "ward_no")

    assert ward_file.repairs == [
        "ward X: repaired invalid geometry (Self-intersection[72.805 19.005])"
    ]
    repaired = ward_file.wards.geometry[0]
    assert repaired.is_valid
    assert repaired.geom_type == "MultiPolygon"
    assert len(repaired.geoms) == 2
    assert repaired.area == pytest.approx(2 * 0.5 * 0.01 * 0.005)


def test_altitudes_are_dropped(tmp_path):
    # Google Earth writes KML coordinates as lon,lat,altitude.
    squares = [shapely.force_3d(g, 0.0) for g in row_of_squares(2)]
    path = write_wards(tmp_path / "wards.kml", ["A", "B"], squares)

    wards = read_wards(path, "ward_no").wards

    assert not wards.has_z.any()


def test_missing_file_is_refused(tmp_path):
    path = tmp_path / "nowhere.geojson"

    with pytest.raises(WardFileError, match="^.*nowhere.geojson: no such file$"):
        read_wards(path, "ward_no")


@pytest.mark.parametrize("suffix", [".geojson", ".shp", ".gpkg", ".kml", ".zip"])
def test_broken_file_is_refused(tmp_path, suffix):
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(b"\x00\x17not a ward file\xff" * 8)

    with pytest.raises(WardFileError) as caught:
        read_wards(path, "ward_no")

    assert str(caught.value).startswith(f"{path}: cannot be read as a ward file (")


def test_empty_geojson_is_refused(tmp_path):
    path = tmp_path / "empty.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}')

    with pytest.raises(WardFileError) as caught:
        read_wards(path, "ward_no")

    assert str(caught.value) == f"{path}: contains no features"


def test_empty_geopackage_layer_is_refused(tmp_path):
    path = write_wards(tmp_path / "empty.gpkg", [], [])

    with pytest.raises(WardFileError, match="contains no features"):
        read_wards(path, "ward_no")


def test_unknown_code_field_lists_the_fields(tmp_path):
    path = write_wards(tmp_path / "wards.geojson", ["A"], row_of_squares(1),
                       label=["Alpha"])

    with pytest.raises(WardFileError) as caught:
        read_wards(path, "code")

    assert str(caught.value) == (
        f"{path}: --code-field 'code' is not a field of this file; "
        "its fields are: ward_no, label"
    )


def test_unknown_name_field_lists_the_fields(tmp_path):
    path = write_wards(tmp_path / "wards.geojson", ["A"], row_of_squares(1))

    with pytest.raises(WardFileError) as caught:
        read_wards(path, "ward_no", "name")

    assert str(caught.value) == (
        f"{path}: --name-field 'name' is not a field of this file; "
        "its fields are: ward_no"
    )


@pytest.mark.parametrize("codes", [
    ["A", None, None], ["A", "", "  "], [1, None, None],
], ids=["null", "blank", "numeric-null"])
def test_missing_codes_are_refused(tmp_path, codes):
    path = write_wards(tmp_path / "wards.geojson", codes, row_of_squares(3))

    with pytest.raises(WardFileError) as caught:
        read_wards(path, "ward_no")

    assert str(caught.value) == f"{path}: features 2, 3 have no value in 'ward_no'"


def test_single_missing_code_is_refused(tmp_path):
    path = write_wards(tmp_path / "wards.geojson", ["A", None], row_of_squares(2))

    with pytest.raises(WardFileError, match="features 2 have no value in 'ward_no'"):
        read_wards(path, "ward_no")


def test_duplicate_codes_are_listed(tmp_path):
    squares = [shapely.box(72.80 + i / 100, 19.0, 72.805 + i / 100, 19.01)
               for i in range(5)]
    path = write_wards(tmp_path / "wards.geojson", [7, 3, 7, 3, 5], squares)

    with pytest.raises(WardFileError) as caught:
        read_wards(path, "ward_no")

    assert str(caught.value) == (
        f"{path}: ward codes must be unique in 'ward_no'; repeated: 3, 7"
    )


@pytest.mark.parametrize("odd_one", [
    shapely.Point(72.805, 19.005),
    shapely.LineString([(72.80, 19.00), (72.81, 19.01)]),
], ids=lambda g: g.geom_type)
def test_non_polygon_ward_is_named(tmp_path, odd_one):
    geoms = [row_of_squares(1)[0], odd_one]
    path = write_wards(tmp_path / "wards.geojson", ["A", "B"], geoms)

    with pytest.raises(InvalidGeometryError) as caught:
        read_wards(path, "ward_no")

    assert str(caught.value) == (
        f"{path}: wards must be polygons; these are not: B ({odd_one.geom_type})"
    )


def test_ward_without_geometry_is_named(tmp_path):
    path = write_wards(tmp_path / "wards.geojson", ["A", "B"],
                       [row_of_squares(1)[0], None])

    with pytest.raises(InvalidGeometryError) as caught:
        read_wards(path, "ward_no")

    assert str(caught.value) == f"{path}: wards B have no geometry"


def test_shapefile_without_prj_has_no_crs(tmp_path):
    path = write_wards(tmp_path / "wards.shp", ["A"], row_of_squares(1))
    path.with_suffix(".prj").unlink()

    with pytest.raises(CRSMismatchError) as caught:
        read_wards(path, "ward_no")

    assert str(caught.value) == (
        f"{path}: declares no coordinate reference system (for a Shapefile, "
        "the .prj file is missing); cannot place its wards on the map"
    )


def test_local_site_grid_cannot_be_converted(tmp_path):
    # A surveyor's grid with no tie to the earth: PROJ has no way to 4326.
    path = write_wards(tmp_path / "wards.shp", ["A"], [metric_box(0, 0, 100, 100)],
                       crs=METRIC_CRS)
    path.with_suffix(".prj").write_text(LOCAL_GRID_WKT)

    with pytest.raises(CRSMismatchError) as caught:
        read_wards(path, "ward_no")

    assert str(caught.value).startswith(
        f"{path}: its coordinate reference system (Depot site grid) cannot be "
        "converted to EPSG:4326: "
    )


def test_large_overlap_names_both_wards(tmp_path):
    wards = [metric_box(0, 0, 1000, 1000), metric_box(900, 0, 1900, 1000)]
    path = write_wards(tmp_path / "wards.gpkg", ["A", "B"], wards, crs=METRIC_CRS)

    ward_file = read_wards(path, "ward_no")

    assert ward_file.warnings == ["wards A and B overlap by 100,000 m²"]


def test_hole_between_three_wards_is_a_gap(tmp_path):
    path = write_wards(tmp_path / "wards.gpkg", ["A", "B", "C"],
                       ring_around_hole(1000), crs=METRIC_CRS)
    hole = gpd.GeoSeries([metric_box(1000, 1000, 2000, 2000)], crs=METRIC_CRS)

    warnings = read_wards(path, "ward_no").warnings

    assert len(warnings) == 1
    found = re.fullmatch(
        r"gap of 1,000,000 m² between wards near \((\S+), (\S+)\)", warnings[0])
    assert found, warnings[0]
    near = shapely.Point(float(found[1]), float(found[2]))
    assert hole.to_crs("EPSG:4326")[0].contains(near)


def test_slivers_are_summarised_in_one_line(tmp_path):
    # A 5 m square hole (25 m²) and a 1 cm overlap along a 2 km edge (20 m²).
    ring = ring_around_hole(5)
    below = metric_box(0, -1000, 2005, 0.01)
    path = write_wards(tmp_path / "wards.gpkg", ["A", "B", "C", "D"],
                       ring + [below], crs=METRIC_CRS)

    warnings = read_wards(path, "ward_no").warnings

    assert warnings == [
        "2 overlaps or gaps smaller than 100 m² each (digitising slivers)"
    ]
