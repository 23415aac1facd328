"""Reports of probe results: Linux telnet's text with the trace, JSON, pcapng."""

from vpcsim.report.capacity import load_to_dict, render_load, render_transfer, transfer_to_dict
from vpcsim.report.json import check_to_dict, probe_to_dict
from vpcsim.report.pcap import write_captures, write_pcapng
from vpcsim.report.text import (
    render_brief,
    render_check_line,
    render_head,
    render_telnet,
    render_trace,
    telnet_command,
)

__all__ = [
    "check_to_dict",
    "load_to_dict",
    "probe_to_dict",
    "render_brief",
    "render_check_line",
    "render_head",
    "render_load",
    "render_telnet",
    "render_trace",
    "render_transfer",
    "telnet_command",
    "transfer_to_dict",
    "write_captures",
    "write_pcapng",
]
