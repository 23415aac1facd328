"""An office over VPN and a factory over Direct Connect reach the Private Link endpoint VIP, through the
Python API; the office's tunnel goes down and comes back on the timeline.

For each connect this prints what Linux telnet prints and the way its SYN went: each route and the
gateway crossing, from the typed records of the trace (the route table and its entry, the tunnel
and its state).
"""

from __future__ import annotations

import sys
from pathlib import Path

from vpcsim import Network
from vpcsim.report import render_telnet
from vpcsim.trace import CircuitsDown, GatewayHit, Hop, LocalHit, ReturnSteered, RouteHit

SCENARIO = Path(__file__).with_name("tencent_idc_vpn.yaml")
VIP, VPORT = "172.16.2.16", 1044
CONNECTS = (("office-pc", 0.0), ("factory-server", 0.0), ("office-pc", 210.0), ("office-pc", 420.0))


def main() -> int:
    net = Network.from_file(SCENARIO)
    verdicts = []
    for i, (client, at) in enumerate(CONNECTS):
        if i:
            print()
        result = net.telnet(client, VIP, VPORT, at=at)
        print(f"[{client} at {at:g}s]$ telnet {VIP} {VPORT}")
        print(render_telnet(result))
        if result.verdict.value == "connected":  # the first SYN and the SYN-ACK that answered it
            shown = [p for p in result.packets if p.kind in ("SYN", "SYN-ACK")][:2]
        else:
            shown = [result.packets[-1]]
        for packet in shown:
            which = "last SYN" if packet.attempt > 1 else packet.kind
            print(f"  the {which}'s way:")
            _way(packet.hops)
        verdicts.append(result.verdict.value)
    # Up, up, down, up again: anything else is a regression.
    return 0 if verdicts == ["connected", "connected", "timeout", "connected"] else 1


def _way(hops: tuple[Hop, ...]) -> None:
    for hop in hops:
        for step in hop.steps:
            d = step.data
            if isinstance(d, RouteHit) and d.table:
                print(f"    {d.router}: route {d.entry} of {d.table}, {d.prefix} -> {d.hop_noun} {d.next_hop}")
            elif isinstance(d, RouteHit):
                print(f"    {d.router}: {d.prefix} -> {d.next_hop}")
            elif isinstance(d, LocalHit):
                print(f"    {d.router}: Local {d.prefix} -> {d.owner}")
            elif isinstance(d, ReturnSteered):
                print(f"    {hop.node}: back to {d.balancer}")
            elif isinstance(d, GatewayHit):
                print(f"    {d.gateway}: {d.circuit_noun} {d.circuit} {d.state} -> {d.toward}")
            elif isinstance(d, CircuitsDown):
                states = ", ".join(f"{c} {s}" for c, s in d.circuits)
                print(f"    {d.gateway}: no {d.circuit_noun} up ({states}): dropped")


if __name__ == "__main__":
    sys.exit(main())
