"""Hashes stored before libpass replaced passlib 1.7.4 keep verifying."""

from __future__ import annotations

import passlib

from socstat.services import passwords

# Made with passlib 1.7.4 (argon2-cffi backend) and the production parameters:
#   CryptContext(schemes=["argon2"], argon2__type="ID", argon2__time_cost=3,
#                argon2__memory_cost=65536, argon2__parallelism=4).hash(PASSWORD)
PASSLIB_174_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$QMiZszbmnBOiFMJ4z3mPUQ"
    "$mxx3vnUfsDTPLKFVMJNSoLZu0dN4cnE9vyB1BOnuFjg"
)
PASSWORD = "Legacy-passlib-1.7.4-password"


def test_a_passlib_1_7_4_argon2id_hash_still_verifies():
    assert not passlib.__version__.startswith("1.7.")  # libpass, not the old passlib
    assert passwords.verify_password(PASSWORD, PASSLIB_174_HASH)
    assert not passwords.verify_password(PASSWORD + "x", PASSLIB_174_HASH)
