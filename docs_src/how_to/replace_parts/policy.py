from fastapi import FastAPI

from fastapi_userkit import PasswordPolicy, include_user_router
from fastapi_userkit.policy import common_password_rule, common_passwords, length_rule

BREACHED = {"correct horse battery staple"}  # stands in for your breach service


async def my_breach_check(password: str, email: str | None) -> list[str]:
    if password in BREACHED:
        return ["Password has appeared in a data breach; choose another one."]
    return []


policy = PasswordPolicy(
    [length_rule(15, 256), common_password_rule(common_passwords())],
    validators=[my_breach_check],
)
app = FastAPI()
kit = include_user_router(app, password_policy=policy)
