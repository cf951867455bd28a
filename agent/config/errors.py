"""The error every config check raises, and the two checks most schemas share."""

from __future__ import annotations

from typing import Any


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the key and the allowed values."""


def check_choice(key: str, value: Any, allowed: tuple) -> None:
    """``key=value`` must be one of ``allowed``."""
    if value not in allowed:
        raise ConfigError(f"{key}={value!r} is not allowed; choose one of {list(allowed)}")


def check_positive(key: str, value: float) -> None:
    """``key=value`` must be > 0."""
    if not value > 0:
        raise ConfigError(f"{key}={value!r} must be > 0")
