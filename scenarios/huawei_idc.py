"""A data centre reaches Huawei Cloud endpoints over VPN and Direct Connect, through the Python API.

Runs every check of huawei_idc.yaml and prints, for each, its verdict and the typed records of the
packet that decided it: the data centre's route to its gateway, the tunnel or line it crossed, the
route in the VPC's default table that a gateway endpoint added (OBS, docs/decisions.md Q36), the
interface endpoints' VPCEP NAT, and the drop (a tunnel that is down, a VPC that carries no transit).
"""

from __future__ import annotations

import sys
from pathlib import Path

from huawei_cross_vpc import main  # the same report: each check's verdict and deciding packet

if __name__ == "__main__":
    sys.exit(main(Path(__file__).with_name("huawei_idc.yaml")))
