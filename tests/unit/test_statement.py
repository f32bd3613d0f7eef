"""The statement parser on the Dutch model wording, the register's wording and free-form variants."""
import datetime as dt

import pytest

from checks.statement import find_date, parse, parse_date

MODEL = """Toegankelijkheidsverklaring
Gemeente Noordstad wil dat iedereen de website https://www.noordstad.nl/ kan gebruiken.
Nalevingsstatus
Gemeente Noordstad verklaart dat https://www.noordstad.nl/ {sentence}
De status van deze website is: {status}: {label}
Opstelling van deze verklaring
Deze verklaring is opgesteld op 21 december 2022. De verklaring is voor het laatst herzien op {revised}.
De onderzoeksresultaten zijn gebaseerd op onderzoek uitgevoerd door een externe deskundige op 01-12-2022.
Deze verklaring is op 21-12-2022 door de verantwoordelijke bestuurder gezien en akkoord bevonden."""

SENTENCES = {
    "A": ("volledig voldoet aan de Europese norm EN 301 549 (WCAG 2.1 niveau AA).", "voldoet volledig"),
    "B": ("gedeeltelijk voldoet aan de Europese norm EN 301 549.", "voldoet gedeeltelijk"),
    "C": ("nog niet voldoet aan de norm. Er zijn eerste maatregelen genomen.", "eerste maatregelen genomen"),
    "D": ("niet voldoet aan de Europese norm EN 301 549.", "voldoet niet"),
}


@pytest.mark.parametrize("status", "ABCD")
def test_model_statement_status_and_latest_revision_date(status):
    sentence, label = SENTENCES[status]
    text = MODEL.format(sentence=sentence, status=status, label=label, revised="5 maart 2024")
    parsed = parse(text, "https://www.noordstad.nl/toegankelijkheid")
    assert parsed.is_statement
    assert parsed.status == status
    assert parsed.date == dt.date(2024, 3, 5)
    assert "2022-12-01" in parsed.dates


@pytest.mark.parametrize("status", "ABCD")
def test_status_from_the_compliance_sentence_alone(status):
    sentence, _ = SENTENCES[status]
    parsed = parse(f"Toegankelijkheidsverklaring van de provincie. De provincie verklaart dat deze website {sentence}")
    assert parsed.status == status


def test_register_entry_wording_with_numeric_and_written_dates():
    text = """Toegankelijkheidsverklaring van Gemeente Vechtoever
Nalevingsstatus
Status
B. Voldoet gedeeltelijk
Datum verklaring
14-07-2026
Laatst herzien
14 juli 2026"""
    parsed = parse(text, "https://www.toegankelijkheidsverklaring.nl/register/7002")
    assert (parsed.status, parsed.date, parsed.register_id) == ("B", dt.date(2026, 7, 14), "7002")


def test_free_form_statement_with_its_own_words():
    text = ("Toegankelijkheid van onze site. Wij streven ernaar dat de site voldoet aan WCAG 2.1. "
            "Status: C (eerste maatregelen genomen). Laatst bijgewerkt: 3 okt. 2025.")
    parsed = parse(text)
    assert parsed.status == "C" and parsed.date == dt.date(2025, 10, 3)


def test_english_statement():
    parsed = parse("Accessibility statement. Compliance status: this website is partially compliant with "
                   "WCAG 2.1 AA. Last updated 2 June 2025.")
    assert parsed.is_statement and parsed.status == "B" and parsed.date == dt.date(2025, 6, 2)


def test_a_page_about_accessibility_is_not_a_statement():
    parsed = parse("Toegankelijkheid. De gemeente vindt het belangrijk dat iedereen onze website kan gebruiken. "
                   "We letten op duidelijke taal en goede kleurcontrasten. Status is a word we do not use.")
    assert not parsed.is_statement and parsed.status is None


def test_lowercase_letter_after_status_is_not_a_status():
    assert parse("Nalevingsstatus: de status is a work in progress").status is None


def test_register_id_and_research_reports_from_links():
    links = [{"href": "https://www.toegankelijkheidsverklaring.nl/register/1234", "text": "Bekijk in register"},
             {"href": "https://www.noordstad.nl/files/onderzoeksrapport-2024.pdf", "text": "Onderzoeksrapport"},
             {"href": "https://www.noordstad.nl/contact", "text": "Contact"}]
    parsed = parse("De status van deze website is: A", "https://www.noordstad.nl/toegankelijkheid", links)
    assert parsed.register_id == "1234"
    assert [r["text"] for r in parsed.reports] == ["Onderzoeksrapport"]


def test_register_id_from_label_image_name():
    links = [{"href": "https://www.toegankelijkheidsverklaring.nl/files/verklaring/label/"
                      "0123456789abcdef0123456789abcdef.987.svg", "text": ""}]
    assert parse("Nalevingsstatus: A", "", links).register_id == "987"


@pytest.mark.parametrize("text,expected", [
    ("21-12-2022", dt.date(2022, 12, 21)), ("21/12/2022", dt.date(2022, 12, 21)),
    ("21 december 2022", dt.date(2022, 12, 21)), ("1 mei 2023", dt.date(2023, 5, 1)),
    ("2022-12-21", dt.date(2022, 12, 21)), ("31-02-2022", None), ("geen datum", None),
])
def test_dates(text, expected):
    assert parse_date(text) == expected


def test_date_without_date_words_is_the_latest_on_the_page():
    assert find_date("Versie 2 van 01-02-2023, vorige versie 05-06-2021.")[0] == dt.date(2023, 2, 1)
