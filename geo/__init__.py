"""Spatial core of WardWatch: ward files, point-to-ward routing, PostGIS queries.

Nothing here imports Flask or the ``app`` package.
"""
