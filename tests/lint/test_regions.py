"""Region and zone names Tencent Cloud does not list, and the table they are checked against."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from tests.lint.conftest import Data
from tests.lint.helpers import only
from vpcsim.errors import ScenarioWarning, WarningCode
from vpcsim.model.regions import REGIONS, TABLE_TAKEN

Lint = Callable[[Data], list[ScenarioWarning]]
DOC = Path(__file__).resolve().parent.parent.parent / "docs" / "regions.md"


def move_to(data: Data, vpc: str, region: str, zone: str) -> Data:
    data["vpcs"][vpc]["region"] = region
    for subnet in data["vpcs"][vpc]["subnets"].values():
        subnet["zone"] = zone
    return data


def test_a_misspelt_region_warns_and_suggests_the_closest_name(seed_data: Data, warnings_of: Lint) -> None:
    move_to(seed_data, "vpc3", "ap-guangzou", "ap-guangzou-1")
    seed_data["settings"]["delays"]["regions"] = {"ap-chengdu/ap-guangzou": "10ms"}
    (w,) = only(warnings_of(seed_data), WarningCode.UNKNOWN_REGION)
    assert w.path == "vpcs.vpc3.region"
    assert "'ap-guangzou'" in w.message
    assert "did you mean 'ap-guangzhou'?" in w.message
    assert only(warnings_of(seed_data), WarningCode.UNKNOWN_ZONE) == []  # its zones cannot be known


def test_an_unknown_zone_of_a_known_region(seed_data: Data, warnings_of: Lint) -> None:
    move_to(seed_data, "vpc3", "ap-guangzhou", "ap-guangzhou-99")
    seed_data["settings"]["delays"]["regions"] = {"ap-chengdu/ap-guangzhou": "10ms"}
    found = warnings_of(seed_data)
    assert only(found, WarningCode.UNKNOWN_REGION) == []
    (w,) = only(found, WarningCode.UNKNOWN_ZONE)
    assert w.path == "vpcs.vpc3.subnets.subnet-cq.zone"
    assert "'ap-guangzhou-99'" in w.message
    assert "ap-guangzhou-3" in w.message  # the zones it could be


def test_a_finance_zone_is_not_a_zone_of_the_plain_region(seed_data: Data, warnings_of: Lint) -> None:
    """The loader only asks that a zone start with its region's name; ap-shanghai-fsi-1 does."""
    move_to(seed_data, "vpc3", "ap-shanghai", "ap-shanghai-fsi-1")
    seed_data["settings"]["delays"]["regions"] = {"ap-chengdu/ap-shanghai": "15ms"}
    (w,) = only(warnings_of(seed_data), WarningCode.UNKNOWN_ZONE)
    assert "it is a zone of ap-shanghai-fsi" in w.message


def test_every_region_and_zone_of_the_table_is_accepted(seed_data: Data, warnings_of: Lint) -> None:
    for region, zones in REGIONS.items():
        data = move_to(seed_data, "vpc3", region, zones[-1])
        data["settings"]["delays"]["regions"] = {f"ap-chengdu/{region}": "20ms"} if region != "ap-chengdu" else {}
        found = warnings_of(data)
        assert only(found, WarningCode.UNKNOWN_REGION) + only(found, WarningCode.UNKNOWN_ZONE) == [], region


def test_zones_are_named_after_their_region() -> None:
    for region, zones in REGIONS.items():
        assert zones
        for zone in zones:
            assert re.fullmatch(rf"{re.escape(region)}-[0-9]+", zone), zone


def test_docs_regions_md_shows_exactly_the_table_and_its_date() -> None:
    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- regions:", 1)[1].split("<!-- /regions -->", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| [^|]+ \| (.+) \|$", block, flags=re.MULTILINE)
    documented = {region: tuple(re.findall(r"`([^`]+)`", zones)) for region, zones in rows}
    assert documented == REGIONS
    assert f"**Taken on {TABLE_TAKEN}.**" in text
    assert "https://www.tencentcloud.com/document/product/213/6091" in text
    assert "https://cloud.tencent.com/document/product/213/6091" in text
