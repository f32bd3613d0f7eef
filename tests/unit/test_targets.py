"""Site list parsing: normalisation, de-duplication and per-row problems (scanner/targets.py)."""
import pytest

from govscan.model import Organisation
from scanner.targets import Problem, TargetsError, load, parse_lines, parse_organisation, parse_target


@pytest.mark.parametrize("text, url, host", [
    ("www.example.nl", "https://www.example.nl/", "www.example.nl"),            # host only: https://host/
    ("WWW.Example.NL", "https://www.example.nl/", "www.example.nl"),            # lower case
    ("www.example.nl.", "https://www.example.nl/", "www.example.nl"),           # trailing dot
    ("https://www.example.nl./", "https://www.example.nl/", "www.example.nl"),
    ("bücher.nl", "https://xn--bcher-kva.nl/", "xn--bcher-kva.nl"),            # IDN to punycode
    ("HTTPS://Gemeente-Süd.NL/Contact", "https://xn--gemeente-sd-2hb.nl/Contact", "xn--gemeente-sd-2hb.nl"),
    ("http://www.example.nl", "http://www.example.nl/", "www.example.nl"),      # scheme kept, path added
    ("https://www.example.nl:443/a?b=1#top", "https://www.example.nl/a?b=1", "www.example.nl"),
    ("  www.example.nl  ", "https://www.example.nl/", "www.example.nl"),
])
def test_parse_target_normalises(text, url, host):
    site = parse_target(text)
    assert (site.url, site.host) == (url, host)


@pytest.mark.parametrize("text, reason", [
    ("", "empty URL"),
    ("ftp://www.example.nl/", "unsupported scheme"),
    ("https://www.example.nl:8443/", "only the standard ports"),
    ("https://www.example.nl:x/", "invalid port"),
    ("https://user:secret@www.example.nl/", "user name or password"),
    ("192.0.2.10", "IP address"),
    ("https://[2001:db8::1]/", "IP address"),
    ("127.1", r"ends in a number \(1\), so browsers read it as an IPv4 address"),
    ("https://0x7f.0.0.1/", r"ends in a number \(1\)"),
    ("2130706433", r"ends in a number \(2130706433\)"),
    ("0x7F000001", r"ends in a number \(0x7f000001\)"),
    ("https://www.gemeente.0x/", r"ends in a number \(0x\)"),
    ("\uff11\uff12\uff17.\uff10.\uff10.\uff11", r"127.0.0.1 ends in a number"),  # full-width digits
    ("intranet", "not a fully qualified host name"),
    ("www..example.nl", "invalid host name"),
    ("www_example.nl", "invalid host name"),
    ("https:///path", "empty host name"),
])
def test_parse_target_rejects(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_target(text)


@pytest.mark.parametrize("host", ["www.123gemeente.nl", "123.gemeente.nl", "x.0xg", "www.gemeente.nl0"])
def test_digits_before_the_last_label_or_mixed_into_it_are_a_host_name(host):
    assert parse_target(host).host == host


def test_parse_organisation_accepts_codes_per_type():
    assert parse_organisation(" Gemeente Utrecht ", "Gemeente", "gm0344") == Organisation(
        "Gemeente Utrecht", "gemeente", "GM0344")
    assert parse_organisation("Provincie Utrecht", "provincie", "PV26").code == "PV26"
    assert parse_organisation("Waterschap Vallei", "waterschap", "WS0155").code == "WS0155"
    assert parse_organisation("BZK", "ministerie", "min-bzk").code == "min-bzk"
    assert parse_organisation("Stichting X", "other", "").code == ""
    assert parse_organisation(" ", "", "") is None  # a CSV row of a site without organisation


@pytest.mark.parametrize("fields, reason", [
    (("", "gemeente", "GM0344"), "name is empty"),
    (("", "", "GM0344"), "name is empty"),
    (("Gemeente X", "", ""), "unknown organisation type"),
    (("X", "stad", "GM0344"), "unknown organisation type"),
    (("X", "gemeente", "GM34"), "invalid code"),
    (("X", "provincie", "GM0344"), "invalid code"),
    (("X", "ministerie", "a b"), "invalid code"),
])
def test_parse_organisation_rejects(fields, reason):
    with pytest.raises(ValueError, match=reason):
        parse_organisation(*fields)


def test_csv_list_reports_bad_rows_and_keeps_the_good_ones():
    lines = [
        "organisation,type,code,url",
        "Gemeente Noordstad,gemeente,GM9901,https://www.noordstad.nl/",
        "# a comment line",
        "",
        "Gemeente Zuiddorp,dorp,GM9902,www.zuiddorp.nl",
        "\"Ministerie van Z, K en R\",ministerie,MZKR,WWW.MINZKR.NL.",
        "Te weinig,gemeente,GM9903",
        "Gemeente Oost,gemeente,GM9904,ftp://oost.nl",
        "Gemeente Noordstad,gemeente,GM9901,https://www.noordstad.nl/contact",
        ",,,www.zonder-organisatie.nl",
    ]
    sites, problems = parse_lines(lines, "sites.csv")
    assert [s.url for s in sites] == ["https://www.noordstad.nl/", "https://www.minzkr.nl/",
                                      "https://www.zonder-organisatie.nl/"]
    assert sites[2].organisation is None
    assert sites[0].organisation == Organisation("Gemeente Noordstad", "gemeente", "GM9901")
    assert sites[1].organisation.name == "Ministerie van Z, K en R"
    assert [str(p) for p in problems] == [
        "sites.csv:5: unknown organisation type 'dorp' (one of: gemeente, provincie, waterschap, ministerie, "
        "uitvoeringsorganisatie, other)",
        "sites.csv:7: expected 4 columns (organisation,type,code,url), found 3",
        "sites.csv:8: unsupported scheme 'ftp' (use http or https)",
        "sites.csv:9: www.noordstad.nl is already listed on line 2; skipped",
    ]


def test_csv_is_detected_by_header_whatever_the_name():
    sites, problems = parse_lines(["organisation,type,code,url", "A,other,,a.example.nl"], "list.txt")
    assert [s.host for s in sites] == ["a.example.nl"] and not problems


def test_csv_file_without_header_is_refused():
    with pytest.raises(TargetsError, match="sites.csv:1: a CSV site list starts with the header"):
        parse_lines(["Gemeente A,gemeente,GM0001,a.nl"], "sites.csv")


def test_plain_list_with_comments_and_duplicates():
    lines = [
        "# municipalities",
        "www.noordstad.nl   # trailing comment",
        "https://www.noordstad.nl/#fragment-is-not-a-comment",
        "bücher.nl",
        "not a host",
        "XN--BCHER-KVA.NL.",
    ]
    sites, problems = parse_lines(lines, "hosts.txt")
    assert [s.url for s in sites] == ["https://www.noordstad.nl/", "https://xn--bcher-kva.nl/"]
    assert all(s.organisation is None for s in sites)
    assert problems == [
        Problem("hosts.txt", 3, "www.noordstad.nl is already listed on line 2; skipped"),
        Problem("hosts.txt", 5, problems[1].reason),
        Problem("hosts.txt", 6, "xn--bcher-kva.nl is already listed on line 4; skipped"),
    ]
    assert problems[1].reason.startswith("white space or a control character (0x0020) inside the URL")


def test_load_reads_files_and_reports_file_errors(tmp_path):
    good = tmp_path / "sites.txt"
    good.write_text("\ufeffwww.a.nl\nwww.b.nl\n", encoding="utf-8")
    sites, problems = load(good)
    assert [s.host for s in sites] == ["www.a.nl", "www.b.nl"] and problems == []

    with pytest.raises(TargetsError, match="file not found"):
        load(tmp_path / "missing.txt")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("www.a.nl\nb\xfccher.nl\n".encode("latin-1"))
    with pytest.raises(TargetsError, match="not UTF-8"):
        load(latin)


def test_a_quoted_field_over_several_lines_is_one_row_numbered_by_its_first_line():
    lines = ['organisation,type,code,url', '"Gemeente', 'Noordstad",gemeente,GM0001,www.noordstad.nl',
             'Gemeente B,gemeente,GM0002,www.b.nl']
    sites, problems = parse_lines(lines, "sites.csv")
    assert problems == []
    assert [s.organisation.name for s in sites] == ["Gemeente Noordstad", "Gemeente B"]


def test_an_oversized_csv_field_is_a_row_problem_and_the_rest_is_read(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text("organisation,type,code,url\n"
                    f'"{"x" * 200_000}",other,,www.a.nl\n'
                    "Gemeente B,gemeente,GM0002,www.b.nl\n")
    sites, problems = load(path)
    assert [s.host for s in sites] == ["www.b.nl"]
    [problem] = problems
    assert problem.line == 2 and "not a CSV row" in problem.reason


def test_a_huge_line_is_not_echoed_whole(tmp_path):
    path = tmp_path / "hosts.txt"
    path.write_text("www." + "a" * 1_000_000 + ".nl\nwww.b.nl\n")
    sites, [problem] = load(path)
    assert [s.host for s in sites] == ["www.b.nl"]
    assert len(str(problem)) < 300 and problem.reason == "a URL of 1000007 characters: at most 2000"
