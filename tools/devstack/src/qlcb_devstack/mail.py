"""A local SMTP server that keeps every message in a Maildir: where the system's mail (first-login
credentials sent to their holders) lands on this machine, for `make up` and the tests."""

from __future__ import annotations

import mailbox
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

from qlcb_devstack.procs import free_port


class MailSink:
    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.maildir = data_dir / "Maildir"
        self.port = port if port is not None else free_port()
        self._running = False
        self._controller = Controller(Mailbox(self.maildir), hostname="127.0.0.1", port=self.port)

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def start(self) -> None:
        self._controller.start()
        self._running = True

    def stop(self) -> None:
        if self._running:
            self._controller.stop()
            self._running = False

    def messages_to(self, recipient: str) -> list[EmailMessage]:
        """Messages to `recipient`, oldest first."""
        box = mailbox.Maildir(str(self.maildir), create=True)
        kept = sorted(box.iteritems(), key=lambda item: (item[1].get_date(), item[0]))
        parsed = [message_from_bytes(message.as_bytes(), policy=policy.default) for _, message in kept]
        return [m for m in parsed if isinstance(m, EmailMessage) and recipient in str(m["To"])]
