"""The web service's own addresses (scanner.addresses.own_addresses) and a policy that refuses them
(AddressPolicy.refusing): a check never turns the service on the machine it runs on, not even inside a
network the settings allow."""
import json
import subprocess

import pytest

from govscan.model import Reason
from scanner.addresses import AddressPolicy, RefusedAddress, _proc_ipv4, _proc_ipv6, own_addresses

FIB_TRIE = """Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
     |-- 192.0.2.7
        /32 host LOCAL
     |-- 203.0.113.9
        /32 host LOCAL
"""
IF_INET6 = """00000000000000000000000000000001 01 80 10 80       lo
20010db8000000000000000000000010 02 40 00 80     eth0
fe80000000000000005400fffe123456 02 40 20 80     eth0
"""


def test_the_interface_addresses_are_read_from_proc(tmp_path):
    (tmp_path / "fib_trie").write_text(FIB_TRIE)
    (tmp_path / "if_inet6").write_text(IF_INET6)
    assert _proc_ipv4(str(tmp_path / "fib_trie")) == ["127.0.0.1", "192.0.2.7", "203.0.113.9"]
    assert _proc_ipv6(str(tmp_path / "if_inet6")) == ["::1", "2001:db8::10", "fe80::54:ff:fe12:3456"]
    assert _proc_ipv4(str(tmp_path / "missing")) == [] and _proc_ipv6(str(tmp_path / "missing")) == []


def machine_addresses() -> set[str]:
    """What `ip` says this machine's addresses are (the test's oracle; govscan does not need `ip`)."""
    shown = json.loads(subprocess.run(["ip", "-j", "addr"], capture_output=True, text=True, check=True).stdout)
    return {a["local"] for link in shown for a in link.get("addr_info", [])}


@pytest.mark.parametrize("listen", ["0.0.0.0", "::", "[::]", "127.0.0.1"])
def test_own_addresses_are_every_address_of_this_machine(listen):
    found = own_addresses(listen)
    assert machine_addresses() <= set(found) and {"127.0.0.1", "::1"} <= set(found)


def test_a_listen_address_that_is_not_on_an_interface_is_included():
    assert "192.0.2.250" in own_addresses("192.0.2.250")
    assert "127.0.0.1" in own_addresses("localhost")


def test_refusing_refuses_those_addresses_even_inside_an_allowed_network():
    allowed = AddressPolicy(["203.0.113.0/24"])
    policy = allowed.refusing(["203.0.113.9", "2001:db8::/48"])
    assert policy.refusal("203.0.113.9") == "one of the scanner's own addresses"
    assert policy.refusal("::ffff:203.0.113.9") == "one of the scanner's own addresses"  # the same on the wire
    assert policy.refusal("2001:db8::1") == "one of the scanner's own addresses"
    assert policy.refusal("203.0.113.10") is None and policy.refusal("8.8.8.8") is None
    assert policy.refusal("127.0.0.1") == "loopback (127.0.0.0/8)"
    assert policy.refusal("169.254.169.254") == "a cloud metadata address"
    with pytest.raises(RefusedAddress) as refused:
        policy.check("203.0.113.9")
    assert refused.value.reason == Reason.REFUSED_ADDRESS
    assert refused.value.detail == ("203.0.113.9 is one of the scanner's own addresses: not connected "
                                    "(scanner/addresses.py; whatever the settings say)")


def test_refusing_is_a_copy_and_can_be_applied_again():
    allowed = AddressPolicy(["203.0.113.0/24"])
    once = allowed.refusing(["203.0.113.9"])
    twice = once.refusing(["203.0.113.10"], why="the service's database")
    assert allowed.refusal("203.0.113.9") is None and once.refusal("203.0.113.10") is None
    assert twice.refusal("203.0.113.9") == "one of the scanner's own addresses"
    assert twice.refusal("203.0.113.10") == "the service's database"
    with pytest.raises(ValueError, match="'intranet' is not a network"):
        allowed.refusing(["intranet"])


def test_the_detail_says_whether_a_setting_could_allow_the_address():
    policy = AddressPolicy(["10.0.0.0/8"]).refusing(["10.9.9.9"])
    assert policy.error("8.8.8.8") is None
    assert policy.error("127.0.0.1").detail.endswith("(scanner/addresses.py; [scan] allowed_networks can allow a network)")
    for address in ("169.254.169.254", "64:ff9b::a9fe:a9fe", "10.9.9.9", "::ffff:10.9.9.9"):
        assert policy.error(address).detail.endswith("(scanner/addresses.py; whatever the settings say)"), address
