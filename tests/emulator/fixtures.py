"""pytest fixtures for end-to-end tests against the Bot API emulator.

In a conftest.py (or a test module)::

    from tests.emulator.fixtures import *  # noqa: F403

Fixtures: ``emulator`` (session-scoped EmulatorServer; the test is skipped when Node.js is
missing), ``bot_token`` (a fresh token = an isolated bot per test), ``app_builder`` (an
ApplicationBuilder already pointed at the emulator). ``running_bot(application)`` is an async
context manager that polls in the background and stops cleanly.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulator.harness import (
    BotHandlerError,
    EmulatorServer,
    EmulatorUnavailable,
    GroupChat,
    ReplyTimeout,
    TelegramUser,
    node_available,
    running_bot,
)

__all__ = [
    "BotHandlerError",
    "EmulatorServer",
    "GroupChat",
    "ReplyTimeout",
    "TelegramUser",
    "app_builder",
    "bot_token",
    "emulator",
    "requires_node",
    "running_bot",
]

NO_NODE_REASON = (
    "node is not installed: e2e tests need Node.js >= 18 for the Bot API emulator (tests/emulator)"
)

requires_node = pytest.mark.skipif(not node_available(), reason=NO_NODE_REASON)


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    if not node_available():
        pytest.skip(NO_NODE_REASON)
    server = EmulatorServer()
    try:
        server.start()
    except EmulatorUnavailable as err:
        pytest.skip(str(err))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def bot_token(emulator: EmulatorServer) -> str:
    return emulator.new_token()


@pytest.fixture
def app_builder(emulator: EmulatorServer, bot_token: str):
    return emulator.application_builder(bot_token)
