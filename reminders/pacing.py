"""Pacing of reminder sends: one at a time, within Telegram's broadcast limits.

Telegram asks bots to send bulk notifications at no more than about 30 messages per second
overall, one message per second to a chat and 20 per minute to a group
(https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this). Reminder
broadcasts go through one `Pacer` per reminder service; answers to users do not, so a digest to
many chats never slows them down (and leaves them headroom under the overall limit).

One send at a time is also what bounds a crash: the only reminder whose fate is unknown after a
kill is the one whose request was in flight, so at most one message is resent per crash.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

OVERALL_PER_SECOND = 25.0  # under Telegram's ~30/s, leaving room for answers to users
PRIVATE_GAP = 1.0  # seconds between two messages to one private chat
GROUP_GAP = 3.0  # groups: 20 messages per minute


class Pacer:
    """Admits one reminder send at a time, spaced `1 / per_second` apart overall and `gap(chat)`
    apart in one chat. A chat waiting for its own turn does not hold up the others."""

    def __init__(
        self,
        per_second: float = OVERALL_PER_SECOND,
        private_gap: float = PRIVATE_GAP,
        group_gap: float = GROUP_GAP,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.spacing = 1.0 / per_second if per_second > 0 else 0.0
        self.private_gap = private_gap
        self.group_gap = group_gap
        self.clock = clock
        self._lock: asyncio.Lock | None = None
        self._next = 0.0  # earliest start of the next send, any chat
        self._chat_next: dict[int, float] = {}

    def gap(self, chat_id: int) -> float:
        return self.group_gap if chat_id < 0 else self.private_gap  # groups have negative ids

    @asynccontextmanager
    async def slot(self, chat_id: int) -> AsyncIterator[None]:
        """Hold the only send slot (first come, first served) for one message to `chat_id`."""
        await self._wait_until(lambda: self._chat_next.get(chat_id, 0.0))
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            await self._wait_until(lambda: max(self._next, self._chat_next.get(chat_id, 0.0)))
            start = self.clock()
            self._next = start + self.spacing
            self._chat_next[chat_id] = start + self.gap(chat_id)
            yield

    async def _wait_until(self, when: Callable[[], float]) -> None:
        while (wait := when() - self.clock()) > 0:
            await asyncio.sleep(wait)
