"""Timeline accepts of endpoints that are not waiting for one."""

from __future__ import annotations

from collections.abc import Callable

from tests.lint.conftest import Data
from tests.lint.helpers import only
from vpcsim.errors import ScenarioWarning, WarningCode

Lint = Callable[[Data], list[ScenarioWarning]]
NO_EFFECT = WarningCode.ACCEPT_ENDPOINT_HAS_NO_EFFECT


def accept(at: str) -> Data:
    return {"at": at, "action": "accept_endpoint", "endpoint": "vpce-vpc1"}


def reject(at: str) -> Data:
    return {"at": at, "action": "reject_endpoint", "endpoint": "vpce-vpc1"}


def cross_account(data: Data, *, auto_accept: bool = False) -> Data:
    """The provider VPC in another account that whitelists the consumer: the endpoint starts PENDING."""
    data["vpcs"]["vpc2"]["account"] = "100087654321"
    service = data["endpoint_services"]["vpcsvc-service"]
    service["whitelist"] = [data["vpcs"]["vpc1"]["account"]]
    service["auto_accept"] = auto_accept
    return data


def test_accepting_a_same_account_endpoint_changes_nothing(seed_data: Data, warnings_of: Lint) -> None:
    seed_data["timeline"] = [accept("20s")]
    (w,) = only(warnings_of(seed_data), NO_EFFECT)
    assert w.path == "timeline[0]"
    assert "already ACTIVE" in w.message
    assert "same account: accepted automatically" in w.message


def test_accepting_a_pending_endpoint_is_what_accepts_are_for(seed_data: Data, warnings_of: Lint) -> None:
    seed_data["timeline"] = [accept("20s")]
    assert only(warnings_of(cross_account(seed_data)), NO_EFFECT) == []


def test_a_whitelisted_account_on_an_auto_accepting_service_is_active_anyway(
    seed_data: Data, warnings_of: Lint
) -> None:
    seed_data["timeline"] = [accept("20s")]
    (w,) = only(warnings_of(cross_account(seed_data, auto_accept=True)), NO_EFFECT)
    assert "auto-accepts" in w.message


def test_a_second_accept_finds_the_first_one_done(seed_data: Data, warnings_of: Lint) -> None:
    cross_account(seed_data)
    seed_data["timeline"] = [accept("20s"), accept("21s")]  # ACCEPTING for 2 s by default
    (w,) = only(warnings_of(seed_data), NO_EFFECT)
    assert w.path == "timeline[1]"
    assert "already ACCEPTING" in w.message
    seed_data["timeline"] = [accept("20s"), accept("40s")]  # ACTIVE by then
    (w,) = only(warnings_of(seed_data), NO_EFFECT)
    assert w.path == "timeline[1]"
    assert "already ACTIVE" in w.message


def test_an_accept_after_a_reject_at_the_same_time_takes_effect(seed_data: Data, warnings_of: Lint) -> None:
    """Events at one time apply in file order: the reject first, then the accept finds REJECTED."""
    seed_data["timeline"] = [accept("20s"), reject("40s"), accept("40s")]
    assert only(warnings_of(cross_account(seed_data)), NO_EFFECT) == []


def test_an_accept_before_a_reject_at_the_same_time_does_not(seed_data: Data, warnings_of: Lint) -> None:
    seed_data["timeline"] = [accept("20s"), accept("40s"), reject("40s")]
    (w,) = only(warnings_of(cross_account(seed_data)), NO_EFFECT)
    assert w.path == "timeline[1]"


def test_the_state_at_time_zero_is_the_one_admission_gives(seed_data: Data, warnings_of: Lint) -> None:
    seed_data["timeline"] = [accept("0s")]
    assert only(warnings_of(seed_data), NO_EFFECT) != []
    seed_data["timeline"] = [accept("0s")]
    assert only(warnings_of(cross_account(seed_data)), NO_EFFECT) == []
