"""Compliance maps: the colour rule of the spec ("Scores and colours"), legend, attribution, boundaries."""
import json
import re

import pytest

from reports import boundaries, maps
from reports.standards import ALL, Colour, Standard, State, all_together, colour, complies, load_standards
from govscan.model import Text

HTTPS = Standard("https", Text("HTTPS", "HTTPS"), "", ("web.https.hsts", "web.https.redirect"))
DNSSEC = Standard("dnssec", Text("DNSSEC", "DNSSEC"), "", ("dns.dnssec",))


def gm(code, name, host, check, status, kind="gemeente"):
    return State(host, check, status, code, name, kind)


@pytest.mark.parametrize("statuses, expected", [
    (["pass", "fail", "warn"], Colour.RED),
    (["pass", "warn"], Colour.ORANGE),
    (["pass", "pass", "not_applicable", "info"], Colour.GREEN),
    (["error", "not_applicable", "info"], Colour.GREY),
    ([], Colour.GREY),
    (["error", "pass"], Colour.GREEN),   # an error is left out, never red
    (["error", "warn"], Colour.ORANGE),
])
def test_colour_is_the_worst_required_result(statuses, expected):
    assert colour(statuses) == expected


def test_errors_never_colour_red():
    assert colour(["error"] * 5) != Colour.RED
    assert complies(["error", "pass"]) is None  # and count neither way for adoption


@pytest.mark.parametrize("statuses, expected", [
    (["pass", "pass"], True), (["pass", "warn"], True), (["pass", "fail"], False), (["fail", "error"], False),
    (["pass", "error"], None), (["not_applicable"], None), ([], None)])
def test_complies(statuses, expected):
    assert complies(statuses) is expected


def test_organisation_colour_covers_all_its_sites_and_only_the_standards_checks():
    rows = [gm("GM0001", "A", "a.nl", "web.https.hsts", "pass"), gm("GM0001", "A", "b.a.nl", "web.https.hsts", "warn"),
            gm("GM0001", "A", "a.nl", "dns.dnssec", "fail"),
            gm("GM0002", "B", "b.nl", "web.https.hsts", "error"), gm("GM0002", "B", "b.nl", "dns.dnssec", "pass")]
    https = maps.organisation_results(rows, HTTPS)
    assert https["GM0001"].colour == Colour.ORANGE and https["GM0001"].sites == 2
    assert https["GM0001"].warning == ["b.a.nl: web.https.hsts"]
    assert https["GM0002"].colour == Colour.GREY
    together = maps.organisation_results(rows, all_together([HTTPS, DNSSEC]))
    assert together["GM0001"].colour == Colour.RED and together["GM0001"].failing == ["a.nl: dns.dnssec"]
    assert together["GM0002"].colour == Colour.GREEN


def test_standards_file_lists_known_check_ids():
    standards = load_standards()
    ids = [s.id for s in standards]
    assert len(ids) == len(set(ids)) and ALL not in ids
    assert {"https", "tls", "dnssec", "ipv6", "security_txt", "dane", "tracking", "accessibility"} <= set(ids)
    assert all(re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9_]+)+", c) for s in standards for c in s.checks)


@pytest.fixture(scope="module")
def lab_maps():
    return maps.load_maps(lab=True)


def test_lab_boundaries_have_the_lab_codes(lab_maps):
    gemeenten, _ = lab_maps["gemeente"]
    provincies, _ = lab_maps["provincie"]
    assert {"GM9901", "GM9902"} <= set(gemeenten.areas)
    assert set(provincies.areas) == {"PV99"}
    assert gemeenten.attribution == boundaries.LAB_ATTRIBUTION


def test_section_colours_areas_by_rule_with_legend_table_and_attribution(lab_maps):
    rows = [gm("GM9901", "Noordstad", "www.noordstad.nl", "dns.dnssec", "fail"),
            gm("GM9902", "Zuiderwaard", "www.zuiderwaard.nl", "dns.dnssec", "warn"),
            gm("GM9903", "Oosterveld", "www.oosterveld.nl", "dns.dnssec", "pass"),
            gm("GM9904", "Westerhaven", "www.westerhaven.nl", "dns.dnssec", "error"),
            gm("PV99", "Provincie Labland", "www.labland.nl", "dns.dnssec", "pass", "provincie"),
            gm("WS9901", "Waterschap Lab", "www.ws-lab.nl", "dns.dnssec", "fail", "waterschap")]
    html = maps.render_section(DNSSEC, rows, lab_maps, lang="nl")
    result = dict(re.findall(r'data-code="(\w+)" data-result="(\w+)"', html))
    assert result["GM9901"] == "red" and result["GM9902"] == "orange" and result["GM9903"] == "green"
    assert result["GM9904"] == "grey"  # the error did not make it red
    assert result["GM9905"] == maps.NOT_SCANNED and result["PV99"] == "green"
    assert "Legenda" in html and "Voldoet niet (1)" in html and "Niet gescand (56)" in html
    assert boundaries.LAB_ATTRIBUTION in html
    assert "Waterschap Lab" in html.split("Organisaties zonder gebied op de kaart")[-1]
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    # every area names its result in text, not only in colour
    assert "<title>Noordstad (GM9901): Voldoet niet</title>" in html


def test_english_labels(lab_maps):
    rows = [gm("GM9901", "Noordstad", "www.noordstad.nl", "dns.dnssec", "fail")]
    html = maps.render_section(DNSSEC, rows, lab_maps, lang="en")
    assert "Legend" in html and "Fails (1)" in html and "Municipalities" in html


def test_palette_differs_in_lightness():
    def luminance(hex_colour):
        channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    values = sorted(luminance(fill) for fill, _, _ in maps.PALETTE.values())
    ratios = [(b + 0.05) / (a + 0.05) for a, b in zip(values, values[1:])]
    assert min(ratios) >= 1.3


def test_rd_new_coordinates_are_recognised_and_projected(tmp_path):
    square = [[[100000, 400000], [110000, 400000], [110000, 410000], [100000, 410000], [100000, 400000]]]
    collection = {"type": "FeatureCollection",
                  "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
                  "features": [{"type": "Feature", "properties": {"statcode": "GM0001", "statnaam": "X"},
                                "geometry": {"type": "Polygon", "coordinates": square}}]}
    assert boundaries.is_rd_new(collection)
    projected, height = boundaries.project(collection, 100)
    assert height == pytest.approx(100)
    assert projected.areas["GM0001"].rings[0][0] == (0.0, 100.0)  # south-west corner at the bottom left
    del collection["crs"]
    assert boundaries.is_rd_new(collection)


def test_lon_lat_multipolygons_project_and_simplify():
    ring = [[4.0 + 0.001 * i, 52.0] for i in range(100)] + [[4.1, 52.1], [4.0, 52.1], [4.0, 52.0]]
    island = [[5.0, 53.0], [5.01, 53.0], [5.01, 53.01], [5.0, 53.0]]
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"statcode": "GM0002", "statnaam": "Y"},
         "geometry": {"type": "MultiPolygon", "coordinates": [[ring], [island]]}}]}
    assert not boundaries.is_rd_new(collection)
    projected, _ = boundaries.project(collection, 500, tolerance=0.5)
    rings = projected.areas["GM0002"].rings
    assert len(rings) == 2
    assert len(rings[0]) < 10  # the straight southern edge collapsed to its ends


def test_without_files_the_maps_use_the_shipped_boundaries_of_every_municipality_and_province(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("network used")

    monkeypatch.setattr("httpx.get", no_network)
    drawn = maps.load_maps()
    assert len(drawn["gemeente"][0].areas) == 342 and len(drawn["provincie"][0].areas) == 12
    assert "GM0363" in drawn["gemeente"][0].areas and "PV27" in drawn["provincie"][0].areas
    assert drawn["gemeente"][0].attribution == boundaries.ATTRIBUTION
