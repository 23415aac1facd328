"""Step 5 of Tencent Cloud's Private Link + CCN best practice through the Python API: telnet the endpoint VIP from VPC1 and from VPC3.

Scenario: a service in VPC2 (Chengdu) behind an internal layer-4 CLB on VPORT 1044, published
through Private Link; the endpoint in VPC1 (Chengdu) has VIP 172.16.2.16; a CCN joins VPC1 and
VPC3 (Chongqing). For each client this prints what Linux telnet prints, the path the SYN took
(node by node) and the simulated time connect() took.
"""

from __future__ import annotations

import sys
from pathlib import Path

from vpcsim import Network
from vpcsim.report import render_telnet

SCENARIO = Path(__file__).with_name("chengdu_chongqing.yaml")
VIP = "172.16.2.16"  # the endpoint's VIP in VPC1
VPORT = 1044  # the CLB listener port in VPC2
CLIENTS = ("cvm-vpc1", "cvm-vpc3")


def main() -> int:
    net = Network.from_file(SCENARIO)
    connected = 0
    for i, client in enumerate(CLIENTS):
        if i:
            print()
        result = net.telnet(client, VIP, VPORT)
        print(f"[{client}]$ telnet {VIP} {VPORT}")
        print(render_telnet(result))
        syn = result.packets[0]
        print("path:", " -> ".join(syn.nodes))
        print(f"connect() returned after {result.connect_time * 1000:.3f} ms (simulated): {result.verdict.value}")
        connected += result.connected
    return 0 if connected == len(CLIENTS) else 1


if __name__ == "__main__":
    sys.exit(main())
