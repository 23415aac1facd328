"""Every subcommand's ``--help`` tells a user how to call it, what its exit status means and where
the codes it prints are explained."""

from __future__ import annotations

import re
import shlex

import pytest

from tests.conftest import ROOT
from vpcsim.cli import cli, main

README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(cli.commands)


def help_of(capsys: pytest.CaptureFixture[str], command: str) -> str:
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code in (0, None)
    return capsys.readouterr().out


def test_every_subcommand_is_covered() -> None:
    assert set(COMMANDS) == {"telnet", "nc", "ping", "transfer", "load", "check", "validate", "emulate"}


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_an_example_the_exit_codes_and_where_reason_codes_are(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    text = help_of(capsys, command)
    example = re.search(r"Example:\n\s+(vpcsim .+)\n", text)
    assert example is not None, text
    args = shlex.split(example.group(1))
    assert args[:2] == ["vpcsim", command]
    assert (ROOT / args[2]).is_file(), f"the example's scenario {args[2]} is not in the repository"
    codes = re.search(r"Exit codes:\n((?:\s+\d  .+\n)+)", text)
    assert codes is not None, text
    assert [line.split()[0] for line in codes.group(1).splitlines()][:3] == ["0", "1", "2"]
    assert 'Reason codes: README.md, section "Reason codes"' in " ".join(text.split())


def test_the_section_the_help_points_to_exists() -> None:
    assert re.search(r"^### Reason codes$", README, flags=re.MULTILINE)
    assert re.search(r"^#### Warning codes$", README, flags=re.MULTILINE)


# emulate's example needs root and the kernel tools; README's emulate example runs under the kernel marker.
@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "emulate"])
def test_the_help_example_runs(
    capsys: pytest.CaptureFixture[str], command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The example is a command that works as written, from the repository root."""
    monkeypatch.chdir(ROOT)
    text = help_of(capsys, command)
    example = re.search(r"Example:\n\s+(vpcsim .+)\n", text)
    assert example is not None
    with pytest.raises(SystemExit) as done:
        main(shlex.split(example.group(1))[1:])
    assert done.value.code in (0, 1)
