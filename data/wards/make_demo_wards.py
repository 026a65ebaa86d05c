"""Generate the fictional "Demo City" ward set used by WardWatch demos.

The city outline is a hand-typed polygon that sits roughly where Mumbai's
island city and suburbs are, so maps open over a familiar coastline. It is not
traced from any boundary file. Inside it, 24 seeded points are spread out with
a few rounds of Lloyd relaxation, turned into Voronoi cells and clipped to the
outline. Wards are numbered W01 to W24 from north to south.

Run from the repository root::

    .venv/bin/python data/wards/make_demo_wards.py

The output, ``data/wards/demo_wards.geojson``, is rewritten byte for byte the
same on every run.

Notes
-----
Coordinates are stored on a grid of 1e-6 degrees (about 0.1 m). Clipping
creates new vertices on the outline's edges, and plain rounding would push
them slightly off those edges, leaving thin gaps or bulges along the coast.
Each such vertex is therefore moved along its edge to the nearest grid point
that lies exactly on the edge. The tiling then covers the outline with no gaps
or overlaps, up to floating-point error.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import mapping

SEED = 20240611
N_WARDS = 24
N_LLOYD_ROUNDS = 4
GRID_PER_DEGREE = 1_000_000
OUTPUT_PATH = Path(__file__).with_name("demo_wards.geojson")

# (lon, lat) in thousandths of a degree, counter-clockwise from the southern
# tip. Integers keep every outline vertex exactly on the output grid.
OUTLINE_MILLIDEG = [
    (72815, 18905),
    (72842, 18915),
    (72850, 18960),
    (72862, 19000),
    (72895, 19020),
    (72935, 19045),
    (72950, 19095),
    (72975, 19150),
    (72968, 19205),
    (72930, 19225),
    (72885, 19262),
    (72845, 19265),
    (72818, 19215),
    (72808, 19140),
    (72818, 19060),
    (72825, 19005),
    (72810, 18950),
]

# Invented names, listed north to south. Any likeness to real places is only
# in the ordinary words they are made of.
WARD_NAMES = [
    "Upper Creek",
    "Quarry Hills",
    "Lakeside North",
    "Mangrove Bay",
    "Saltpan East",
    "Airfield West",
    "Mill Lanes",
    "Junction Market",
    "Palm Grove",
    "Reservoir Lane",
    "Railway Colony",
    "Lowland Flats",
    "Textile Quarter",
    "Banyan Circle",
    "Harbour North",
    "Sea Wall Promenade",
    "Fishermen's Wharf",
    "Temple Steps",
    "Clocktower Bazaar",
    "Shipwright Yard",
    "Harbour South",
    "Observatory Hill",
    "Breakwater",
    "Lighthouse Point",
]


def make_outline() -> shapely.Polygon:
    """Return the Demo City outline in degrees (EPSG:4326)."""
    outline = shapely.Polygon([(x / 1000, y / 1000) for x, y in OUTLINE_MILLIDEG])
    if not outline.is_valid:
        raise RuntimeError("the hand-typed outline is not a valid polygon")
    return outline


def sample_seeds(outline: shapely.Polygon, rng: np.random.Generator) -> np.ndarray:
    """Draw ``N_WARDS`` uniform random points inside ``outline``."""
    minx, miny, maxx, maxy = outline.bounds
    seeds = []
    while len(seeds) < N_WARDS:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if outline.contains(shapely.Point(x, y)):
            seeds.append((x, y))
    return np.array(seeds)


def voronoi_cells(seeds: np.ndarray, outline: shapely.Polygon) -> list:
    """Return the Voronoi cell of each seed clipped to ``outline``, in seed order."""
    frame = outline.envelope.buffer(0.05)
    cells = shapely.voronoi_polygons(
        shapely.MultiPoint(seeds), extend_to=frame, ordered=True
    )
    return [cell.intersection(outline) for cell in cells.geoms]


def relax(seeds: np.ndarray, outline: shapely.Polygon) -> np.ndarray:
    """Move each seed to the centre of its cell, which evens out cell sizes."""
    for _ in range(N_LLOYD_ROUNDS):
        centres = []
        for cell in voronoi_cells(seeds, outline):
            centre = cell.centroid
            if not outline.contains(centre):
                centre = cell.point_on_surface()
            centres.append((centre.x, centre.y))
        seeds = np.array(centres)
    return seeds


def _outline_edges() -> list[tuple[np.ndarray, np.ndarray, int]]:
    """Return (start, lattice step, n_steps) per outline edge, in grid units."""
    scale = GRID_PER_DEGREE // 1000
    corners = [np.array(c, dtype=np.int64) * scale for c in OUTLINE_MILLIDEG]
    edges = []
    for start, end in zip(corners, corners[1:] + corners[:1], strict=True):
        delta = end - start
        n_steps = math.gcd(int(delta[0]), int(delta[1]))
        edges.append((start, delta // n_steps, n_steps))
    return edges


def _snap_vertex(point: np.ndarray, edges: list) -> tuple[int, int]:
    """Put one vertex on the grid, keeping it on the outline if it lay there.

    ``point`` is in grid units (degrees times ``GRID_PER_DEGREE``).
    """
    for start, step, n_steps in edges:
        offset = point - start
        along = float(offset @ step) / float(step @ step)
        if not -0.5 <= along <= n_steps + 0.5:
            continue
        # Cross product over the step length is the distance to the edge line.
        off_line = abs(offset[0] * step[1] - offset[1] * step[0])
        if off_line / math.hypot(*step) < 1e-3:
            k = min(max(round(along), 0), n_steps)
            on_edge = start + k * step
            return int(on_edge[0]), int(on_edge[1])
    return round(point[0]), round(point[1])


def snap_to_grid(cell: shapely.Polygon, edges: list) -> shapely.Polygon:
    """Return ``cell`` with every vertex on the output grid."""
    ring = []
    for x, y in cell.exterior.coords[:-1]:
        vertex = _snap_vertex(np.array([x, y]) * GRID_PER_DEGREE, edges)
        if not ring or ring[-1] != vertex:
            ring.append(vertex)
    if ring[0] == ring[-1]:
        ring.pop()
    coords = [(x / GRID_PER_DEGREE, y / GRID_PER_DEGREE) for x, y in ring]
    return shapely.orient_polygons(shapely.Polygon(coords))


def build_wards(seed: int = SEED) -> list[dict]:
    """Return the ward records, north to south, each with code, name and geometry.

    Raises
    ------
    RuntimeError
        If a cell is split in two by the outline or ends up invalid; pick
        another ``seed`` if that happens.
    """
    rng = np.random.default_rng(seed)
    outline = make_outline()
    seeds = relax(sample_seeds(outline, rng), outline)
    cells = voronoi_cells(seeds, outline)
    if any(cell.geom_type != "Polygon" for cell in cells):
        raise RuntimeError(f"seed {seed} gives a ward in several pieces")

    edges = _outline_edges()
    cells = [snap_to_grid(cell, edges) for cell in cells]
    cells.sort(key=lambda cell: -cell.point_on_surface().y)
    wards = _label(cells, rng)
    check_tiling([ward["geometry"] for ward in wards], outline)
    return wards


def _label(cells: list, rng: np.random.Generator) -> list[dict]:
    """Attach code, name and a made-up population to cells sorted north to south."""
    populations = rng.integers(180_000, 820_000, size=len(cells))
    wards = []
    for i, (cell, name) in enumerate(zip(cells, WARD_NAMES, strict=True)):
        number = i + 1
        wards.append(
            {
                "code": f"W{number:02d}",
                "name": f"Ward {number} \N{EN DASH} {name}",
                "population": int(populations[i]),
                "geometry": cell,
            }
        )
    return wards


def check_tiling(cells: list, outline: shapely.Polygon) -> None:
    """Raise ``RuntimeError`` unless ``cells`` tile ``outline`` exactly."""
    if not all(cell.is_valid and cell.geom_type == "Polygon" for cell in cells):
        raise RuntimeError("a ward is not a single valid polygon")
    gap = shapely.union_all(cells).symmetric_difference(outline).area
    overlap = sum(cell.area for cell in cells) - outline.area
    if gap > 1e-12 or abs(overlap) > 1e-12:
        raise RuntimeError(f"wards leave gaps ({gap:g}) or overlap ({overlap:g})")


def write_geojson(wards: list[dict], path: Path) -> None:
    """Write ``wards`` as a GeoJSON FeatureCollection, one feature per line."""
    lines = []
    for ward in wards:
        properties = {k: v for k, v in ward.items() if k != "geometry"}
        feature = {
            "type": "Feature",
            "properties": properties,
            "geometry": mapping(ward["geometry"]),
        }
        lines.append(json.dumps(feature, ensure_ascii=False))
    header = '{"type": "FeatureCollection", "name": "demo_wards", "features": [\n'
    path.write_text(header + ",\n".join(lines) + "\n]}\n", encoding="utf-8")


def main() -> None:
    """Build the demo wards and write them next to this script."""
    wards = build_wards()
    write_geojson(wards, OUTPUT_PATH)
    print(f"wrote {len(wards)} wards to {OUTPUT_PATH}")


if __name__ == "__main__":
    main()
