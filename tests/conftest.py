"""Shared test set-up: headless rendering through EGL unless the caller chose a backend."""

import os

os.environ.setdefault("MUJOCO_GL", "egl")
