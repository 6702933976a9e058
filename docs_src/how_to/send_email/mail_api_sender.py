import httpx
from fastapi import FastAPI

from fastapi_userkit import EmailMessage, EmailSender, include_user_router


class MailApiSender(EmailSender):
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def send(self, message: EmailMessage) -> None:
        response = await self.client.post(
            "/v1/messages",
            json={
                "to": message.to,
                "subject": message.subject,
                "text": message.text,
                "html": message.html,
            },
        )
        response.raise_for_status()


mail_api = httpx.AsyncClient(
    base_url="https://mail-api.example.com", headers={"Authorization": "Bearer ..."}, timeout=10
)
app = FastAPI()
kit = include_user_router(app, email_sender=MailApiSender(mail_api))
