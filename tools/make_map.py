"""Regenerate s3site/data/europe-map.json, the country map of Europe.

Run from the repository root:  python tools/make_map.py

The geometry comes from the npm package `world-atlas` (Natural Earth, public
domain), which this script installs into the git-ignored folder `.tools/`.
Only this script needs npm and a network; the site build reads the JSON file.

Steps, with the standard library only: decode the TopoJSON arcs, project them
with a spherical Lambert azimuthal equal-area projection centred on 10°E 52°N
(the centre of Eurostat's ETRS89-LAEA), simplify each shared arc once
(Douglas-Peucker, so neighbours keep identical borders), join the arcs into
rings, clip the rings to a window around Europe, round them to a grid and
write them as compact SVG path data keyed by the country codes that NUTS uses
(EL for Greece, UK for the United Kingdom).  Land outside the listed
countries but inside the window (North Africa, the Near East, Andorra...) is
merged into one borderless "context" path drawn as a backdrop.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools"
VERSION = "2.0.2"  # world-atlas 2.0.2 is Natural Earth 4.1.0
OUTPUT = ROOT / "s3site" / "data" / "europe-map.json"

Point = tuple[float, float]
Ring = list[Point]

# ISO 3166-1 numeric ids used by world-atlas -> country codes used by NUTS.
CODES: dict[str, str] = {
    # EU-27
    "040": "AT", "056": "BE", "100": "BG", "191": "HR", "196": "CY", "203": "CZ",
    "208": "DK", "233": "EE", "246": "FI", "250": "FR", "276": "DE", "300": "EL",
    "348": "HU", "372": "IE", "380": "IT", "428": "LV", "440": "LT", "442": "LU",
    "470": "MT", "528": "NL", "616": "PL", "620": "PT", "642": "RO", "703": "SK",
    "705": "SI", "724": "ES", "752": "SE",
    # EFTA and the United Kingdom
    "352": "IS", "438": "LI", "578": "NO", "756": "CH", "826": "UK",
    # candidates and potential candidates
    "008": "AL", "070": "BA", "268": "GE", "498": "MD", "499": "ME", "688": "RS",
    "792": "TR", "804": "UA", "807": "MK",
    # other neighbours, drawn as countries without practices
    "112": "BY", "643": "RU",
    # parts merged into the country that NUTS puts them in
    "248": "FI",  # Åland
}
# world-atlas gives these no numeric id.
NAMED: dict[str, str] = {"Kosovo": "XK", "N. Cyprus": "CY"}

# The window, in kilometres of the projection (x east, y north of 10°E 52°N):
# from Iceland and Cabo da Roca to the east of Turkey, from Crete and Malta to
# the North Cape.  Outside it: Svalbard, the Azores, Madeira, the Canaries and
# the overseas regions.
WINDOW = (-1750.0, -1920.0, 3000.0, 2260.0)  # west, south, east, north
RADIUS = 6371.0  # km, authalic sphere is close enough at this scale
KM_PER_UNIT = 4.0  # one unit of the viewBox
MARGIN = 4.0  # units: rings are clipped this far outside the viewBox
TOLERANCE = 0.5  # units: Douglas-Peucker tolerance
MIN_AREA = 4.0  # units²: smaller islands, holes and specks are dropped


def fetch_atlas(resolution: str) -> dict:
    """Install world-atlas into .tools/ if needed and load its country file."""
    package = TOOLS / "node_modules" / "world-atlas"
    manifest = package / "package.json"
    installed = json.loads(manifest.read_text())["version"] if manifest.exists() else None
    if installed != VERSION:
        subprocess.run(
            ["npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(TOOLS),
             f"world-atlas@{VERSION}"],
            check=True,
        )
    return json.loads((package / f"countries-{resolution}.json").read_text(encoding="utf-8"))


def project(lon: float, lat: float) -> Point:
    """Lambert azimuthal equal-area, centred on 10°E 52°N, in viewBox units (y down)."""
    lam = math.radians(lon - 10.0)
    phi, phi1 = math.radians(lat), math.radians(52.0)
    k = math.sqrt(2.0 / (1.0 + math.sin(phi1) * math.sin(phi)
                         + math.cos(phi1) * math.cos(phi) * math.cos(lam)))
    x = RADIUS * k * math.cos(phi) * math.sin(lam)
    y = RADIUS * k * (math.cos(phi1) * math.sin(phi)
                      - math.sin(phi1) * math.cos(phi) * math.cos(lam))
    west, _, _, north = WINDOW
    return (x - west) / KM_PER_UNIT, (north - y) / KM_PER_UNIT


def decode_arcs(topology: dict) -> list[Ring]:
    """Undo the delta encoding and quantisation of every arc, and project it."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append(project(x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def simplify(points: Ring, tolerance: float) -> Ring:
    """Douglas-Peucker, keeping both ends (iterative, so long arcs do not recurse deeply)."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (ax, ay), (bx, by) = points[first], points[last]
        dx, dy = bx - ax, by - ay
        length = math.hypot(dx, dy)
        best, index = tolerance, -1
        for i in range(first + 1, last):
            px, py = points[i]
            if length:
                distance = abs(dx * (ay - py) - dy * (ax - px)) / length
            else:  # a closed arc: measure from its start
                distance = math.hypot(px - ax, py - ay)
            if distance > best:
                best, index = distance, i
        if index >= 0:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def arc_points(arcs: Sequence[Ring], ref: int) -> Ring:
    """The points of an arc reference; ~i means arc i reversed."""
    return arcs[ref] if ref >= 0 else arcs[~ref][::-1]


def merged_rings(arcs: Sequence[Ring], rings: Iterable[list[int]]) -> list[Ring]:
    """Join rings given as arc references, dropping arcs that two of them share.

    Dropping the shared arcs dissolves inner borders (Cyprus and the north of
    the island, the context land).  The remaining arcs are chained end to
    start into closed rings; any way of chaining them gives the same
    non-zero winding, so the fill is right even at pinch points.
    """
    refs = [ref for ring in rings for ref in ring]
    uses: dict[int, int] = defaultdict(int)
    for ref in refs:
        uses[ref if ref >= 0 else ~ref] += 1
    kept = [ref for ref in refs if uses[ref if ref >= 0 else ~ref] == 1]
    starting: dict[Point, list[int]] = defaultdict(list)
    for ref in kept:
        starting[arc_points(arcs, ref)[0]].append(ref)
    result = []
    for ref in kept:
        begin = arc_points(arcs, ref)[0]
        if ref not in starting[begin]:
            continue  # already chained
        ring: Ring = []
        while ref is not None:
            starting[arc_points(arcs, ref)[0]].remove(ref)
            points = arc_points(arcs, ref)
            ring += points if not ring else points[1:]
            following = starting.get(points[-1])
            ref = following[0] if following else None
        result.append(ring)
    return result


def clip(ring: Ring, box: tuple[float, float, float, float]) -> Ring:
    """Sutherland-Hodgman clipping of a ring to an axis-aligned box."""
    west, north, east, south = box  # y grows downwards
    edges = [
        (lambda p: p[0] >= west, 0, west),
        (lambda p: p[0] <= east, 0, east),
        (lambda p: p[1] >= north, 1, north),
        (lambda p: p[1] <= south, 1, south),
    ]
    for inside, axis, value in edges:
        if not ring:
            break
        out: Ring = []
        previous = ring[-1]
        for point in ring:
            if inside(point) != inside(previous):
                t = (value - previous[axis]) / (point[axis] - previous[axis])
                crossing = (previous[0] + t * (point[0] - previous[0]),
                            previous[1] + t * (point[1] - previous[1]))
                out.append((value, crossing[1]) if axis == 0 else (crossing[0], value))
            if inside(point):
                out.append(point)
            previous = point
        ring = out
    return ring


def area(ring: Sequence[Point]) -> float:
    """Signed area (shoelace formula)."""
    return sum(ax * by - bx * ay for (ax, ay), (bx, by) in pairwise([*ring, ring[0]])) / 2


def path_data(rings: Iterable[Sequence[tuple[int, int]]]) -> str:
    """SVG path data: an absolute move to each ring, then relative lines."""
    parts = []
    for ring in rings:
        steps = " ".join(f"{bx - ax} {by - ay}" for (ax, ay), (bx, by) in pairwise(ring))
        parts.append(f"M{ring[0][0]} {ring[0][1]}l{steps}z")
    return "".join(parts).replace(" -", "-")  # a minus sign separates numbers too


def finish(rings: Iterable[Ring], keep_largest: bool) -> str:
    """Clip, round, drop specks and small holes, and write path data."""
    west, north, east, south = view_box()
    box = (west - MARGIN, north - MARGIN, east + MARGIN, south + MARGIN)
    clipped = [c for c in (clip(r, box) for r in rings) if len(c) >= 3]
    if not clipped:
        return ""
    largest = max(clipped, key=lambda r: abs(area(r)))
    outer = math.copysign(1.0, area(largest))
    done = []
    for ring in clipped:
        rounded: list[tuple[int, int]] = []
        for x, y in ring:
            point = (round(x), round(y))
            if not rounded or point != rounded[-1]:
                rounded.append(point)
        while len(rounded) > 1 and rounded[0] == rounded[-1]:
            rounded.pop()
        signed = area(rounded) if len(rounded) >= 3 else 0.0
        hole = signed * outer < 0  # holes wind the other way
        big = abs(signed) >= (4 * MIN_AREA if hole else MIN_AREA)
        if big or (keep_largest and ring is largest and len(rounded) >= 3):
            done.append(rounded)
    done.sort(key=lambda r: (-abs(area(r)), r))
    return path_data(done)


def view_box() -> tuple[float, float, float, float]:
    """The viewBox as (left, top, right, bottom) in units."""
    west, south, east, north = WINDOW
    return 0.0, 0.0, (east - west) / KM_PER_UNIT, (north - south) / KM_PER_UNIT


def in_window(arcs: Sequence[Ring], rings: Iterable[list[int]]) -> bool:
    """Whether any point of these rings falls inside the viewBox."""
    _, _, right, bottom = view_box()
    return any(
        0 <= x <= right and 0 <= y <= bottom
        for ring in rings for ref in ring for x, y in arc_points(arcs, ref)
    )


def geometry_rings(geometry: dict) -> list[list[int]]:
    """All rings (outer and holes) of a Polygon or MultiPolygon, as arc references."""
    if geometry.get("type") == "Polygon":
        return list(geometry["arcs"])
    if geometry.get("type") == "MultiPolygon":
        return [ring for polygon in geometry["arcs"] for ring in polygon]
    return []


def build(topology: dict) -> dict:
    """The map document: viewBox, per-country path data and the context path."""
    arcs = [simplify(arc, TOLERANCE) for arc in decode_arcs(topology)]
    groups: dict[str, list[list[int]]] = defaultdict(list)
    context: list[list[int]] = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        code = CODES.get(geometry.get("id") or "") or NAMED.get(geometry["properties"]["name"])
        rings = geometry_rings(geometry)
        if code:
            groups[code] += rings
        elif in_window(arcs, rings):
            context += rings
    countries = {}
    for code in sorted(groups):
        countries[code] = finish(merged_rings(arcs, groups[code]), keep_largest=True)
    _, _, right, bottom = view_box()
    return {
        "projection": "Lambert azimuthal equal-area, sphere, centre 10E 52N",
        "viewBox": f"0 0 {round(right)} {round(bottom)}",
        "countries": {code: d for code, d in countries.items() if d},
        "context": finish(merged_rings(arcs, context), keep_largest=False),
    }


def main(argv: list[str] | None = None) -> int:
    """Write the map JSON and print its size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", choices=["50m", "110m"], default="50m")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    document = build(fetch_atlas(args.resolution))
    document["source"] = (f"Natural Earth 1:{args.resolution} via world-atlas {VERSION},"
                          " public domain; see MAP-SOURCE.md")
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    args.output.write_text(text + "\n", encoding="utf-8")
    print(f"{args.output}: {len(document['countries'])} countries, "
          f"{len(text.encode()) / 1024:.1f} KiB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
