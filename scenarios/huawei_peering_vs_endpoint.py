"""Huawei Cloud VPC peering against VPC endpoints, through the Python API: what each exposes.

Runs every check of huawei_peering_vs_endpoint.yaml and prints, for each, its verdict and the typed
records of the packet that decided it: the routes to the peering connection and what it carries,
the endpoint's VPCEP NAT (one service, its mapped port only), and the drop (a VPC without the
return route, a port the endpoint does not map, transit that neither peering nor VPN gives).
"""

from __future__ import annotations

import sys
from pathlib import Path

from huawei_cross_vpc import main  # the same report: each check's verdict and deciding packet

if __name__ == "__main__":
    sys.exit(main(Path(__file__).with_name("huawei_peering_vs_endpoint.yaml")))
