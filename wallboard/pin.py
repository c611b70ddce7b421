"""Kiosk exit PIN: stored only as a salted PBKDF2 hash, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

_ALGORITHM = "pbkdf2_sha256"
_ITERATIONS = 200_000
#: Iteration counts a stored hash may have. Below, the hash is too cheap to guess; above, checking one PIN would
#: hang the kiosk for minutes (10^12 iterations: days), so such a hash is refused, never computed.
MIN_ITERATIONS = 10_000
MAX_ITERATIONS = 5_000_000


def hash_pin(pin: str, *, salt: bytes | None = None, iterations: int = _ITERATIONS) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    return f"{_ALGORITHM}${iterations}${salt.hex()}${digest.hex()}"


def is_pin_hash(stored: str) -> bool:
    """True if ``stored`` has the shape of a ``hash_pin`` result (so a config check can refuse a plain PIN)."""
    parts = stored.split("$")
    if len(parts) != 4 or parts[0] != _ALGORITHM or not parts[1].isascii() or not parts[1].isdigit():
        return False
    if len(parts[1]) > 9 or not MIN_ITERATIONS <= int(parts[1]) <= MAX_ITERATIONS:
        return False
    try:
        return len(bytes.fromhex(parts[2])) >= 8 and len(bytes.fromhex(parts[3])) == 32
    except ValueError:
        return False


def verify_pin(pin: str, stored: str) -> bool:
    """True if ``pin`` matches ``stored`` (a ``hash_pin`` result). A malformed ``stored`` never matches."""
    if not is_pin_hash(stored):
        return False
    try:
        _, iterations_text, salt_hex, digest_hex = stored.split("$")
        digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt_hex), int(iterations_text))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)
