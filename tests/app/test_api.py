"""JSON API: health, ward counts, route preview and error bodies."""

from __future__ import annotations

import pytest

from tests.app.helpers import commit_grid_and_routing


@pytest.fixture
def grid(clean_db):
    return commit_grid_and_routing(clean_db)


def test_health_reports_ok(client):
    response = client.get("/api/v1/health")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_route_preview_names_ward_department_and_due_time(client, grid):
    response = client.get("/api/v1/route?lon=72.815&lat=19.015&category=pothole")

    body = response.get_json()
    assert response.status_code == 200
    assert body["ward_code"] == "D"
    assert body["department_code"] == "WARD"
    assert body["due_at"].endswith("+00:00")


def test_route_preview_outside_service_area_is_422_json(client, grid):
    response = client.get("/api/v1/route?lon=72.9&lat=19.015&category=pothole")

    error = response.get_json()["error"]
    assert response.status_code == 422
    assert error["code"] == "outside_service_area"
    assert "nearest ward, B" in error["message"] or "nearest ward, D" in \
        error["message"]


def test_route_preview_missing_parameter_names_it(client, grid):
    response = client.get("/api/v1/route?lon=72.815")

    assert response.status_code == 422
    assert "lat, category" in response.get_json()["error"]["message"]


def test_route_preview_unknown_category(client, grid):
    response = client.get("/api/v1/route?lon=72.815&lat=19.015&category=x")

    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "unknown_category"


def test_route_preview_non_numeric_coordinate(client, grid):
    response = client.get("/api/v1/route?lon=east&lat=19.015&category=pothole")

    assert response.status_code == 422
    assert "lon must be a number" in response.get_json()["error"]["message"]


def test_wards_list_counts_complaints(client, grid):
    response = client.get("/api/v1/wards")

    wards = response.get_json()["wards"]
    assert [w["ward_code"] for w in wards] == ["A", "B", "C", "D"]
    assert all(w["n_complaints"] == 0 for w in wards)


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/nothing-here")

    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_unknown_page_is_html_404(client):
    response = client.get("/nothing-here")

    assert response.status_code == 404
    assert b"<html" in response.data
