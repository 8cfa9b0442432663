"""Optional password protection for a shared dashboard deployment.

The password itself is never stored: `finsent dashboard hash-password` prints a
salted PBKDF2 hash, which goes into FINSENT_DASHBOARD_PASSWORD_HASH. The app
compares with hmac.compare_digest so the check takes the same time whether the
first or the last byte differs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ALGORITHM = "pbkdf2_sha256"
DEFAULT_ITERATIONS = 600_000  # OWASP 2023 guidance for PBKDF2-HMAC-SHA256


class PasswordHashError(ValueError):
    """The configured hash is not in the form `hash_password` writes."""


def hash_password(password: str, iterations: int = DEFAULT_ITERATIONS, salt: bytes | None = None) -> str:
    """A string `pbkdf2_sha256$<iterations>$<salt hex>$<digest hex>` to put in the settings."""
    if not password:
        raise ValueError("the password must not be empty")
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"{ALGORITHM}${iterations}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored_hash: str) -> bool:
    """True when password matches stored_hash; raises PasswordHashError on a malformed hash."""
    parts = stored_hash.split("$")
    if len(parts) != 4 or parts[0] != ALGORITHM or not parts[1].isdigit():
        raise PasswordHashError(
            "FINSENT_DASHBOARD_PASSWORD_HASH: expected pbkdf2_sha256$<iterations>$<salt>$<digest> "
            "as printed by `finsent dashboard hash-password`")
    try:
        salt, expected = bytes.fromhex(parts[2]), bytes.fromhex(parts[3])
    except ValueError:
        raise PasswordHashError("FINSENT_DASHBOARD_PASSWORD_HASH: salt and digest must be hex") from None
    actual = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, int(parts[1]))
    return hmac.compare_digest(actual, expected)
