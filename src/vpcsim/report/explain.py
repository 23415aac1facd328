"""A verdict's explanation as text: the sentence (``detail``) and the object to look at (``ref``).

``vpcsim.probes`` decides which packet explains a verdict and gathers the typed facts around it
(:class:`~vpcsim.trace.Peer`, :class:`~vpcsim.trace.MissingAccept`,
:class:`~vpcsim.trace.Activation`); this module only words them.
"""

from __future__ import annotations

from vpcsim.report.steps import cause_text, denied_text, describe, traffic
from vpcsim.trace import AclDenied, Activation, Denied, Inactive, MissingAccept, Originated, Outcome, Peer

Text = tuple[str, str]
"""(detail, ref)."""


def peer_text(p: Peer) -> str:
    """``11.163.0.1 — Private Link SNAT of vpce-1``, ``192.168.1.10 — cvm-3``, or the bare address."""
    if p.pool_of:
        return f"{p.address} — {p.pool_label or 'source NAT'} of {p.pool_of}"
    return f"{p.address} — {p.label}" if p.label else p.address


def missing_accept_text(m: MissingAccept) -> str:
    """``sg-backend: no accept for tcp/8080 from 11.163.0.0/16 before rule #1``."""
    word = "from" if m.direction == "ingress" else "to"
    where = "" if m.before is None else f" before rule #{m.before}"
    accept = "accept" if m.direction == "ingress" else f"{m.direction} accept"
    return f"{m.group}: no {accept} for {traffic(m.protocol, m.port)} {word} {m.peer}{where}"


def activation_text(a: Activation, state: Inactive) -> str:
    """``the timeline accepts it at 300s (ACTIVE from 302s)``."""
    text = f"the timeline accepts it at {a.changes_at:g}s"
    if a.forwards_at > a.changes_at:
        text += f" ({state.forwarding_state} from {a.forwards_at:g}s)"
    return text


def connected(answer: Outcome) -> str:
    """The answer that ended a probe well: a SYN-ACK, a UDP answer, an echo reply."""
    if answer.kind == "SYN-ACK":
        return f"handshake completed with {answer.origin}"
    if answer.kind == "ECHO-REPLY":
        return f"{answer.origin} answered the echo request"
    return f"{answer.origin} answered the datagram"


def refused(rst: Outcome) -> str:
    assert isinstance(rst.first.data, Originated)
    what = "RST" if rst.kind == "RST" else "ICMP port unreachable"
    return f"{rst.origin} answered {what}: {cause_text(rst.first.data)}"


def no_answer(request: Outcome) -> str:
    if request.kind == "SYN":
        return (
            f"connect() gave up while the answer to SYN #{request.attempt} (delivered to {request.last_node}) "
            "was still on its way: the round trip is longer than the SYN retries wait"
        )
    what = "the datagram" if request.kind == "UDP" else f"echo request #{request.attempt}"
    return (
        f"{what} was delivered to {request.last_node}, but no answer came back in time: nothing answered, "
        "or the answer was still on its way when the wait ended"
    )


def dropped(
    out: Outcome,
    *,
    peer: Peer | None = None,
    missing: MissingAccept | None = None,
    activation: Activation | None = None,
) -> Text:
    """Why the deciding packet was dropped: the drop's own sentence, with what owns a denied address,
    the accept a filter lacks and a later activation when the caller found them."""
    data = out.last.data
    if isinstance(data, Denied):
        detail, ref = denied_text(data, peer_text(peer) if peer is not None else "")
    else:
        detail, ref = describe(out.last)
    if isinstance(data, AclDenied) and out.attempt == 0:
        # An answer (reply, ICMP error, echo reply): nothing is tracked, so it needs its own rule.
        if data.protocol == "icmp":
            detail += " (an ICMP answer: network ACLs are stateless, so it needs an icmp rule of its own)"
        else:
            detail += " (a reply: network ACLs are stateless, so return traffic needs a rule of its own)"
    if isinstance(data, Inactive) and activation is not None:
        detail += f"; {activation_text(activation, data)}"
    if missing is not None:
        ref = missing_accept_text(missing)
    return f"{out.kind} dropped at {out.last_node}: {detail}", ref
