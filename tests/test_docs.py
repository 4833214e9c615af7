"""The README documents every CLI command and every setting (as sqlite-utils' test_docs does)."""

from __future__ import annotations

import re

import pytest

from planbot.cli import main
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
ENV_EXAMPLE = (ROOT / ".env.example").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_cli_command_is_documented(command):
    assert f"planbot {command}" in README


def test_every_setting_read_is_in_env_example():
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "indexer").glob("*.py"))
    names = set(re.findall(r"\b((?:PLANBOT|TELEGRAM)_[A-Z_]+)\b", source)) - {"TELEGRAM_LIMIT"}
    missing = [n for n in sorted(names) if not re.search(rf"^{n}=", ENV_EXAMPLE, flags=re.M)]
    assert missing == []


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    assert "bash scripts/demo.sh" in README and "bash scripts/test.sh" in README
    assert "bash scripts/test.sh" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
