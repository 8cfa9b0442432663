"""The dashboard's optional password: PBKDF2 hashes, constant-time comparison, readable errors."""

from __future__ import annotations

import pytest

from dashboards.auth import PasswordHashError, hash_password, verify_password


def test_the_right_password_verifies_and_a_wrong_one_does_not() -> None:
    stored = hash_password("correct horse", iterations=1_000)
    assert stored.startswith("pbkdf2_sha256$1000$")
    assert verify_password("correct horse", stored)
    assert not verify_password("correct hors", stored)


def test_two_hashes_of_one_password_differ_by_salt() -> None:
    assert hash_password("pw", iterations=1_000) != hash_password("pw", iterations=1_000)


@pytest.mark.parametrize("stored", ["plain-text", "md5$1$aa$bb", "pbkdf2_sha256$many$aa$bb"])
def test_a_malformed_hash_names_the_setting(stored: str) -> None:
    with pytest.raises(PasswordHashError, match="FINSENT_DASHBOARD_PASSWORD_HASH: expected pbkdf2_sha256"):
        verify_password("pw", stored)


def test_a_non_hex_salt_is_reported() -> None:
    with pytest.raises(PasswordHashError, match="salt and digest must be hex"):
        verify_password("pw", "pbkdf2_sha256$1000$zz$00")


def test_an_empty_password_cannot_be_hashed() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        hash_password("")
