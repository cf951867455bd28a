"""Hydra's and OmegaConf's errors rewritten to name the key, the expected type and the
closest valid key."""

from __future__ import annotations

import difflib
import re
from typing import Any

from omegaconf import DictConfig, OmegaConf

_TYPE_NAMES = {
    "Integer": "an integer",
    "Float": "a number",
    "Boolean": "true or false",
    "String": "a string",
}


def type_error(exc: BaseException) -> str | None:
    """``"budget must be an integer, got 'abc'"`` for a value of the wrong type, else None."""
    seen: BaseException | None = exc
    for _ in range(5):  # Hydra wraps OmegaConf's ValidationError
        if seen is None:
            break
        text = str(seen)
        found = re.search(r"Value '(.*)' of type '\w+' could not be converted to (\w+)", text)
        key = re.search(r"full_key: (\S+)", text)
        if found and key:
            expected = _TYPE_NAMES.get(found.group(2), f"of type {found.group(2)}")
            return f"{key.group(1)} must be {expected}, got {found.group(1)!r}"
        found = re.search(r"Value '(.*)' is not a valid bool", text)
        if found and key:
            return f"{key.group(1)} must be true or false, got {found.group(1)!r}"
        seen = seen.__cause__ or seen.__context__
    return None


def explain(message: str, schema: type) -> str:
    """Hydra/OmegaConf's message, plus the valid keys (and the closest one) for an unknown key."""
    noise = (
        "    object_type",
        "To append to your config",
    )  # internals, and advice that cannot work here
    keep = [line for line in message.splitlines() if line.strip() and not line.startswith(noise)]
    text = "\n".join(keep)
    match = re.search(r"(?:Could not override|Key) '([^']+)'", message)
    if match:
        *parents, leaf = match.group(1).lstrip("+").split(".")
        node: Any = OmegaConf.structured(schema)
        for part in parents:
            node = node.get(part) if isinstance(node, DictConfig) else None
        if isinstance(node, DictConfig):
            valid = [str(k) for k in node]
            close = difflib.get_close_matches(leaf, valid, n=1)
            hint = f" Did you mean '{'.'.join([*parents, close[0]])}'?" if close else ""
            text = f"unknown key '{match.group(1)}'.{hint} Valid keys here: {valid}\n{text}"
    return text
