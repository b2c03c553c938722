"""Work abandoned by its client (service/api/disconnect.py): the answer when the work finishes
first; ClientGone, and the work cancelled, when the disconnect comes first."""

from __future__ import annotations

import asyncio

import pytest

from service.api.disconnect import ClientGone, unless_client_leaves


class Connection:
    """The part of a Request the helper reads: receive(), which yields the disconnect on cue."""

    def __init__(self) -> None:
        self.gone = asyncio.Event()

    async def receive(self) -> dict[str, str]:
        await self.gone.wait()
        return {"type": "http.disconnect"}


def test_the_answer_comes_back_when_the_work_finishes_first() -> None:
    async def main() -> None:
        connection = Connection()

        async def work() -> str:
            return "converted"

        assert await unless_client_leaves(connection, work()) == "converted"  # type: ignore[arg-type]

    asyncio.run(main())


def test_a_client_that_leaves_cancels_the_work() -> None:
    async def main() -> None:
        connection = Connection()
        started, cancelled = asyncio.Event(), asyncio.Event()

        async def work() -> str:
            started.set()
            try:
                await asyncio.Event().wait()  # never done on its own
            except asyncio.CancelledError:
                cancelled.set()
                raise
            return "never"

        waiting = asyncio.ensure_future(unless_client_leaves(connection, work()))  # type: ignore[arg-type]
        await started.wait()
        connection.gone.set()
        with pytest.raises(ClientGone):
            await waiting
        await asyncio.wait_for(cancelled.wait(), 5)

    asyncio.run(main())


def test_messages_before_the_disconnect_are_skipped() -> None:
    async def main() -> None:
        messages = asyncio.Queue[dict[str, str]]()
        calls = asyncio.Queue[int]()

        class Chatty:
            count = 0

            async def receive(self) -> dict[str, str]:
                self.count += 1
                calls.put_nowait(self.count)
                return await messages.get()

        async def work() -> None:
            await asyncio.Event().wait()

        waiting = asyncio.ensure_future(unless_client_leaves(Chatty(), work()))  # type: ignore[arg-type]
        assert await calls.get() == 1
        messages.put_nowait({"type": "http.request"})
        assert await calls.get() == 2  # it read that message and is waiting for the next
        assert not waiting.done()
        messages.put_nowait({"type": "http.disconnect"})
        with pytest.raises(ClientGone):
            await waiting

    asyncio.run(main())


def test_cancelling_the_handler_cancels_the_work() -> None:
    async def main() -> None:
        started, cancelled = asyncio.Event(), asyncio.Event()

        async def work() -> None:
            started.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.set()
                raise

        waiting = asyncio.ensure_future(unless_client_leaves(Connection(), work()))  # type: ignore[arg-type]
        await started.wait()
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await asyncio.wait_for(cancelled.wait(), 5)

    asyncio.run(main())
