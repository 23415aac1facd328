"""Timeline accepts that change nothing.

The provider's accept moves a PENDING or REJECTED endpoint towards ACTIVE [PL7]. An endpoint of
the provider's own account, or of a whitelisted account when the service auto-accepts, is ACTIVE
from its creation [PL6]; one already ACCEPTING or ACTIVE at the accept's time stays as it is. An
accept then is a no-op — usually a sign that the scenario does not test what its author thinks
(a cross-account wait, say). The state is the control plane's just before the event: the last
snapshot before its time, then the earlier events of the same time in file order.
"""

from __future__ import annotations

from collections.abc import Iterator

from vpcsim.errors import ScenarioWarning, WarningCode
from vpcsim.lint.context import Context
from vpcsim.model import EndpointState, Event, EventKind
from vpcsim.model.privatelink import state_name

_MOVABLE = (EndpointState.PENDING, EndpointState.REJECTED)


def check(ctx: Context) -> Iterator[ScenarioWarning]:
    topo = ctx.topology
    accepts = [ev for ev in topo.timeline if ev.kind is EventKind.ACCEPT_ENDPOINT]
    if not accepts:
        return  # no need to run the control plane
    for ev in accepts:
        assert ev.endpoint is not None
        state, why = _state_before(ctx, ev)
        if state not in _MOVABLE:
            cloud = topo.cloud
            waiting = " or ".join(state_name(cloud, s) for s in _MOVABLE)
            how = (
                "approval_enabled: true on its service"
                if cloud == "huawei"
                else "another account, whitelisted, on a service with auto_accept: false"
            )
            yield ctx.warn(
                ("timeline", ev.order),
                WarningCode.ACCEPT_ENDPOINT_HAS_NO_EFFECT,
                f"the accept of endpoint {ev.endpoint} at {ev.at:g}s changes nothing: it is already "
                f"{state_name(cloud, state)} then ({why}); only a {waiting} endpoint waits for an accept. Remove "
                f"the event, or make the endpoint wait ({how})",
            )


def _state_before(ctx: Context, ev: Event) -> tuple[EndpointState, str]:
    eid = ev.endpoint
    assert eid is not None
    earlier = [s for s in ctx.states if s.time < ev.at]
    if earlier:
        state, why = earlier[-1].endpoint_states[eid], earlier[-1].endpoint_notes[eid]
    else:
        ep = ctx.topology.endpoints[eid]
        state, why = ep.initial_state, ep.state_reason
    for other in ctx.topology.timeline:
        if other.at != ev.at or other.order >= ev.order or other.endpoint != eid:
            continue
        if other.kind is EventKind.REJECT_ENDPOINT:
            state, why = EndpointState.REJECTED, f"rejected at {other.at:g}s"
        elif other.kind is EventKind.ACCEPT_ENDPOINT and state in _MOVABLE:
            state, why = EndpointState.ACCEPTING, f"accepted at {other.at:g}s by timeline[{other.order}]"
    return state, why
