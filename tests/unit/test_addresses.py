"""The address policy (scanner/addresses.py): which addresses the scanner may connect to.

The cases are the blocks of the IANA IPv4 and IPv6 special-purpose address registries with their "Globally
Reachable" column (the first and last address of a block, and the addresses just outside it), the IPv6
forms that lead to an IPv4 address, the cloud metadata services, and the allow-list of the settings.
"""
import pytest

from govscan.model import Reason
from scanner import config
from scanner.addresses import AddressPolicy, RefusedAddress

REFUSED = [
    # IPv4 special-purpose registry, not globally reachable
    ("0.0.0.0", "unspecified"), ("0.255.255.255", "'this network'"), ("10.0.0.0", "private use"),
    ("10.255.255.255", "private use"), ("100.64.0.0", "CGNAT"), ("100.127.255.255", "CGNAT"),
    ("127.0.0.1", "loopback"), ("127.255.255.255", "loopback"), ("169.254.0.1", "link local"),
    ("172.16.0.0", "private use"), ("172.31.255.255", "private use"), ("192.0.0.0", "IETF protocol"),
    ("192.0.0.8", "IETF protocol"), ("192.0.0.170", "IETF protocol"), ("192.0.0.255", "IETF protocol"),
    ("192.0.2.1", "TEST-NET-1"), ("192.88.99.1", "6to4 relay"), ("192.168.1.1", "private use"),
    ("198.18.0.0", "benchmarking"), ("198.19.255.255", "benchmarking"), ("198.51.100.7", "TEST-NET-2"),
    ("203.0.113.255", "TEST-NET-3"), ("224.0.0.1", "multicast"), ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"), ("255.255.255.254", "reserved"), ("255.255.255.255", "broadcast"),
    # IPv6: outside global unicast, and the special-purpose blocks inside it
    ("::", "unspecified"), ("::1", "loopback"), ("::2", "outside IPv6 global unicast"),
    ("::127.0.0.1", "outside IPv6 global unicast"), ("64:ff9b:1::1", "local-use"), ("100::1", "discard-only"),
    ("100:0:0:1::1", "dummy"), ("1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "outside IPv6 global unicast"),
    ("2001:0:0:0:0:0:0:0", "Teredo server form of 0.0.0.0"), ("2001:1::4", "IETF protocol"),
    ("2001:2::1", "benchmarking"),
    ("2001:10::1", "IETF protocol"), ("2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", "IETF protocol"),
    ("2001:db8::1", "documentation"), ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "documentation"),
    ("3fff::1", "documentation"), ("3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", "documentation"),
    ("5f00::1", "SRv6"), ("fc00::1", "unique local"), ("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "unique local"),
    ("fe80::1", "link local"), ("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "link local"),
    ("fec0::1", "site local"), ("ff02::1", "multicast"), ("4000::1", "outside IPv6 global unicast"),
    # IPv6 forms of refused IPv4 addresses
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:10.1.2.3", "private use"), ("64:ff9b::7f00:1", "NAT64 form"),
    ("64:ff9b::a9fe:a9fe", "metadata"), ("2002:7f00:1::1", "6to4 form"), ("2002:c0a8:101::", "6to4 form"),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "Teredo form"),  # client 127.0.0.1
    ("2001:0:7f00:1:8000:63bf:3fff:fdd2", "Teredo server form"),  # server 127.0.0.1
    # cloud metadata services
    ("169.254.169.254", "metadata"), ("169.254.170.2", "metadata"), ("fd00:ec2::254", "metadata"),
    ("100.100.100.200", "metadata"), ("168.63.129.16", "metadata"), ("::ffff:169.254.169.254", "metadata"),
]

ALLOWED = [
    "1.0.0.0", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0", "126.255.255.255", "128.0.0.0",
    "169.253.255.255", "169.255.0.0", "172.15.255.255", "172.32.0.0", "192.0.0.9", "192.0.0.10", "192.0.1.0",
    "192.31.196.1", "192.52.193.1", "192.175.48.1", "192.167.255.255", "192.169.0.0", "198.17.255.255",
    "198.20.0.0", "223.255.255.255", "168.63.129.17", "145.21.0.1",
    "2000::", "2001:1::1", "2001:1::2", "2001:1::3", "2001:3::1", "2001:4:112::1", "2001:20::1", "2001:30::1",
    "2001:200::1", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db9::", "2a00:1450:400e:80c::200e",
    "3ffe:ffff::1", "3fff:1000::", "::ffff:145.21.0.1", "64:ff9b::9115:1", "2002:9115:1::1",
    "2001:0:4136:e378:8000:63bf:6eea:fffe",  # Teredo: server 65.54.227.120, client 145.21.0.1
]


@pytest.mark.parametrize("address, what", REFUSED)
def test_addresses_that_are_not_globally_reachable_unicast_are_refused(address, what):
    why = AddressPolicy().refusal(address)
    assert why is not None and what.lower() in why.lower()


@pytest.mark.parametrize("address", ALLOWED)
def test_globally_reachable_unicast_addresses_are_allowed(address):
    assert AddressPolicy().refusal(address) is None


def test_allowed_networks_let_their_addresses_through_and_nothing_else():
    policy = AddressPolicy(["127.0.0.0/8", "::1/128", "198.51.100.0/24"])
    assert [policy.refusal(a) for a in ("127.0.0.1", "::1", "::ffff:127.0.0.2", "198.51.100.53")] == [None] * 4
    assert policy.refusal("10.0.0.1") and policy.refusal("203.0.113.1") and policy.refusal("::2")


def test_metadata_addresses_stay_refused_inside_an_allowed_network():
    policy = AddressPolicy(["169.254.0.0/16", "fd00::/8", "0.0.0.0/0"])
    assert policy.refusal("169.254.1.1") is None
    assert "metadata" in policy.refusal("169.254.169.254")
    assert "metadata" in policy.refusal("fd00:ec2::254")
    assert "metadata" in policy.refusal("168.63.129.16")


def test_check_raises_a_refused_address_error_naming_the_address():
    with pytest.raises(RefusedAddress) as raised:
        AddressPolicy().check("127.0.0.1")
    assert raised.value.reason == Reason.REFUSED_ADDRESS == "refused_address"
    assert raised.value.detail.startswith("127.0.0.1 is loopback (127.0.0.0/8)")
    AddressPolicy().check("145.21.0.1")  # allowed: no exception


def test_something_that_is_not_an_address_is_refused():
    assert AddressPolicy().refusal("localhost") == "not an IP address"


def test_the_default_settings_allow_no_special_network_and_a_bad_network_is_a_clear_error():
    settings = config.load()
    assert settings.scan.allowed_networks == []
    assert settings.scan.address_policy.refusal("127.0.0.1")
    with pytest.raises(config.ConfigError, match=r"scan.allowed_networks: '10.0.0.1/8' is not a network"):
        config.load(overrides={"scan": {"allowed_networks": ["10.0.0.1/8"]}})
    with pytest.raises(config.ConfigError, match=r"scan.allowed_networks: 'intranet' is not a network"):
        config.load(overrides={"scan": {"allowed_networks": ["intranet"]}})
