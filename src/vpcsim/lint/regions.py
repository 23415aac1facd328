"""Region and zone names that Tencent Cloud does not list.

A misspelt region (``ap-guangzou``) loads: a VPC's region is only compared with other VPCs'
(Private Link is same-region, CCN pays region-pair delays). The names are checked against the
table in :mod:`vpcsim.model.regions` (docs/regions.md), with the closest known name suggested.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from vpcsim.errors import ScenarioWarning, WarningCode
from vpcsim.lint.context import Context
from vpcsim.model.regions import REGIONS, TABLE_TAKEN, region_of_zone


def _closest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}? " if close else ""


def check(ctx: Context) -> Iterator[ScenarioWarning]:
    if ctx.topology.cloud != "tencent":
        return  # the table is Tencent's; other clouds' names are not checked
    regions = sorted(REGIONS)
    for vid, vpc in sorted(ctx.topology.vpcs.items()):
        if vpc.region not in REGIONS:
            yield ctx.warn(
                ("vpcs", vid, "region"),
                WarningCode.UNKNOWN_REGION,
                f"region {vpc.region!r} of VPC {vid} is not a Tencent Cloud region (vpcsim's table of "
                f"{TABLE_TAKEN}, docs/regions.md); {_closest(vpc.region, regions)}"
                "regions look like 'ap-guangzhou', 'na-ashburn'",
            )
            continue  # its zones are unknown with it
        zones = REGIONS[vpc.region]
        for sn in vpc.subnets:
            if sn.zone in zones:
                continue
            elsewhere = region_of_zone(sn.zone)
            hint = f"it is a zone of {elsewhere}" if elsewhere is not None else f"its zones are {', '.join(zones)}"
            yield ctx.warn(
                ("vpcs", vid, "subnets", sn.id, "zone"),
                WarningCode.UNKNOWN_ZONE,
                f"zone {sn.zone!r} of subnet {sn.id} is not an availability zone of {vpc.region} (vpcsim's table "
                f"of {TABLE_TAKEN}, docs/regions.md): {hint}",
            )
