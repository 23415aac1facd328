"""Cloud front-ends: each lowers its cloud's validated model to the same cloud-neutral IR."""

from vpcsim.frontends.tencent import compile_network

__all__ = ["compile_network"]
