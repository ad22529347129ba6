"""Progress of an import: a plain callback the UI can use, a tqdm bar for the terminal when tqdm is installed.

An import is a fixed list of steps (stage each source, clean each table, write);
long steps are single DuckDB statements, so within a step the fraction comes
from polling ``query_progress()`` on the running connection from a thread.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import duckdb

#: ``callback(step label, overall fraction 0..1)``
ProgressFn = Callable[[str, float], None]


class Tracker:
    """Counts finished steps and reports the overall fraction to ``callback``."""

    def __init__(self, callback: ProgressFn | None, steps: int, con: duckdb.DuckDBPyConnection | None = None) -> None:
        self.callback = callback
        self.steps = max(steps, 1)
        self.done = 0
        self.con = con

    def _emit(self, label: str, within: float = 0.0) -> None:
        if self.callback is not None:
            self.callback(label, min(1.0, (self.done + max(0.0, min(within, 1.0))) / self.steps))

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        """Run one step; while it runs, poll DuckDB's progress for the fraction within it."""
        self._emit(label)
        stop = threading.Event()
        poller = None
        if self.callback is not None and self.con is not None:
            poller = threading.Thread(target=self._poll, args=(label, stop), daemon=True)
            poller.start()
        try:
            yield
        finally:
            stop.set()
            if poller is not None:
                poller.join()
            self.done += 1
            self._emit(label)

    def _poll(self, label: str, stop: threading.Event) -> None:
        assert self.con is not None
        while not stop.wait(0.5):
            try:
                pct = self.con.query_progress()
            except duckdb.Error:
                return
            if pct is not None and pct >= 0:
                self._emit(label, pct / 100.0)


def terminal_progress() -> tuple[ProgressFn, Callable[[], None]]:
    """A (callback, close) pair for the CLI: a tqdm bar when tqdm is installed, else one line per step."""
    try:
        from tqdm import tqdm
    except ImportError:
        last: list[str] = []

        def plain(label: str, fraction: float) -> None:
            if not last or last[-1] != label:
                last.append(label)
                print(f"[{fraction:4.0%}] {label}", file=sys.stderr, flush=True)

        return plain, lambda: None
    bar: Any = tqdm(total=1000, unit="‰", file=sys.stderr, bar_format="{l_bar}{bar}| {elapsed}")

    def update(label: str, fraction: float) -> None:
        bar.set_description_str(label[:40])
        bar.n = int(fraction * 1000)
        bar.refresh()

    return update, bar.close
