"""Listeners that cannot serve: closed backend ports, no backend taking connections, dead health checks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.lint.conftest import Data
from tests.lint.helpers import file_warnings, line_of, only
from vpcsim.errors import ScenarioWarning, WarningCode

Lint = Callable[[Data], list[ScenarioWarning]]
LISTENER = "load_balancers.lb-service.listeners.lbl-1044"


def listener(data: Data) -> Data:
    lst: Data = data["load_balancers"]["lb-service"]["listeners"]["lbl-1044"]
    return lst


def test_a_backend_port_the_instance_does_not_listen_on(
    seed_data: Data, warnings_of: Lint, write: Callable[..., Path]
) -> None:
    seed_data["instances"]["cvm-backend2"]["listen"] = [9090]
    (w,) = only(warnings_of(seed_data), WarningCode.BACKEND_PORT_NOT_LISTENING)
    assert w.path == f"{LISTENER}.backends[1].port"
    assert "cvm-backend2 does not listen on 8080 (listens on: 9090)" in w.message
    path = write(seed_data)
    (w,) = only(file_warnings(path), WarningCode.BACKEND_PORT_NOT_LISTENING)
    assert w.line == line_of(path, "port: 8080", start=line_of(path, "instance: cvm-backend2"))


def test_a_port_the_timeline_starts_later_was_meant(seed_data: Data, warnings_of: Lint) -> None:
    seed_data["instances"]["cvm-backend2"]["listen"] = []
    seed_data["timeline"] = [{"at": "30s", "action": "start_listener", "instance": "cvm-backend2", "port": 8080}]
    assert only(warnings_of(seed_data), WarningCode.BACKEND_PORT_NOT_LISTENING) == []


def test_every_backend_at_weight_zero(seed_data: Data, warnings_of: Lint) -> None:
    for b in listener(seed_data)["backends"]:
        b["weight"] = 0
    (w,) = only(warnings_of(seed_data), WarningCode.LISTENER_ALL_WEIGHTS_ZERO)
    assert w.path == f"{LISTENER}.backends"
    listener(seed_data)["backends"][0]["weight"] = 1
    assert only(warnings_of(seed_data), WarningCode.LISTENER_ALL_WEIGHTS_ZERO) == []


def test_a_listener_without_backends(seed_data: Data, warnings_of: Lint) -> None:
    listener(seed_data)["backends"] = []
    found = warnings_of(seed_data)
    (w,) = only(found, WarningCode.LISTENER_WITHOUT_BACKENDS)
    assert w.path == f"{LISTENER}.backends"
    assert only(found, WarningCode.LISTENER_ALL_WEIGHTS_ZERO) == []  # nothing to be zero


def test_a_health_check_port_closed_on_every_backend(seed_data: Data, warnings_of: Lint) -> None:
    listener(seed_data)["health_check"]["port"] = 9999
    (w,) = only(warnings_of(seed_data), WarningCode.HEALTH_CHECK_PORT_CLOSED)
    assert w.path == f"{LISTENER}.health_check.port"
    assert "probes port 9999" in w.message
    assert "cvm-backend1, cvm-backend2" in w.message


def test_a_health_check_port_open_on_one_backend_is_fine(seed_data: Data, warnings_of: Lint) -> None:
    listener(seed_data)["health_check"]["port"] = 9999
    seed_data["instances"]["cvm-backend1"]["listen"] = [8080, 9999]
    assert only(warnings_of(seed_data), WarningCode.HEALTH_CHECK_PORT_CLOSED) == []


def test_a_disabled_health_check_checks_nothing(seed_data: Data, warnings_of: Lint) -> None:
    listener(seed_data)["health_check"] = {"enabled": False, "port": 9999}
    assert only(warnings_of(seed_data), WarningCode.HEALTH_CHECK_PORT_CLOSED) == []
