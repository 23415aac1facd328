"""Huawei Cloud services through VPC endpoints, through the Python API.

Runs every check of huawei_cloud_services.yaml and prints, for each, its verdict and the typed
records of the packet that decided it: the gateway endpoint's route in the subnet's route table
(OBS), the interface endpoint's address in the VPC (DNS), each endpoint's VPCEP NAT with what it
rewrote, the port the service was reached on, and the drop (a route table the gateway endpoint
does not name, a cloud service that is reached only through its own endpoint).
"""

from __future__ import annotations

import sys
from pathlib import Path

from huawei_cross_vpc import main  # the same report: each check's verdict and deciding packet

if __name__ == "__main__":
    sys.exit(main(Path(__file__).with_name("huawei_cloud_services.yaml")))
