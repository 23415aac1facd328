"""Each subnet's first two addresses and its last are Tencent's (Q21): nothing may take them."""

from __future__ import annotations

from typing import Any

import pytest

from vpcsim.errors import ScenarioError
from vpcsim.frontends import from_data

Data = dict[str, Any]


@pytest.mark.parametrize(
    ("section", "oid", "key", "address", "subnet"),
    [
        ("instances", "cvm-vpc1", "ip", "172.16.2.1", "172.16.2.0/24"),
        ("endpoints", "vpce-vpc1", "ip", "172.16.2.1", "172.16.2.0/24"),
        ("load_balancers", "lb-service", "vip", "10.0.1.1", "10.0.1.0/24"),
    ],
)
def test_the_second_address_of_a_subnet_is_refused(
    seed_data: Data, section: str, oid: str, key: str, address: str, subnet: str
) -> None:
    seed_data[section][oid][key] = address
    with pytest.raises(ScenarioError) as refused:
        from_data(seed_data, source="<test>")
    err = refused.value
    assert err.path == f"{section}.{oid}.{key}"
    first = subnet.rsplit(".", 1)[0]
    assert err.problem == (
        f"{address} is reserved in {subnet}: Tencent Cloud keeps each subnet's first two addresses and its "
        f"last; use one from {first}.2 to {first}.254"
    )


def test_the_third_address_is_the_first_usable_one(seed_data: Data) -> None:
    seed_data["instances"]["cvm-vpc1"]["ip"] = "172.16.2.2"
    assert str(from_data(seed_data, source="<test>").instances["cvm-vpc1"].ip) == "172.16.2.2"


def test_an_assigned_endpoint_address_starts_at_the_third(seed_data: Data) -> None:
    del seed_data["endpoints"]["vpce-vpc1"]["ip"]
    seed_data["checks"] = [c for c in seed_data["checks"] if "172.16.2.16" not in c["to"]]
    assert str(from_data(seed_data, source="<test>").endpoints["vpce-vpc1"].ip) == "172.16.2.2"
