"""Every branch of a connection: the combinations of choices a connection may meet on its way.

A load balancer picks one backend per new connection; which one depends on what came before
(round-robin counters, open connections). A verdict is only worth something if it holds whichever
one it picks, so a check runs once as the scheduler would (the first branch), then once per other
choice at each branch point it met, each as its own simulation with that choice pinned. Branch
points met only on some branches are explored on those; the branches form a tree whose leaves are
the simulations run.

``--backend INSTANCE[:PORT]`` pins a branch point instead of exploring it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from vpcsim.errors import ArgumentError
from vpcsim.trace import Choice

R = TypeVar("R")

DEFAULT_MAX_BRANCHES = 64
COUNT_CEILING = 4096
"""Past the cap, branches are still counted (without traces) up to this many, to say how many."""

Pins = Mapping[tuple[str, str], str]
"""(load balancer, listener) → the backend (``instance:port``) a branch takes there."""


class BranchLimitError(ArgumentError):
    """A connection may take more branches than the cap allows."""


@dataclass(frozen=True, slots=True)
class BackendPin:
    """``--backend INSTANCE[:PORT]``: take this backend wherever a load balancer may choose it."""

    instance: str
    port: int | None = None

    @classmethod
    def parse(cls, text: str) -> BackendPin:
        instance, sep, port = text.partition(":")
        if not instance:
            raise ArgumentError(f"--backend {text!r}: expected INSTANCE or INSTANCE:PORT")
        if not sep:
            return cls(instance)
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ArgumentError(f"--backend {text!r}: the port must be 1-65535")
        return cls(instance, int(port))

    def __str__(self) -> str:
        return self.instance if self.port is None else f"{self.instance}:{self.port}"

    def matches(self, candidate: str) -> bool:
        """A backend ``instance:port``, or a router's next hop (an id without a port)."""
        instance, sep, port = candidate.rpartition(":")
        if not sep:
            return candidate == self.instance and self.port is None
        return instance == self.instance and (self.port is None or int(port) == self.port)


@dataclass(frozen=True, slots=True)
class Explored(Generic[R]):
    results: tuple[R, ...]
    """The first branch (the scheduler's own choices, or the pinned ones) first."""
    pins: tuple[dict[tuple[str, str], str], ...]
    """What each branch pinned."""


def points(choices: Sequence[Choice]) -> list[Choice]:
    """The branch points of one run, in the order met: a load balancer's listener counts once."""
    seen: set[tuple[str, str]] = set()
    out = []
    for c in choices:
        if c.point not in seen:
            seen.add(c.point)
            out.append(c)
    return out


def explore(
    run: Callable[[Pins, bool], R],
    choices_of: Callable[[R], Sequence[Choice]],
    *,
    what: str,
    limit: int = DEFAULT_MAX_BRANCHES,
    pins: Sequence[BackendPin] = (),
    first: R | None = None,
    others: bool = True,
) -> Explored[R]:
    """Run every branch: ``run(pins, trace)`` simulates one, ``choices_of`` reads the choices it met.

    ``what`` names the connection in errors. More than ``limit`` branches is an error naming the
    count; a pin that matches no backend any branch may choose is an error naming the candidates.
    ``first``, when given, is what ``run({}, True)`` returns (already run by the caller);
    ``others=False`` runs the first branch only (with ``pins`` taken).
    """
    used: set[BackendPin] = set()

    def forced(c: Choice) -> str | None:
        hits = [(p, k) for p in pins for k in c.candidates if p.matches(k)]
        if not hits:
            return None
        keys = {k for _, k in hits}
        if len(keys) > 1:
            given = ", ".join(sorted({str(p) for p, _ in hits}))
            raise ArgumentError(
                f"{what}: --backend {given} matches {', '.join(sorted(keys))} at {c.balancer} listener "
                f"{c.listener}: give one backend per load balancer, with its port"
            )
        used.update(p for p, _ in hits)
        return keys.pop()

    def settle(given: dict[tuple[str, str], str], trace: bool) -> tuple[R, list[Choice], dict[tuple[str, str], str]]:
        """Run with ``given`` pinned, adding the pins ``--backend`` asks for at points met later."""
        current = dict(given)
        known = first if not given else None
        while True:
            r = known if known is not None else run(current, trace)
            known = None
            met = points(choices_of(r))
            for c in met:
                if c.point in current:
                    if c.backend != current[c.point]:  # pragma: no cover - a pin is always among the candidates
                        raise AssertionError(f"pinned {current[c.point]} at {c.point}, took {c.backend}")
                    continue
                want = forced(c)
                if want is not None and want != c.backend:
                    current[c.point] = want
                    break
                if want is not None:
                    current[c.point] = want
            else:
                return r, met, current

    results: list[R] = []
    taken: list[dict[tuple[str, str], str]] = []
    seen_points: list[Choice] = []
    count = 0

    def visit(given: dict[tuple[str, str], str], r: R, met: list[Choice], pinned: dict[tuple[str, str], str]) -> None:
        nonlocal count
        count += 1
        if count <= limit:
            results.append(r)
            taken.append(pinned)
        elif count >= COUNT_CEILING:
            return
        seen_points.extend(met)
        if not others:
            return
        for i, c in enumerate(met):
            if c.point in given or forced(c) is not None:
                continue
            for alt in c.candidates:
                if alt == c.backend:
                    continue
                prefix = {x.point: x.backend for x in met[:i]}
                prefix.update(given)
                prefix[c.point] = alt
                r2, met2, pinned2 = settle(prefix, count < limit)
                visit(prefix, r2, met2, pinned2)
                if count >= COUNT_CEILING:
                    return

    r0, met0, pinned0 = settle({}, True)
    visit({}, r0, met0, pinned0)
    if count > limit:
        many = f"more than {COUNT_CEILING - 1}" if count >= COUNT_CEILING else str(count)
        raise BranchLimitError(
            f"{what} may take {many} branches, more than the limit of {limit}: raise it with --max-branches "
            "(max_branches= in Python), or pin load balancers with --backend"
        )
    for p in pins:
        if p not in used:
            raise ArgumentError(f"--backend {p}: {_not_a_candidate(seen_points)}")
    return Explored(tuple(results), tuple(taken))


def _not_a_candidate(met: Sequence[Choice]) -> str:
    if not met:
        return "this connection meets no load balancer that chooses a backend"
    options = [f"{c.balancer} listener {c.listener} may choose {', '.join(c.candidates)}" for c in points(met)]
    return "no load balancer on this connection's path may choose it (" + "; ".join(options) + ")"
