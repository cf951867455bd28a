"""The world model's error types, importable without torch (the CLI reports them by name)."""

from __future__ import annotations


class CheckpointError(Exception):
    """A checkpoint could not be written or read; the message names the file."""


class NonFiniteUpdateError(RuntimeError):
    """Too many consecutive world-model updates had a non-finite loss or gradient."""
