"""pytest plugin (registered through the ``pytest11`` entry point).

Fixture ``vpcsim_network``: a factory that loads and compiles a scenario file once per test
session::

    def test_vpc3_reaches_the_service(vpcsim_network):
        net = vpcsim_network("scenarios/chengdu_chongqing.yaml")
        assert_reachable(net, "cvm-vpc3", "172.16.2.16:1044")
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from vpcsim.probes import Network


@pytest.fixture(scope="session")
def vpcsim_network() -> Callable[[str | Path], Network]:
    cache: dict[Path, Network] = {}

    def get(path: str | Path) -> Network:
        key = Path(path).resolve()
        if key not in cache:
            cache[key] = Network.from_file(key)
        return cache[key]

    return get
