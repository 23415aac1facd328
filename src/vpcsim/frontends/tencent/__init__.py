"""The Tencent Cloud front-end: its rules and its lowering to the cloud-neutral IR."""

from vpcsim.frontends.tencent.lower import compile_network, lower_state

__all__ = ["compile_network", "lower_state"]
