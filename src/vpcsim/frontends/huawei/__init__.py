"""The Huawei Cloud front-end: its rules and its lowering to the cloud-neutral IR."""

from vpcsim.frontends.huawei.lower import compile_network, lower_state

__all__ = ["compile_network", "lower_state"]
