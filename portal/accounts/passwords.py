"""Password hashing (argon2) and the rules a new password must meet."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from portal.errors import WeakPassword

MIN_LENGTH = 10
MAX_LENGTH = 128
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_strength(password: str, email: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"Use at most {MAX_LENGTH} characters.")
    lowered = password.strip().lower()
    if lowered in (email.lower(), email.split("@")[0].lower()):
        raise WeakPassword("Your password must not be your email address.")
    if len(set(password)) < 4:
        raise WeakPassword("That password is too easy to guess: mix more characters.")
