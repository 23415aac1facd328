"""What a list of security-group rules matches, as sets of (protocol, port, address).

A rule matches a protocol, a port range and an address range (its ``peer``). Rules of one bound
list are walked in order and the first match decides (Q18), so two questions come up:

* :func:`first_match` — which part of an address range does the list accept, drop, or leave
  unmatched (denied), for one protocol and port?
* :func:`covering` — does the union of the rules before a rule match everything that rule matches
  (so the rule can never decide anything)?

Addresses are :class:`netaddr.IPSet` algebra. ``all`` stands for every IP protocol: TCP and UDP on
every port, ICMP, and the protocols that have no port at all (``other`` here), so TCP and UDP rules
together never cover an ``all`` rule. ICMP and ``other`` carry no port (port 0 below).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network

from netaddr import IPSet

from vpcsim.lint.context import BoundRule
from vpcsim.model import Action, Protocol, Rule

Component = tuple[str, int, int]
"""(protocol, first port, last port): one box of what a rule matches."""

_ALL: tuple[Component, ...] = (("tcp", 1, 65535), ("udp", 1, 65535), ("icmp", 0, 0), ("other", 0, 0))


def components(rule: Rule) -> tuple[Component, ...]:
    if rule.protocol is Protocol.ALL:
        return _ALL
    if rule.protocol is Protocol.ICMP:
        return (("icmp", 0, 0),)
    return ((rule.protocol.value, rule.ports.low, rule.ports.high),)


def ipset(*nets: IPv4Network) -> IPSet:
    return IPSet([str(n) for n in nets])


def cidrs_text(addresses: IPSet, limit: int = 3) -> str:
    """``11.163.0.0/17, 11.163.128.0/18`` (at most ``limit`` blocks, then how many more)."""
    blocks = [str(c) for c in addresses.iter_cidrs()]
    shown = ", ".join(blocks[:limit])
    return shown if len(blocks) <= limit else f"{shown} and {len(blocks) - limit} more blocks"


@dataclass
class Admission:
    """How a bound list treats one address range for one protocol and port (first match wins)."""

    accepted: IPSet = field(default_factory=IPSet)
    dropped: list[tuple[BoundRule, IPSet]] = field(default_factory=list)
    """Each drop rule that decided part of the range, with that part, in list order."""
    unmatched: IPSet = field(default_factory=IPSet)
    """What no rule matched: denied by default."""

    @property
    def denied(self) -> bool:
        return bool(self.dropped) or bool(self.unmatched)


def first_match(rules: Sequence[BoundRule], protocol: str, port: int, sources: IPv4Network) -> Admission:
    """Walk ``rules`` in order for traffic from ``sources`` with ``protocol``/``port``."""
    out = Admission()
    remaining = ipset(sources)
    for br in rules:
        if not any(p == protocol and lo <= port <= hi for p, lo, hi in components(br.rule)):
            continue
        if not br.rule.peer.overlaps(sources):
            continue
        hit = remaining & ipset(br.rule.peer)
        if not hit:
            continue  # an earlier rule already decided all of what this one would match
        if br.rule.action is Action.ACCEPT:
            out.accepted |= hit
        else:
            out.dropped.append((br, hit))
        remaining -= hit
        if not remaining:
            break
    out.unmatched = remaining
    return out


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A rule reduced to integers, so the quadratic scans of :class:`RuleList` stay cheap."""

    first: int
    last: int
    components: tuple[Component, ...]
    bound: BoundRule


class RuleList:
    """One ordered rule list, ready for :meth:`covering` questions about its members."""

    def __init__(self, rules: Sequence[BoundRule]) -> None:
        self.rules = list(rules)
        self._compiled = [
            _Compiled(
                first=int(br.rule.peer.network_address),
                last=int(br.rule.peer.broadcast_address),
                components=components(br.rule),
                bound=br,
            )
            for br in self.rules
        ]

    def covering(self, position: int) -> list[BoundRule] | None:
        """The rules before ``position`` whose union matches everything the rule there matches
        (so it can never match), in list order; None when some of its traffic reaches it."""
        target = self._compiled[position]
        used: set[int] = set()
        for box in target.components:
            found = self._cover_box(position, box)
            if found is None:
                return None
            used.update(found)
        return [self._compiled[p].bound for p in sorted(used)]

    def _cover_box(self, position: int, box: Component) -> list[int] | None:
        """Positions before ``position`` that together match one box of the rule there, or None."""
        target = self._compiled[position]
        proto, lo, hi = box
        # (first port, last port, position, compiled) of the earlier rules sharing some traffic.
        cands: list[tuple[int, int, int, _Compiled]] = []
        for pos in range(position):
            e = self._compiled[pos]
            if e.first > target.last or e.last < target.first:
                continue
            for eproto, elo, ehi in e.components:
                if eproto != proto or elo > hi or ehi < lo:
                    continue
                if elo <= lo and ehi >= hi and e.first <= target.first and e.last >= target.last:
                    return [pos]  # this one rule matches the whole box
                cands.append((max(elo, lo), min(ehi, hi), pos, e))
        if not _spans(lo, hi, [(c[0], c[1]) for c in cands]):
            return None  # some port of the box meets no earlier rule at all
        if not _spans(target.first, target.last, [(c[3].first, c[3].last) for c in cands]):
            return None  # some address of the box meets no earlier rule at all
        return _subtract(target, lo, hi, cands)


def _spans(lo: int, hi: int, intervals: list[tuple[int, int]]) -> bool:
    """Whether the union of the (first, last) ``intervals`` covers [lo, hi]: a cheap necessary test."""
    reach = lo - 1
    for a, b in sorted(intervals):
        if a > reach + 1:
            return False
        reach = max(reach, b)
        if reach >= hi:
            return True
    return reach >= hi


def _subtract(target: _Compiled, lo: int, hi: int, cands: list[tuple[int, int, int, _Compiled]]) -> list[int] | None:
    """Take each candidate's (ports × addresses) box, in list order, away from the target's box
    [lo, hi] × peer; the positions that took something away when nothing is left, else None.

    What is left is kept as port pieces, each with the addresses still unmatched there; neighbouring
    pieces with the same addresses are merged, so the pieces stay few."""
    left: list[tuple[int, int, IPSet]] = [(lo, hi, ipset(target.bound.rule.peer))]
    contributors: list[int] = []
    for clo, chi, pos, e in cands:
        peer = ipset(e.bound.rule.peer)
        took = False
        pieces: list[tuple[int, int, IPSet]] = []
        for a, b, addresses in left:
            if b < clo or a > chi:
                pieces.append((a, b, addresses))
                continue
            if a < clo:
                pieces.append((a, clo - 1, addresses))
            rest = addresses - peer
            if rest != addresses:
                took = True
            if rest:
                pieces.append((max(a, clo), min(b, chi), rest))
            if b > chi:
                pieces.append((chi + 1, b, addresses))
        if took:
            contributors.append(pos)
        left = _merge(pieces)
        if not left:
            return contributors
    return None


def _merge(pieces: list[tuple[int, int, IPSet]]) -> list[tuple[int, int, IPSet]]:
    out: list[tuple[int, int, IPSet]] = []
    for a, b, addresses in pieces:
        if out and out[-1][1] + 1 == a and out[-1][2] == addresses:
            out[-1] = (out[-1][0], b, addresses)
        else:
            out.append((a, b, addresses))
    return out
