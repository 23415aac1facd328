"""Tencent Cloud's regions and their availability zones, as Tencent's "Regions and Availability
Zones" page lists them [REG1][REG2] (docs/regions.md: the sources, the versions read, the date).

The table is the union of the international page and the Chinese one: the Chinese page also lists
the finance regions (``ap-shenzhen-fsi``, ``ap-shanghai-fsi``) and ``eu-moscow``. It is a snapshot:
Tencent opens zones and regions over time, so a name missing here is a warning, never an error.
"""

from __future__ import annotations

TABLE_TAKEN = "2026-11-30"
"""The day the table was taken from the pages (docs/regions.md)."""

REGIONS: dict[str, tuple[str, ...]] = {
    # Mainland China
    "ap-guangzhou": (
        "ap-guangzhou-1",
        "ap-guangzhou-2",
        "ap-guangzhou-3",
        "ap-guangzhou-4",
        "ap-guangzhou-6",
        "ap-guangzhou-7",
    ),
    "ap-shenzhen-fsi": ("ap-shenzhen-fsi-1", "ap-shenzhen-fsi-2", "ap-shenzhen-fsi-3"),
    "ap-shanghai": (
        "ap-shanghai-1",
        "ap-shanghai-2",
        "ap-shanghai-3",
        "ap-shanghai-4",
        "ap-shanghai-5",
        "ap-shanghai-8",
    ),
    "ap-shanghai-fsi": ("ap-shanghai-fsi-1", "ap-shanghai-fsi-2", "ap-shanghai-fsi-3"),
    "ap-nanjing": ("ap-nanjing-1", "ap-nanjing-2", "ap-nanjing-3"),
    "ap-beijing": (
        "ap-beijing-1",
        "ap-beijing-2",
        "ap-beijing-3",
        "ap-beijing-4",
        "ap-beijing-5",
        "ap-beijing-6",
        "ap-beijing-7",
    ),
    "ap-chengdu": ("ap-chengdu-1", "ap-chengdu-2"),
    "ap-chongqing": ("ap-chongqing-1",),
    "ap-hongkong": ("ap-hongkong-1", "ap-hongkong-2", "ap-hongkong-3"),
    # Other countries and regions
    "ap-singapore": ("ap-singapore-1", "ap-singapore-2", "ap-singapore-3", "ap-singapore-4"),
    "ap-jakarta": ("ap-jakarta-1", "ap-jakarta-2"),
    "ap-seoul": ("ap-seoul-1", "ap-seoul-2"),
    "ap-tokyo": ("ap-tokyo-1", "ap-tokyo-2"),
    "ap-mumbai": ("ap-mumbai-1", "ap-mumbai-2"),
    "ap-bangkok": ("ap-bangkok-1", "ap-bangkok-2"),
    "na-toronto": ("na-toronto-1",),
    "sa-saopaulo": ("sa-saopaulo-1",),
    "na-siliconvalley": ("na-siliconvalley-1", "na-siliconvalley-2"),
    "na-ashburn": ("na-ashburn-1", "na-ashburn-2"),
    "eu-frankfurt": ("eu-frankfurt-1", "eu-frankfurt-2"),
    "eu-moscow": ("eu-moscow-1",),
}
"""Region name → its zones (``REGION-N``), in the pages' order."""


def region_of_zone(zone: str) -> str | None:
    """The region whose table lists ``zone``, if any."""
    for region, zones in REGIONS.items():
        if zone in zones:
            return region
    return None
