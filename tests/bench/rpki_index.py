"""The RPKI index at full size: how long reading and indexing a routing table of about a million prefixes
and a realistic VRP file takes, the memory it holds, and how many address lookups (the announced route and
the ROAs covering it, scanner/probes/rpki.py) it answers per second. Not a test: `python -m
tests.bench.rpki_index` prints one line for the README ("RPKI index") and the figures as JSON.

The files are generated (seeded) in the real formats, with the proportions of the global table in 2026:
about 1,000,000 IPv4 routes (most of them /24s, the rest /8 to /23) and 230,000 IPv6 routes (/19 to /48, most
/32, /44 and /48), some multi-origin, and a VRP for about half of the routes (mostly of the same prefix,
some less specific with a larger maxLength). Lookups are for random addresses inside announced prefixes.
"""
from __future__ import annotations

import argparse
import gc
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scanner.config import RpkiSettings
from scanner.probes.rpki import load_tables, parse_address

IPV4_LENGTHS = [(24, 60), (23, 8), (22, 12), (21, 5), (20, 5), (19, 3), (18, 2), (17, 1), (16, 3), (12, 1)]
IPV6_LENGTHS = [(48, 55), (44, 8), (40, 5), (36, 4), (32, 24), (29, 3), (28, 1)]


def pick(rng: random.Random, weights: list[tuple[int, int]]) -> int:
    return rng.choices([length for length, _ in weights], [w for _, w in weights])[0]


def generate(folder: Path, ipv4: int, ipv6: int, seed: int = 1) -> tuple[Path, Path]:
    """The routes file (CAIDA pfx2as) and the VRP file (Routinator JSON)."""
    rng = random.Random(seed)
    routes, roas = [], []
    for family, count, lengths, bits in ((4, ipv4, IPV4_LENGTHS, 32), (6, ipv6, IPV6_LENGTHS, 128)):
        for _ in range(count):
            length = pick(rng, lengths)
            if family == 4:
                value = rng.randrange(1 << 24, 224 << 24) >> (bits - length) << (bits - length)
                text = ".".join(str(value >> shift & 255) for shift in (24, 16, 8, 0))
            else:
                value = (1 << 125 | rng.getrandbits(125)) >> (bits - length) << (bits - length)  # in 2000::/3
                groups = [f"{value >> shift & 0xFFFF:x}" for shift in range(112, -1, -16)]
                text = ":".join(groups)
            origin = rng.randrange(1, 400000)
            origins = f"{origin}_{origin + 1}" if rng.random() < 0.01 else str(origin)
            routes.append(f"{text}\t{length}\t{origins}\n")
            if rng.random() < 0.5:
                if rng.random() < 0.8 or length < 9:
                    roas.append({"asn": f"AS{origin}", "prefix": f"{text}/{length}", "maxLength": length, "ta": "ripe"})
                else:
                    wider = length - rng.randrange(1, 4)
                    cut = value >> (bits - wider) << (bits - wider)
                    cut_text = (".".join(str(cut >> s & 255) for s in (24, 16, 8, 0)) if family == 4
                                else ":".join(f"{cut >> s & 0xFFFF:x}" for s in range(112, -1, -16)))
                    roas.append({"asn": origin, "prefix": f"{cut_text}/{wider}", "maxLength": length, "ta": "arin"})
    routes_file, vrp_file = folder / "pfx2as.txt", folder / "vrps.json"
    routes_file.write_text("".join(routes))
    vrp_file.write_text(json.dumps({"roas": roas}))
    return routes_file, vrp_file


def rss_mb() -> float:
    """This process's resident memory now (the tables' own size shows as the difference)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def address_text(family: int, value: int) -> str:
    if family == 4:
        return ".".join(str(value >> shift & 255) for shift in (24, 16, 8, 0))
    return ":".join(f"{value >> shift & 0xFFFF:x}" for shift in range(112, -1, -16))


def sample_addresses(routes_file: Path, count: int) -> list[str]:
    """Random addresses inside randomly chosen routes of the file (either format it accepts)."""
    rng = random.Random(2)
    lines = [line.split() for line in routes_file.read_text().splitlines() if line and not line.startswith("#")]
    addresses = []
    for fields in rng.choices(lines, k=count):
        address, length = fields[0].split("/") if len(fields) == 2 else fields[:2]
        family, value = parse_address(address)
        free = (32 if family == 4 else 128) - int(length)
        addresses.append(address_text(family, value | rng.getrandbits(free) if free else value))
    return addresses


def measure(vrp_file: Path, routes_file: Path, lookups: int) -> dict:
    """Read and index both files in this (fresh) process, then look up random announced addresses."""
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    tables = load_tables(RpkiSettings(vrp_file=str(vrp_file), routes_file=str(routes_file)))
    build = time.perf_counter() - started
    gc.collect()
    held = rss_mb() - before
    addresses = sample_addresses(routes_file, lookups)
    started = time.perf_counter()
    found = sum(tables.lookup(address)["route"] is not None for address in addresses)
    rate = len(addresses) / (time.perf_counter() - started)
    return {"routes": tables.files["routes_file"]["entries"], "vrps": tables.files["vrp_file"]["entries"],
            "routes_file_mb": round(routes_file.stat().st_size / 2**20, 1),
            "vrp_file_mb": round(vrp_file.stat().st_size / 2**20, 1), "build_seconds": round(build, 2),
            "memory_held_mb": round(held), "lookups": len(addresses), "found": found,
            "lookups_per_second": round(rate)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ipv4", type=int, default=1_000_000)
    parser.add_argument("--ipv6", type=int, default=230_000)
    parser.add_argument("--lookups", type=int, default=200_000)
    parser.add_argument("--files", nargs=2, metavar=("VRP_FILE", "ROUTES_FILE"),
                        help="measure these files (a real export) instead of generated ones")
    args = parser.parse_args()
    if args.files:
        figures = measure(Path(args.files[0]), Path(args.files[1]), args.lookups)
    else:
        with tempfile.TemporaryDirectory() as folder:
            routes_file, vrp_file = generate(Path(folder), args.ipv4, args.ipv6)
            # a fresh process, so the memory the generator used is not counted or reused
            done = subprocess.run([sys.executable, "-m", "tests.bench.rpki_index", "--lookups", str(args.lookups),
                                   "--files", str(vrp_file), str(routes_file)],
                                  capture_output=True, text=True, check=True)
            figures = json.loads(done.stdout.splitlines()[-1])
    print(f"{figures['routes']:,} routes and {figures['vrps']:,} VRPs read and indexed in "
          f"{figures['build_seconds']:.1f} s, holding {figures['memory_held_mb']} MB; "
          f"{figures['lookups_per_second']:,} lookups per second (route and covering ROAs)")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
