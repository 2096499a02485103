"""Progress of long loads on stderr: a line per stage always, bars only on a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from tqdm import tqdm


class Progress:
    def __init__(self, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.started = time.monotonic()

    def stage(self, message: str) -> None:
        if self.enabled:
            elapsed = time.monotonic() - self.started
            print(f"[{elapsed:7.1f}s] {message}", file=self.stream, flush=True)

    def bar(self, total: int, description: str) -> tqdm:
        """A tqdm bar, silent unless enabled and writing to a terminal."""
        interactive = self.enabled and self.stream.isatty()
        return tqdm(
            total=total, desc=description, unit="rows", file=self.stream, disable=not interactive
        )
