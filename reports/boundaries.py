"""Area boundaries for the compliance maps: GeoJSON with CBS codes (`statcode`, such as GM0363 or PV27),
projected to SVG path data.

Boundaries come from a file the user gives, else from the copy of the CBS gebiedsindelingen 2025 (via
PDOK, CC BY 4.0) shipped in config/boundaries (see its SOURCE.md): reports never go to the network.
Coordinates may be WGS84 lon/lat (EPSG:4326, as most published GeoJSON) or
RD New metres (EPSG:28992, PDOK's default). Paths are simplified to the map's pixel size so that all
municipalities render fast as one static SVG.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from govscan.paths import package_data

LAB_BOUNDARIES = {
    "gemeente": package_data("boundaries", "lab-gemeenten.geojson"),
    "provincie": package_data("boundaries", "lab-provincies.geojson"),
}
NL_BOUNDARIES = {
    "gemeente": package_data("boundaries", "gemeente_2025.geojson"),
    "provincie": package_data("boundaries", "provincie_2025.geojson"),
}
ATTRIBUTION = "Grenzen: CBS/Kadaster via PDOK (CC BY 4.0)"
LAB_ATTRIBUTION = "Grenzen: fictieve labgebieden van govscan"


@dataclass
class Area:
    """One area: its CBS code, its name and its outline as rings of projected (x, y) points."""

    code: str
    name: str
    rings: list[list[tuple[float, float]]]


@dataclass
class Boundaries:
    areas: dict[str, Area]
    attribution: str


def is_rd_new(collection: dict) -> bool:
    """Whether the collection is in RD New metres: a `crs` naming EPSG 28992, or coordinates far beyond
    the range of degrees (older GeoJSON writers omit the crs member)."""
    crs = json.dumps(collection.get("crs") or {})
    if "28992" in crs:
        return True
    for feature in collection.get("features", []):
        for ring in _rings(feature.get("geometry") or {}):
            return any(abs(x) > 360 for x, _ in ring[:5])
    return False


def _rings(geometry: dict) -> list[list[list[float]]]:
    kind, coords = geometry.get("type"), geometry.get("coordinates") or []
    if kind == "Polygon":
        return list(coords)
    if kind == "MultiPolygon":
        return [ring for polygon in coords for ring in polygon]
    return []


def load(path: Path | str, attribution: str = ATTRIBUTION) -> tuple[dict, str]:
    """Read a GeoJSON FeatureCollection; returns it with its attribution line."""
    with open(path, encoding="utf-8") as fh:
        collection = json.load(fh)
    if collection.get("type") != "FeatureCollection":
        raise ValueError(f"{path}: not a GeoJSON FeatureCollection")
    return collection, collection.get("attribution", attribution)


def project(collection: dict, width: float, attribution: str = ATTRIBUTION,
            tolerance: float = 0.5) -> tuple[Boundaries, float]:
    """Project every feature to SVG pixels `width` wide; returns the boundaries and the map's height.

    Lon/lat is drawn equirectangular with longitude scaled by the cosine of the middle latitude (close to
    RD New for a country the size of the Netherlands); RD New metres are drawn as they are. North is up.
    Rings are simplified (Douglas-Peucker) to `tolerance` pixels."""
    rd = is_rd_new(collection)
    features = [f for f in collection.get("features", []) if f.get("geometry")]
    raw = [(f, _rings(f["geometry"])) for f in features]
    xs = [p[0] for _, rings in raw for ring in rings for p in ring]
    ys = [p[1] for _, rings in raw for ring in rings for p in ring]
    if not xs:
        return Boundaries({}, attribution), 0.0
    x_scale = 1.0 if rd else math.cos(math.radians((min(ys) + max(ys)) / 2))
    span_x = (max(xs) - min(xs)) * x_scale or 1.0
    span_y = (max(ys) - min(ys)) or 1.0
    scale = width / span_x
    height = span_y * scale
    x0, y1 = min(xs), max(ys)

    areas: dict[str, Area] = {}
    for feature, rings in raw:
        props = feature.get("properties") or {}
        code = str(props.get("statcode") or feature.get("id") or "").strip()
        if not code:
            continue
        projected, originals = [], []
        for ring in rings:
            points = [((x - x0) * x_scale * scale, (y1 - y) * scale) for x, y, *_ in ring]
            originals.append(points)
            simple = simplify(points, tolerance)
            if len(simple) >= 4:  # a closed ring with at least three corners
                projected.append(simple)
        if not projected and originals:  # a tiny area is drawn unsimplified rather than lost
            projected = [max(originals, key=len)]
        area = areas.setdefault(code, Area(code, str(props.get("statnaam") or code), []))
        area.rings.extend(projected)
    return Boundaries(areas, attribution), height


def simplify(points: list[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    """Douglas-Peucker on one ring (iterative, so long rings cannot overflow the stack)."""
    if len(points) < 4:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    limit = tolerance * tolerance
    while stack:
        first, last = stack.pop()
        (ax, ay), (bx, by) = points[first], points[last]
        dx, dy = bx - ax, by - ay
        length = dx * dx + dy * dy
        farthest, index = -1.0, -1
        for i in range(first + 1, last):
            px, py = points[i]
            if length == 0:
                distance = (px - ax) ** 2 + (py - ay) ** 2
            else:
                cross = dx * (py - ay) - dy * (px - ax)
                distance = cross * cross / length
            if distance > farthest:
                farthest, index = distance, i
        if farthest > limit:
            keep[index] = True
            stack.append((first, index))
            stack.append((index, last))
    return [p for p, k in zip(points, keep) if k]


def path_data(area: Area) -> str:
    """SVG path data for an area, one decimal (a tenth of a pixel is invisible)."""
    parts = []
    for ring in area.rings:
        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in ring)
        parts.append(f"M{coords}Z")
    return "".join(parts)
