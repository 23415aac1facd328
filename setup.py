"""The build: pure Python, unless ``VPCSIM_COMPILE=1`` asks for the engine compiled with mypyc.

    VPCSIM_COMPILE=1 pip install --no-build-isolation .

compiles the modules a packet runs through (the engine, its node handlers, TCP, queues, packets)
to C extensions with mypyc: about three times the link-hops per second of the interpreted engine,
the same results to the last bit. It needs a C compiler, Python's headers, and mypy plus vpcsim's
dependencies installed in the environment doing the build (hence ``--no-build-isolation``). An
editable install (``pip install -e``, what scripts/setup.sh makes for development and tests) is
never compiled, so an edit takes effect at once.
"""

from __future__ import annotations

import os

from setuptools import setup

COMPILED = [
    "src/vpcsim/sim/engine.py",
    "src/vpcsim/sim/nodes.py",
    "src/vpcsim/sim/connection.py",
    "src/vpcsim/sim/congestion.py",
    "src/vpcsim/sim/spans.py",
    "src/vpcsim/sim/queues.py",
    "src/vpcsim/sim/flight.py",
    "src/vpcsim/sim/packet.py",
    "src/vpcsim/sim/tcp.py",
    "src/vpcsim/sim/datagram.py",
    "src/vpcsim/sim/sessions.py",
    "src/vpcsim/sim/ports.py",
    "src/vpcsim/sim/rng.py",
    "src/vpcsim/ir/lpm.py",
]
"""What a packet runs through, hop by hop: the rest (loading, compiling, reports) runs once."""

if os.environ.get("VPCSIM_COMPILE") == "1":
    from mypyc.build import mypycify

    setup(ext_modules=mypycify(COMPILED, opt_level="3"))
else:
    setup()
