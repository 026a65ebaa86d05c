"""Routing on the 2x2 grid: A (SW), B (SE), C (NW), D (NE)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from geo.errors import NoWardSetError, UnknownCategoryError, WardNotFoundError
from geo.routing import route
from tests.factories import GRID_ORIGIN, GRID_STEP

X0, Y0 = GRID_ORIGIN
FILED = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)


def at(dx: float, dy: float) -> tuple[float, float]:
    """A point ``dx``, ``dy`` grid steps from the grid's south-west corner."""
    return X0 + dx * GRID_STEP, Y0 + dy * GRID_STEP


@pytest.mark.parametrize(("point", "ward"), [
    (at(0.5, 0.5), "A"), (at(1.5, 0.5), "B"),
    (at(0.5, 1.5), "C"), (at(1.5, 1.5), "D"),
])
def test_point_inside_ward_gets_that_ward(db_conn, ward_grid, routing, point, ward):
    assert route(db_conn, *point, "pothole", FILED).ward_code == ward


def test_point_on_shared_edge_gets_lowest_code(db_conn, ward_grid, routing):
    assert route(db_conn, *at(1.0, 0.5), "pothole", FILED).ward_code == "A"
    assert route(db_conn, *at(1.5, 1.0), "pothole", FILED).ward_code == "B"


def test_point_on_corner_of_four_wards_gets_lowest_code(db_conn, ward_grid,
                                                        routing):
    assert route(db_conn, *at(1.0, 1.0), "pothole", FILED).ward_code == "A"


def test_point_on_outer_edge_is_inside(db_conn, ward_grid, routing):
    assert route(db_conn, *at(2.0, 1.5), "pothole", FILED).ward_code == "D"


def test_point_outside_every_ward_names_nearest_and_distance(db_conn, ward_grid,
                                                             routing):
    with pytest.raises(WardNotFoundError) as caught:
        route(db_conn, *at(2.5, 0.5), "pothole", FILED)

    error = caught.value
    assert error.nearest_code == "B"
    # Half a 0.01° step of longitude at 19°N is about 526 m.
    assert error.distance_m == pytest.approx(526, rel=0.02)
    assert "outside the service area" in str(error)
    assert "B" in str(error)


def test_category_default_department_and_sla(db_conn, ward_grid, routing):
    result = route(db_conn, *at(0.5, 0.5), "pothole", FILED)

    assert result.department_code == "ROADS"
    assert result.due_at == FILED + timedelta(hours=48)


def test_ward_rule_overrides_department_and_sla(db_conn, ward_grid, routing):
    result = route(db_conn, *at(1.5, 1.5), "pothole", FILED)

    assert result.department_code == "WARD"
    assert result.due_at == FILED + timedelta(hours=12)


def test_rule_for_one_category_leaves_others_alone(db_conn, ward_grid, routing):
    result = route(db_conn, *at(1.5, 1.5), "other", FILED)

    assert result.department_code == "WARD"
    assert result.due_at == FILED + timedelta(hours=72)


def test_unknown_category_is_refused(db_conn, ward_grid, routing):
    with pytest.raises(UnknownCategoryError, match="'no-such-thing'"):
        route(db_conn, *at(0.5, 0.5), "no-such-thing", FILED)


def test_retired_category_is_refused(db_conn, ward_grid, routing):
    from sqlalchemy import text

    db_conn.execute(text("UPDATE category SET is_active = false"
                         " WHERE slug = 'pothole'"))
    with pytest.raises(UnknownCategoryError):
        route(db_conn, *at(0.5, 0.5), "pothole", FILED)


def test_no_wards_loaded_says_so(db_conn, routing):
    with pytest.raises(NoWardSetError, match="wards import"):
        route(db_conn, *at(0.5, 0.5), "pothole", FILED)


@pytest.mark.parametrize(("lon", "lat", "message"), [
    ("abc", 19.0, "lon must be a number"),
    (72.8, 91, "lat must be between -90 and 90"),
    (float("nan"), 19.0, "lon must be between"),
])
def test_bad_coordinates_are_refused(db_conn, ward_grid, routing, lon, lat,
                                     message):
    with pytest.raises(ValueError, match=message):
        route(db_conn, lon, lat, "pothole", FILED)


def test_naive_filing_time_is_refused(db_conn, ward_grid, routing):
    with pytest.raises(ValueError, match="time-zone aware"):
        route(db_conn, *at(0.5, 0.5), "pothole", datetime(2026, 5, 1))


def test_routing_uses_the_current_ward_set(db_conn, ward_grid, routing):
    from tests.factories import make_wards, square

    make_wards(db_conn, {"Z": square(X0, Y0, 2 * GRID_STEP)}, source="merged")

    assert route(db_conn, *at(1.5, 1.5), "pothole", FILED).ward_code == "Z"
