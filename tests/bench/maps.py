"""Time to draw the compliance map of all Dutch municipalities and provinces (for development: the real
boundary files are not part of the project).

    .venv/bin/python -m tests.bench.maps GEMEENTEN.geojson PROVINCIES.geojson
"""
from __future__ import annotations

import json
import random
import sys
import time

from reports import maps
from reports.page import page
from reports.standards import State, all_together, load_standards


def main() -> None:
    gemeenten, provincies = sys.argv[1:3]
    started = time.perf_counter()
    loaded = maps.load_maps({"gemeente": gemeenten, "provincie": provincies})
    projected = time.perf_counter()
    random.seed(1)
    standard = all_together(load_standards())
    rows = []
    for kind, path in (("gemeente", gemeenten), ("provincie", provincies)):
        for feature in json.load(open(path, encoding="utf-8"))["features"]:
            code, name = feature["properties"]["statcode"], feature["properties"]["statnaam"]
            for check in standard.checks[:10]:
                rows.append(State(f"www.{code.lower()}.nl", check, random.choice(("pass", "pass", "warn", "fail",
                                                                                    "error")), code, name, kind))
    html = page("Kaart", maps.render_section(standard, rows, loaded))
    rendered = time.perf_counter()
    areas = sum(len(b.areas) for b, _ in loaded.values())
    print(f"{areas} areas: load and project {1000 * (projected - started):.0f} ms, "
          f"render {1000 * (rendered - projected):.0f} ms, page {len(html) / 1000:.0f} kB")


if __name__ == "__main__":
    main()
