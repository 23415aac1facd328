"""What the route-table, peering and data-centre tests share: build a network from a scenario dict,
read a probe's end and the records of its trace, and run ``vpcsim validate`` on a bad scenario."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from vpcsim import Network
from vpcsim.cli import main
from vpcsim.frontends import from_data
from vpcsim.probes import ProbeResult
from vpcsim.trace import NoRoute, Reason, Verdict

Data = dict[str, Any]


def net(d: Data) -> Network:
    return Network(from_data(d, source="<test>"))


def ends(r: ProbeResult) -> tuple[Verdict, Reason]:
    return r.verdict, r.reason


def found(r: ProbeResult, kind: type, packet: int = 0) -> list[Any]:
    """The records of type ``kind`` in one packet's trace, in hop order."""
    return [s.data for h in r.packets[packet].hops for s in h.steps if isinstance(s.data, kind)]


def dropped(r: ProbeResult) -> Any:
    """The record of the step that stopped the deciding packet."""
    return r.packets[r.decisive].hops[-1].steps[-1].data


def no_route(r: ProbeResult) -> NoRoute:
    drop = dropped(r)
    assert isinstance(drop, NoRoute), drop
    return drop


def refusal(tmp_path: Path, capsys: pytest.CaptureFixture[str], d: Data) -> tuple[str, str]:
    """``vpcsim validate`` on ``d`` written to a file: exit 2, one line naming file, key path, problem."""
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")
    with pytest.raises(SystemExit) as done:
        main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert done.value.code == 2, (out, err)
    assert "Traceback" not in out + err
    assert err.count("\n") == 1, err
    m = re.fullmatch(rf"vpcsim: {re.escape(str(path))}:\d+:\d+: (\S+): (.*)\n", err)
    assert m is not None, err
    return m.group(1), m.group(2)
