"""An e-mail sender that keeps what it is given, and the links' tokens."""

import re

from fastapi_userkit import EmailMessage, EmailSender


class Outbox(EmailSender):
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def send(self, message: EmailMessage) -> None:
        self.messages.append(message)

    def tokens(self) -> list[str]:
        return [
            m.group(1)
            for message in self.messages
            for m in re.finditer(r"token=([A-Za-z0-9_\-\.]+)", message.text)
        ]
