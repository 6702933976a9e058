from fastapi import FastAPI

from fastapi_userkit import EmailMessage, EmailTemplates, include_user_router


class Templates(EmailTemplates):
    app_name = "Acme"

    def reset_password(self, *, email: str, link: str, ttl_minutes: int) -> EmailMessage:
        return self.render(
            to=email,
            subject="Reset your Acme password",
            parts=[
                "Hello! Someone asked to reset the password of your Acme account.",
                self.link(link),
                f"The link works once, for {ttl_minutes} minutes.",
            ],
        )


app = FastAPI()
kit = include_user_router(app, email_templates=Templates())
