"""Coordinate reference systems used across WardWatch."""

from __future__ import annotations

import geopandas as gpd

#: Every geometry is stored in WGS84 longitude/latitude.
STORAGE_CRS = "EPSG:4326"


def metric_crs(gdf: gpd.GeoDataFrame):
    """Return the UTM zone CRS that covers ``gdf`` (metres).

    Notes
    -----
    A city fits in one UTM zone, where areas and distances are good to a
    fraction of a percent.
    """
    return gdf.to_crs(STORAGE_CRS).estimate_utm_crs()


def to_metric(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Project ``gdf`` to the UTM zone that covers it."""
    return gdf.to_crs(metric_crs(gdf))


def to_storage(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Project ``gdf`` to the storage CRS (EPSG:4326)."""
    return gdf.to_crs(STORAGE_CRS)
