"""``wardwatch wards import`` and ``wardwatch wards locate``.

CLI commands commit, so every test here empties the tables (``clean_db``).
Ward files are written inside each test: wards A and B are 0.01° squares side
by side near Mumbai, A to the west.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from pyproj import Geod
from sqlalchemy import text

from geo import queries
from tests.factories import make_routing

DRIVERS = {".geojson": "GeoJSON", ".shp": "ESRI Shapefile", ".gpkg": "GPKG",
           ".kml": "KML"}

#: Edges (degrees) of the row of square wards, written out so that neighbours
#: share their edges exactly.
LON_EDGES = (72.80, 72.81, 72.82, 72.83)
LAT_EDGES = (19.00, 19.01)
MID_LAT = 19.005

METRIC_CRS = "EPSG:32643"
E0, N0 = 270_000, 2_100_000

LOCAL_GRID_WKT = (
    'LOCAL_CS["Depot site grid",LOCAL_DATUM["Depot datum",0],UNIT["metre",1],'
    'AXIS["Easting",EAST],AXIS["Northing",NORTH]]'
)

OUTSIDE = re.compile(
    r"error: point \((\S+), (\S+)\) is outside the service area: "
    r"the nearest ward, (\S+), is ([\d,]+) m away\n"
)


def row_of_squares(n: int) -> list[shapely.Polygon]:
    return [shapely.box(LON_EDGES[i], LAT_EDGES[0], LON_EDGES[i + 1], LAT_EDGES[1])
            for i in range(n)]


def metric_box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(E0 + x0, N0 + y0, E0 + x1, N0 + y1)


def write_wards(path: Path, codes: list, geoms: list, crs=None, layer=None,
                **columns) -> Path:
    """Write wards with a ``ward_no`` field, in the format ``path`` names."""
    frame = gpd.GeoDataFrame({"ward_no": codes, **columns}, geometry=geoms,
                             crs=crs or "EPSG:4326")
    frame.to_file(path, driver=DRIVERS[path.suffix], layer=layer)
    return path


def two_wards(path: Path) -> Path:
    return write_wards(path, ["A", "B"], row_of_squares(2),
                       label=["Fort", "Byculla"])


def import_wards(cli, path: Path, *options: str):
    return cli("wards", "import", str(path), "--code-field", "ward_no", *options)


def locate(cli, lon: float, lat: float):
    return cli("wards", "locate", str(lon), str(lat))


def current_set(engine) -> dict | None:
    with engine.connect() as conn:
        return queries.current_ward_set(conn)


def current_names(engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(text(
            "SELECT w.ward_code, w.ward_name FROM ward w JOIN ward_set s"
            " ON s.ward_set_id = w.ward_set_id AND s.is_current"
        )).all())


def file_complaint(engine, lon: float, lat: float) -> int:
    """Insert one complaint in the current ward at ``lon``, ``lat``; return its id."""
    with engine.begin() as conn:
        routing = make_routing(conn)
        ward = queries.ward_for_point(conn, lon, lat)
        return conn.execute(text(
            "INSERT INTO complaint (tracking_id, category_id, description, geom,"
            " ward_id, department_id, status, channel, created_at, updated_at,"
            " due_at, n_supporters) VALUES ('WW-TEST-0001', :category,"
            " 'Pothole by the bus stop', ST_SetSRID(ST_MakePoint(:lon, :lat), 4326),"
            " :ward_id, :department, 'submitted', 'web', now(), now(),"
            " now() + interval '48 hours', 0) RETURNING complaint_id"
        ), {"category": routing["pothole"], "department": routing["roads"],
            "lon": lon, "lat": lat, "ward_id": ward["ward_id"]}).scalar_one()


def complaint_ward(engine, complaint_id: int) -> tuple[str, int]:
    """``(ward_code, ward set version)`` stored on a complaint."""
    with engine.connect() as conn:
        return tuple(conn.execute(text(
            "SELECT w.ward_code, s.version FROM complaint c"
            " JOIN ward w ON w.ward_id = c.ward_id"
            " JOIN ward_set s ON s.ward_set_id = w.ward_set_id"
            " WHERE c.complaint_id = :id"
        ), {"id": complaint_id}).one())


# --- import ---------------------------------------------------------------


def test_import_prints_count_and_first_version(cli, clean_db, tmp_path):
    result = import_wards(cli, two_wards(tmp_path / "wards.geojson"),
                          "--name-field", "label")

    assert result.exit_code == 0, result.output
    assert result.output == "imported 2 wards as ward set version 1\n"
    ward_set = current_set(clean_db)
    assert (ward_set["version"], ward_set["n_wards"]) == (1, 2)
    assert ward_set["source"] == "wards.geojson"
    assert current_names(clean_db) == {"A": "Fort", "B": "Byculla"}


def test_reimporting_identical_file_keeps_version(cli, clean_db, tmp_path):
    path = two_wards(tmp_path / "wards.geojson")
    import_wards(cli, path)

    result = import_wards(cli, path)

    assert result.exit_code == 0, result.output
    assert result.output == "2 wards unchanged; ward set version 1 stays current\n"
    with clean_db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ward_set")).scalar_one() == 1


def test_changed_file_becomes_version_2_and_old_complaints_keep_ward(
        cli, clean_db, tmp_path):
    import_wards(cli, two_wards(tmp_path / "wards.geojson"))
    complaint_id = file_complaint(clean_db, 72.807, MID_LAT)
    # The A|B boundary moves west, so the complaint's spot now lies in B.
    moved = [shapely.box(72.80, 19.00, 72.805, 19.01),
             shapely.box(72.805, 19.00, 72.82, 19.01)]
    changed = write_wards(tmp_path / "wards-2027.geojson", ["A", "B"], moved)

    result = import_wards(cli, changed)

    assert result.exit_code == 0, result.output
    assert result.output == "imported 2 wards as ward set version 2\n"
    assert current_set(clean_db)["version"] == 2
    assert locate(cli, 72.807, MID_LAT).output == "B\n"
    assert complaint_ward(clean_db, complaint_id) == ("A", 1)


def test_layer_option_picks_the_layer(cli, clean_db, tmp_path):
    path = write_wards(tmp_path / "city.gpkg", ["Z"], row_of_squares(1),
                       layer="zones")
    write_wards(path, ["A", "B"], row_of_squares(2), layer="wards",
                label=["Fort", "Byculla"])

    result = import_wards(cli, path, "--layer", "wards", "--name-field", "label")

    assert result.exit_code == 0, result.output
    assert result.output == "imported 2 wards as ward set version 1\n"
    assert current_names(clean_db) == {"A": "Fort", "B": "Byculla"}


def test_import_prints_repairs_and_warnings(cli, clean_db, tmp_path):
    bow_tie = shapely.Polygon([(E0 + x, N0 + y) for x, y in
                               [(3000, 0), (4000, 1000), (4000, 0), (3000, 1000)]])
    wards = [metric_box(0, 0, 1000, 1000), metric_box(900, 0, 1900, 1000), bow_tie]
    path = write_wards(tmp_path / "wards.shp", ["A", "B", "X"], wards,
                       crs=METRIC_CRS)

    result = import_wards(cli, path)

    assert result.exit_code == 0, result.output
    repaired, warning, imported = result.output.splitlines()
    assert repaired.startswith(
        "repaired: ward X: repaired invalid geometry (Self-intersection[72.")
    assert warning == "warning: wards A and B overlap by 100,000 m²"
    assert imported == "imported 3 wards as ward set version 1"
    with clean_db.connect() as conn:
        assert conn.execute(text(
            "SELECT ST_IsValid(geom) AND ST_NumGeometries(geom) = 2 FROM ward"
            " WHERE ward_code = 'X'")).scalar_one()


def test_kml_with_altitudes_is_imported(cli, clean_db, tmp_path):
    # Google Earth writes KML coordinates as lon,lat,altitude.
    squares = [shapely.force_3d(g, 0.0) for g in row_of_squares(2)]
    path = write_wards(tmp_path / "wards.kml", ["A", "B"], squares)

    result = import_wards(cli, path)

    assert result.exit_code == 0, result.output
    assert result.output == "imported 2 wards as ward set version 1\n"
    assert locate(cli, 72.815, MID_LAT).output == "B\n"


def _missing(tmp_path: Path) -> Path:
    return tmp_path / "nowhere.geojson"


def _junk(tmp_path: Path) -> Path:
    path = tmp_path / "junk.geojson"
    path.write_bytes(b"\x00\x17not a ward file\xff" * 8)
    return path


def _empty(tmp_path: Path) -> Path:
    path = tmp_path / "empty.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    return path


def _duplicates(tmp_path: Path) -> Path:
    return write_wards(tmp_path / "dup.geojson", ["A", "A", "B"],
                       row_of_squares(3))


def _blank_code(tmp_path: Path) -> Path:
    return write_wards(tmp_path / "blank.geojson", ["A", ""], row_of_squares(2))


def _point(tmp_path: Path) -> Path:
    geoms = [row_of_squares(1)[0], shapely.Point(72.815, MID_LAT)]
    return write_wards(tmp_path / "point.geojson", ["A", "B"], geoms)


def _no_prj(tmp_path: Path) -> Path:
    path = write_wards(tmp_path / "wards.shp", ["A"], row_of_squares(1))
    path.with_suffix(".prj").unlink()
    return path


def _site_grid(tmp_path: Path) -> Path:
    path = write_wards(tmp_path / "site.shp", ["A"], [metric_box(0, 0, 100, 100)],
                       crs=METRIC_CRS)
    path.with_suffix(".prj").write_text(LOCAL_GRID_WKT)
    return path


def _two_layers(tmp_path: Path) -> Path:
    path = write_wards(tmp_path / "city.gpkg", ["A"], row_of_squares(1),
                       layer="wards")
    return write_wards(path, ["Z"], row_of_squares(1), layer="zones")


@pytest.mark.parametrize(("make_file", "options", "message"), [
    (_missing, [], "no such file"),
    (_junk, [], "cannot be read as a ward file ("),
    (_empty, [], "contains no features"),
    (_duplicates, [], "ward codes must be unique in 'ward_no'; repeated: A"),
    (_blank_code, [], "features 2 have no value in 'ward_no'"),
    (_point, [], "wards must be polygons; these are not: B (Point)"),
    (_no_prj, [], "declares no coordinate reference system (for a Shapefile, "
                  "the .prj file is missing)"),
    (_site_grid, [], "its coordinate reference system (Depot site grid) cannot "
                     "be converted to EPSG:4326"),
    (_two_layers, [], "has 2 layers (wards, zones); choose one with --layer"),
    (_two_layers, ["--layer", "parks"], "no layer 'parks'; layers are wards, zones"),
    (_duplicates, ["--name-field", "name"],
     "--name-field 'name' is not a field of this file; its fields are: ward_no"),
], ids=["missing", "junk", "empty", "duplicates", "blank-code", "point", "no-prj",
        "site-grid", "two-layers", "unknown-layer", "unknown-name-field"])
def test_bad_file_exits_1_and_keeps_current_set(cli, clean_db, tmp_path,
                                                make_file, options, message):
    import_wards(cli, two_wards(tmp_path / "good.geojson"))
    before = current_set(clean_db)
    path = make_file(tmp_path)

    result = import_wards(cli, path, *options)

    assert result.exit_code == 1
    assert result.output.startswith(f"error: {path}: {message}")
    assert result.output.count("\n") == 1
    assert current_set(clean_db) == before


def test_unknown_code_field_lists_fields(cli, clean_db, tmp_path):
    path = two_wards(tmp_path / "wards.geojson")

    result = cli("wards", "import", str(path), "--code-field", "code")

    assert result.exit_code == 1
    assert result.output == (
        f"error: {path}: --code-field 'code' is not a field of this file; "
        "its fields are: ward_no, label\n"
    )
    assert current_set(clean_db) is None


# --- locate ---------------------------------------------------------------


@pytest.fixture
def three_wards(cli, clean_db, tmp_path):
    """Wards A, B, C side by side, imported through the CLI."""
    path = write_wards(tmp_path / "wards.geojson", ["C", "A", "B"],
                       [row_of_squares(3)[i] for i in (2, 0, 1)])
    assert import_wards(cli, path).exit_code == 0


@pytest.mark.parametrize(("lon", "code"), [
    (72.805, "A"), (72.815, "B"), (72.825, "C"),
])
def test_locate_prints_ward_inside(cli, three_wards, lon, code):
    result = locate(cli, lon, MID_LAT)

    assert result.exit_code == 0, result.output
    assert result.output == f"{code}\n"


@pytest.mark.parametrize(("lon", "lat", "code"), [
    (72.81, MID_LAT, "A"), (72.82, MID_LAT, "B"), (72.81, 19.01, "A"),
    (72.83, MID_LAT, "C"),
], ids=["edge-A-B", "edge-B-C", "corner-A-B", "outer-edge-C"])
def test_locate_on_boundary_prints_lowest_code(cli, three_wards, lon, lat, code):
    result = locate(cli, lon, lat)

    assert result.exit_code == 0, result.output
    assert result.output == f"{code}\n"


def test_locate_outside_names_nearest_ward_and_distance(cli, three_wards):
    result = locate(cli, 72.85, MID_LAT)

    assert result.exit_code == 1
    found = OUTSIDE.fullmatch(result.output)
    assert found, result.output
    assert found.groups()[:3] == ("72.850000", "19.005000", "C")
    _, _, expected_m = Geod(ellps="WGS84").inv(72.83, MID_LAT, 72.85, MID_LAT)
    assert int(found[4].replace(",", "")) == pytest.approx(expected_m, rel=1e-3)


def test_locate_without_wards_says_to_import(cli, clean_db):
    result = locate(cli, 72.805, MID_LAT)

    assert result.exit_code == 1
    assert result.output == (
        "error: no ward boundaries are loaded; run 'wardwatch wards import' first\n"
    )


def test_locate_refuses_latitude_beyond_pole(cli, three_wards):
    result = locate(cli, 72.805, 95)

    assert result.exit_code == 1
    assert result.output == "error: lat must be between -90 and 90, got 95.0\n"


def test_locate_takes_western_longitudes(cli, clean_db, tmp_path):
    box = shapely.box(-71.07, 42.35, -71.05, 42.37)
    import_wards(cli, write_wards(tmp_path / "wards.geojson", ["3"], [box]))

    result = locate(cli, -71.0579, 42.3601)

    assert result.exit_code == 0, result.output
    assert result.output == "3\n"


# --- real boundaries --------------------------------------------------------


def read_landmarks(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_mumbai_landmarks_fall_in_their_admin_wards(cli, clean_db, shared_data):
    wards = shared_data / "wards" / "mumbai_admin_wards.geojson"
    landmarks = read_landmarks(shared_data / "validation" / "mumbai_landmarks.csv")

    result = cli("wards", "import", str(wards), "--code-field", "name")

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        "imported 24 wards as ward set version 1")
    assert len(landmarks) == 10
    misplaced = {}
    for landmark in landmarks:
        found = locate(cli, landmark["lon"], landmark["lat"]).output.strip()
        if found not in landmark["expected_admin_ward"].split("|"):
            misplaced[landmark["landmark"]] = found
    assert misplaced == {}


def test_boston_wards_import_with_numeric_codes(cli, clean_db, shared_data):
    wards = shared_data / "boundaries" / "boston_wards.geojson"

    result = cli("wards", "import", str(wards), "--code-field", "WARD")

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        "imported 22 wards as ward set version 1")
    assert set(current_names(clean_db)) == {str(n) for n in range(1, 23)}
    # City Hall Plaza: the 311 requests filed there are labelled Ward 3.
    assert locate(cli, -71.0579, 42.3601).output == "3\n"
