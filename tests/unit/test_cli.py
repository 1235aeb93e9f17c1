"""`baton --help`: the commands and every option say what they do."""

from __future__ import annotations

import argparse
import subprocess

from baton_local.cli import parser
from tests.support.localserver import BATON


def test_every_command_and_option_has_a_description() -> None:
    top = parser()
    assert top.description
    commands = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    summaries = {c.dest: c.help for c in commands._choices_actions}
    assert set(commands.choices) == {"serve", "migrate", "sweep", "token", "credentials"}
    for name, command in commands.choices.items():
        assert summaries[name] and command.description, name
        for action in command._actions:
            assert action.help and action.help != argparse.SUPPRESS, (name, action.dest)


def test_help_is_printed_by_the_installed_command() -> None:
    top = subprocess.run([BATON, "--help"], capture_output=True, text=True, check=True).stdout
    assert "serve" in top and "run the API locally" in top and "token" in top
    serve = subprocess.run([BATON, "serve", "--help"], capture_output=True, text=True, check=True).stdout
    assert "--dynamodb-endpoint URL" in serve and "LOG_LEVEL" in serve
    token = subprocess.run([BATON, "token", "--help"], capture_output=True, text=True, check=True).stdout
    assert "PM_FACTORY" in token and "--ttl SECONDS" in token
