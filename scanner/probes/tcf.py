"""The core segment of an IAB TCF v2 TC string, decoded (IAB Tech Lab, "Consent string and vendor list formats
v2", section "The core string"): who wrote it (CMP id and version), when, and which purposes, special features
and vendors the visitor consented to. The browser probe records it after reject and after accept, as evidence
beside the cookies and requests.

The string is base64url without padding; segments are separated by dots and the core segment comes first.
Its fields are big-endian bit fields in a fixed order; the vendor sections are either a bitfield of
maxVendorId bits or a list of ranges. Publisher restrictions and the other segments are not decoded.
"""
from __future__ import annotations

import base64
import datetime

MAX_VENDOR_ID = 10_000  # bounds the vendor sets of a hostile string (the GVL holds about 1,200 vendors)
MAX_STRING_CHARS = 20_000


class TCStringError(ValueError):
    pass


class _Bits:
    def __init__(self, data: bytes):
        self.bits = "".join(f"{byte:08b}" for byte in data)
        self.at = 0

    def int(self, width: int) -> int:
        if self.at + width > len(self.bits):
            raise TCStringError(f"the string ends at bit {len(self.bits)}, inside a field")
        value = int(self.bits[self.at:self.at + width], 2)
        self.at += width
        return value

    def flags(self, width: int) -> list[int]:
        """The 1-based numbers of the set bits among the next `width`."""
        return [i + 1 for i in range(width) if self.int(1)]

    def letters(self) -> str:
        return "".join(chr(ord("A") + self.int(6)) for _ in range(2))

    def deciseconds(self) -> str:
        moment = datetime.datetime.fromtimestamp(self.int(36) / 10, datetime.timezone.utc)
        return moment.isoformat(timespec="seconds")

    def vendors(self) -> list[int]:
        """A vendor section: MaxVendorId, IsRangeEncoding, then a bitfield or NumEntries ranges."""
        max_vendor = self.int(16)
        if max_vendor > MAX_VENDOR_ID:
            raise TCStringError(f"maxVendorId {max_vendor} is beyond {MAX_VENDOR_ID}")
        if not self.int(1):
            return self.flags(max_vendor)
        found: set[int] = set()
        for _ in range(self.int(12)):
            is_range = self.int(1)
            start = self.int(16)
            end = self.int(16) if is_range else start
            if end > max_vendor or start > end:
                raise TCStringError(f"vendor range {start}-{end} outside 1-{max_vendor}")
            found.update(range(start, end + 1))
        return sorted(found)


def decode(tc_string: str) -> dict:
    """The core segment's fields; TCStringError when the string is not a TCF v2 string."""
    if not isinstance(tc_string, str) or not tc_string or len(tc_string) > MAX_STRING_CHARS:
        raise TCStringError("no TC string, or one too long")
    core = tc_string.split(".")[0]
    try:
        data = base64.urlsafe_b64decode(core + "=" * (-len(core) % 4))
    except (ValueError, TypeError):
        raise TCStringError("not base64url") from None
    bits = _Bits(data)
    version = bits.int(6)
    if version != 2:
        raise TCStringError(f"version {version}, not 2")
    return {
        "version": version,
        "created": bits.deciseconds(),
        "last_updated": bits.deciseconds(),
        "cmp_id": bits.int(12),
        "cmp_version": bits.int(12),
        "consent_screen": bits.int(6),
        "consent_language": bits.letters(),
        "vendor_list_version": bits.int(12),
        "tcf_policy_version": bits.int(6),
        "is_service_specific": bool(bits.int(1)),
        "use_non_standard_texts": bool(bits.int(1)),
        "special_feature_opt_ins": bits.flags(12),
        "purposes_consent": bits.flags(24),
        "purposes_li_transparency": bits.flags(24),
        "purpose_one_treatment": bool(bits.int(1)),
        "publisher_cc": bits.letters(),
        "vendor_consents": bits.vendors(),
        "vendor_legitimate_interests": bits.vendors(),
    }
