"""The API token: from an environment variable or the OS keyring; never from a file, never logged."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from wallboard.config import ApiConfig
from wallboard.logsetup import register_secret

log = logging.getLogger(__name__)
KEYRING_USERNAME = "api-token"


def resolve_token(api: ApiConfig, environ: Mapping[str, str] | None = None) -> str | None:
    """The bearer token, or None if neither source has one. The token is registered for log redaction."""
    environ = os.environ if environ is None else environ
    # Whitespace around a token is never part of it (``export T=$(cat ...)``, a pasted keyring entry).
    token = (environ.get(api.token_env) or "").strip() or None
    source = f"${api.token_env}"
    if token is None:
        try:
            import keyring
            from keyring.errors import KeyringError

            try:
                token = (keyring.get_password(api.keyring_service, KEYRING_USERNAME) or "").strip() or None
                source = f"keyring service {api.keyring_service!r}"
            except KeyringError as exc:
                log.info("OS keyring not available (%s); no API token from it", type(exc).__name__)
            except Exception as exc:  # a broken backend (D-Bus, locked wallet) must not stop the board
                log.warning("OS keyring failed (%s); no API token from it", type(exc).__name__)
        except ImportError:
            pass
    if token:
        register_secret(token)
        log.info("API token loaded from %s", source)
    return token or None


def store_token(api: ApiConfig, token: str) -> None:
    """Put the token into the OS keyring (for `wallboard config`-style set-up tools)."""
    import keyring

    keyring.set_password(api.keyring_service, KEYRING_USERNAME, token)
    register_secret(token)
