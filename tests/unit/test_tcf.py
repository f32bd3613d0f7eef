"""The TCF v2 core segment decoder: a TC string from a public CMP's tests (decoded there with the IAB's Java
library), and strings a hostile page could hand over."""
import base64

import pytest

from scanner.probes.tcf import TCStringError, decode

# From ketch-com's Android SDK tests; their comment gives the IAB Java decoder's reading of it.
KETCH = "CPhBZtcPhBZtcACABAENCACgAIAAAAAAAAAAH2QAYH0AfYB9kAGB9YH2AAAA.YAAAAAAAAAAA"


def test_core_segment_of_a_known_string():
    tc = decode(KETCH)
    assert tc["created"] == tc["last_updated"] == "2022-10-17T13:44:54+00:00"
    assert (tc["cmp_id"], tc["cmp_version"], tc["consent_screen"]) == (2, 1, 0)
    assert (tc["consent_language"], tc["publisher_cc"]) == ("EN", "AA")
    assert (tc["vendor_list_version"], tc["tcf_policy_version"]) == (128, 2)
    assert tc["is_service_specific"] and not tc["use_non_standard_texts"] and not tc["purpose_one_treatment"]
    assert tc["special_feature_opt_ins"] == [] and tc["purposes_li_transparency"] == []
    assert tc["purposes_consent"] == [1]
    assert tc["vendor_consents"] == [1000, 1001, 1002, 1003, 1004]
    assert tc["vendor_legitimate_interests"] == [1003, 1004]


def _encode(fields: list[tuple[int, int]]) -> str:
    bits = "".join(format(value, f"0{width}b") for value, width in fields)
    bits += "0" * (-len(bits) % 8)
    return base64.urlsafe_b64encode(int(bits, 2).to_bytes(len(bits) // 8, "big")).decode().rstrip("=")


def test_a_refusal_written_as_bitfields():
    """All purposes refused, one vendor of three consented, in bitfield form."""
    header = [(2, 6), (0, 36), (0, 36), (300, 12), (7, 12), (1, 6), (13, 6), (11, 6), (200, 12), (4, 6), (0, 1),
              (0, 1), (0, 12), (0, 24), (0, 24), (0, 1), (13, 6), (11, 6)]
    vendors = [(3, 16), (0, 1), (0b010, 3), (0, 16), (0, 1)]
    tc = decode(_encode(header + vendors))
    assert (tc["cmp_id"], tc["cmp_version"], tc["consent_language"]) == (300, 7, "NL")
    assert tc["purposes_consent"] == [] and tc["vendor_consents"] == [2] and tc["vendor_legitimate_interests"] == []


@pytest.mark.parametrize("value", ["", "not base64!", "BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA", KETCH[:30], "A" * 30_000])
def test_what_is_no_tcf_v2_string_is_an_error(value):
    with pytest.raises(TCStringError):
        decode(value)
