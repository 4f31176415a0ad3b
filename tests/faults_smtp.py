"""A local SMTP server for the fault tests (aiosmtpd), which can die part way through."""

from __future__ import annotations

import asyncio
from email import message_from_bytes
from email.message import Message

from aiosmtpd.controller import Controller


class RecordingHandler:
    """Keeps every message the server accepts. With `die_after`, the server goes down once it
    has accepted that many: the last one is accepted (250 to DATA) and then the connection is
    dropped before the client's QUIT is answered, and nothing listens on the port any more."""

    def __init__(self, received: list[Message], die_after: int | None = None):
        self.received = received
        self.die_after = die_after
        self.controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.received.append(message_from_bytes(envelope.content))
        return "250 OK"

    async def handle_QUIT(self, server, session, envelope):  # noqa: N802
        if self.die_after is not None and len(self.received) >= self.die_after:
            self.controller.server.close()  # stop listening: the next connection is refused
            server.transport.abort()  # the goodbye is never answered
            await asyncio.sleep(3600)  # cancelled when the connection is lost
        return "221 Bye"


class SmtpServers:
    """SMTP servers started one after another on one port; `received` is every message any
    of them accepted, in order."""

    def __init__(self, port: int):
        self.port = port
        self.received: list[Message] = []
        self.running: list[Controller] = []

    def start(self, die_after: int | None = None) -> None:
        handler = RecordingHandler(self.received, die_after)
        controller = Controller(handler, hostname="127.0.0.1", port=self.port)
        handler.controller = controller
        controller.start()
        self.running.append(controller)

    def stop(self) -> None:
        while self.running:
            self.running.pop().stop(no_assert=True)
