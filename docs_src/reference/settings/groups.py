from fastapi_userkit import UserKitSettings
from fastapi_userkit.config import PasswordSettings

settings = UserKitSettings(passwords=PasswordSettings(bcrypt_rounds=13, password_min_length=12))
rounds = settings.passwords.bcrypt_rounds  # 13, the same as settings.bcrypt_rounds
