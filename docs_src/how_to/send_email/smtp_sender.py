import os

from fastapi import FastAPI

from fastapi_userkit import SMTPEmailSender, include_user_router

smtp_password = os.environ["SMTP_PASSWORD"]  # from your secret manager

sender = SMTPEmailSender(
    host="smtp.example.com",
    port=465,
    ssl=True,
    starttls=False,
    username="apikey",
    password=smtp_password,
    from_address="no-reply@example.com",
    from_name="Acme",
    timeout=20.0,
    concurrency=8,
)
app = FastAPI()
kit = include_user_router(app, email_sender=sender)
