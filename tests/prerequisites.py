"""What a test does when something it needs is not installed: skip on a developer's
machine, fail under CI (``CI`` set) or the test command (``WANGGE_WITH_BROWSER=1``), where
a skip would hide a missing install step."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def must_have_everything() -> bool:
    return bool(os.environ.get("CI")) or os.environ.get("WANGGE_WITH_BROWSER") == "1"


def unavailable(reason: str) -> NoReturn:
    if must_have_everything():
        pytest.fail(f"{reason} (a skip here would hide a missing install step)")
    pytest.skip(reason)
