"""Reading logged packets back to the check they belong to (no kernel needed)."""

from __future__ import annotations

import struct

from vpcsim.emulate.kernel import _job_port
from vpcsim.emulate.nflog import Logged, parse
from vpcsim.emulate.plan import DropPoint


def _ip(proto: int, payload: bytes) -> bytes:
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0, 64, proto, 0, bytes(4), bytes(4))
    return header + payload


def test_tcp_and_udp_give_their_ports() -> None:
    assert parse("d3", _ip(6, struct.pack("!HHII", 20001, 8080, 0, 0))) == Logged("d3", 6, 20001, 8080)
    assert parse("d0", _ip(17, struct.pack("!HHHH", 53, 20002, 8, 0))) == Logged("d0", 17, 53, 20002)


def test_an_echo_gives_its_identifier_and_an_error_the_ports_it_quotes() -> None:
    echo = parse("d1", _ip(1, struct.pack("!BBHHH", 8, 0, 0, 20003, 1)))
    assert echo == Logged("d1", 1, 20003, 20003, 8)
    quoted = _ip(17, struct.pack("!HHHH", 20004, 53, 8, 0))
    error = parse("d2", _ip(1, struct.pack("!BBHI", 3, 3, 0, 0) + quoted))
    assert error == Logged("d2", 1, 0, 0, 3, (17, 20004, 53))


def test_not_ipv4_is_ignored() -> None:
    assert parse("d0", b"\x60" + bytes(39)) is None


def test_a_logged_packet_names_its_check_and_its_direction() -> None:
    open_ports: dict[int, list[tuple[DropPoint, bool]]] = {20001: [], 20004: []}
    assert _job_port(Logged("d0", 6, 20001, 8080), open_ports) == (20001, False)
    assert _job_port(Logged("d0", 6, 8080, 20001), open_ports) == (20001, True)
    assert _job_port(Logged("d0", 1, 0, 0, 3, (17, 20004, 53)), open_ports) == (20004, True)
    assert _job_port(Logged("d0", 1, 20004, 20004, 0), open_ports) == (20004, True)
    assert _job_port(Logged("d0", 6, 9999, 8080), open_ports) is None
