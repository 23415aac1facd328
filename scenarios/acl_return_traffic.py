"""A stateless network ACL through the Python API: the same MySQL connect from two web subnets, one
whose ACL forgets the return traffic and one whose ACL allows the client's ephemeral ports.

For each client this prints what Linux telnet prints and, for the first SYN and what answered it,
the typed record of each ACL rule that decided a packet on its way (the rule's index, or the
immutable deny-all, and the direction).
"""

from __future__ import annotations

import sys
from pathlib import Path

from vpcsim import Network
from vpcsim.report import render_telnet
from vpcsim.trace import AclMatch

SCENARIO = Path(__file__).with_name("acl_return_traffic.yaml")
DB, PORT = "10.10.3.10", 3306
CLIENTS = ("web-a1", "web-b1")


def main() -> int:
    net = Network.from_file(SCENARIO)
    verdicts = []
    for i, client in enumerate(CLIENTS):
        if i:
            print()
        result = net.telnet(client, DB, PORT)
        print(f"[{client}]$ telnet {DB} {PORT}")
        print(render_telnet(result))
        for packet in result.packets:
            if packet.attempt > 1:  # the retransmitted SYNs meet the same rules
                print(f"  (and so on for each of the {result.attempts - 1} retransmitted SYNs)")
                break
            for hop in packet.hops:
                for step in hop.steps:
                    if isinstance(step.data, AclMatch):
                        m = step.data
                        rule = "deny-all" if m.number < 0 else f"rule #{m.number}"
                        verdict = "accepts" if m.accept else "drops"
                        print(f"  {packet.kind:<8} {m.acl} {m.direction} {rule} {verdict} it ({m.subnet})")
        verdicts.append(result.verdict.value)
    # The forgetful ACL times out, the fixed one connects: anything else is a regression.
    return 0 if verdicts == ["timeout", "connected"] else 1


if __name__ == "__main__":
    sys.exit(main())
