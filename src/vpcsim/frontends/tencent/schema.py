"""The shape of a Tencent Cloud scenario document (pydantic), before cross-references are checked.

The sections every cloud shares are in :mod:`vpcsim.frontends.common.schema`; here are Tencent's
CLB, Private Link and CCN. Field names are the file format; README documents them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from vpcsim.frontends.common.schema import (
    NOUNS as COMMON_NOUNS,
)
from vpcsim.frontends.common.schema import (
    Address,
    Bandwidth,
    CapacityDoc,
    Doc,
    Id,
    LinkDoc,
    LinksDoc,
    ListenerDoc,
    Many,
    ScenarioBase,
    SettingsDoc,
)
from vpcsim.scenario.shape import Shape


class TencentLinksDoc(LinksDoc):
    ccn: LinkDoc | None = None
    """A CCN's links between regions (its bandwidth is the CCN's own: ``ccns.ID.bandwidth``)."""


class TencentSettingsDoc(SettingsDoc):
    links: TencentLinksDoc = Field(default_factory=TencentLinksDoc)


class LoadBalancerDoc(Doc):
    vpc: Id
    subnet: Id
    vip: Address
    security_groups: list[Id] = Field(default_factory=list, max_length=5)
    listeners: Annotated[dict[Id, ListenerDoc], Many] = Field(default_factory=dict)
    capacity: CapacityDoc | None = None


class EndpointServiceDoc(Doc):
    vpc: Id
    load_balancer: Id
    auto_accept: bool = False
    whitelist: Annotated[
        list[Annotated[str, StringConstraints(pattern=r"^(\*|[A-Za-z0-9][A-Za-z0-9._:-]{0,127})$")]], Many
    ] = Field(default_factory=list)


class EndpointDoc(Doc):
    vpc: Id
    subnet: Id
    ip: Address | None = None
    service: Id
    security_groups: list[Id] = Field(default_factory=list, max_length=5)
    capacity: CapacityDoc | None = None


class CcnDoc(Doc):
    attachments: Annotated[list[Id], Many] = Field(default_factory=list)
    billing: Literal["postpaid", "prepaid"] = "postpaid"
    """Postpaid: one cap between any two regions (``bandwidth``, 1 Gbps unless set); prepaid: the
    bandwidth bought per region pair (``region_bandwidths``), 10 Kbps for a pair with none bought."""
    bandwidth: Bandwidth | None = None
    region_bandwidths: dict[str, Bandwidth] = Field(default_factory=dict, max_length=1000)
    """Keys ``'REGION_A/REGION_B'`` (both directions), or ``'REGION/REGION'`` for traffic inside one region."""


class ScenarioDoc(ScenarioBase):
    cloud: Literal["tencent"] = "tencent"
    settings: TencentSettingsDoc = Field(default_factory=TencentSettingsDoc)
    load_balancers: Annotated[dict[Id, LoadBalancerDoc], Many] = Field(default_factory=dict)
    endpoint_services: Annotated[dict[Id, EndpointServiceDoc], Many] = Field(default_factory=dict)
    endpoints: Annotated[dict[Id, EndpointDoc], Many] = Field(default_factory=dict)
    ccns: Annotated[dict[Id, CcnDoc], Many] = Field(default_factory=dict)


NOUNS: dict[type[BaseModel], str] = {
    **COMMON_NOUNS,
    ScenarioDoc: "scenario",
    LoadBalancerDoc: "load balancer",
    EndpointServiceDoc: "endpoint service",
    EndpointDoc: "endpoint",
    CcnDoc: "CCN",
    TencentSettingsDoc: "settings",
    TencentLinksDoc: "link settings",
}
"""What a message calls each part of the document."""

SHAPE = Shape(ScenarioDoc, NOUNS)
