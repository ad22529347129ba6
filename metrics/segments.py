"""Saved segments (分群): a named set of customer ids with where it came from, kept as JSON files.

"把这些客户存为分群 VIP挽回" saves the customer ids of an answer with its
definition (the semantic query or filter it came from), the author and the
time, as ``$CHATBI_HOME/segments/<id>.json`` (default ``~/.chatbi``), written
atomically (``semantic_layer.store.write_atomic``) under a lock file. The id is
the name's ASCII letters plus a hash of the name (``VIP挽回`` → ``vip-1c4e2a9d``),
so the same name always maps to the same file and any name is a safe file name.
Tracking a saved segment over time is ``metrics.tracking``.

Ids are stored exactly as the answer gave them; a segment saved by a user with
row rules only ever holds ids that user could see, and tracking runs under the
viewer's own rules (ids outside them drop out).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from semantic_layer.errors import UserError
from semantic_layer.store import write_atomic

MAX_NAME = 64
_CONTROL = re.compile(r"[\x00-\x1f\x7f/\\]")


class SavedSegment(BaseModel):
    """One saved segment as stored on disk (JSON)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str = Field(min_length=1, max_length=MAX_NAME)
    customer_ids: list[int | str]
    #: Where the ids came from: {"semantic_query": {...}} or {"filters": [...]} or {"rfm_segment": ...}.
    definition: dict[str, Any] = Field(default_factory=dict)
    description: str = ""
    author: str
    created_at: dt.datetime  # UTC
    as_of: dt.date | None = None  # the data's as-of date when saved
    size: int


def segments_home(env: Mapping[str, str] | None = None) -> Path:
    """``$CHATBI_HOME/segments`` (default ``~/.chatbi/segments``)."""
    env = os.environ if env is None else env
    return Path(env.get("CHATBI_HOME") or Path.home() / ".chatbi").expanduser() / "segments"


def segment_id(name: str) -> str:
    """A file-safe id for a segment name: its ASCII letters and digits plus a hash of the name.

    >>> segment_id("VIP挽回"), segment_id("vip挽回") == segment_id("VIP挽回"), segment_id("重要客户")[:4]
    ('vip-026649a6', True, 'seg-')
    """
    key = " ".join(name.split()).casefold()
    stem = re.sub(r"[^a-z0-9]+", "-", key).strip("-")[:24] or "seg"
    return f"{stem}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def normalise_ids(ids: Iterable[Any]) -> list[int | str]:
    """Unique ids, sorted; integer-like values (``"42"``, ``42.0``) become ints.

    >>> normalise_ids([3, "1", 1.0, 3])
    [1, 3]
    """
    out: set[int | str] = set()
    for v in ids:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        if isinstance(v, bool):
            v = int(v)
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        elif isinstance(v, str) and re.fullmatch(r"-?\d+", v.strip()):
            v = int(v.strip())
        out.add(v if isinstance(v, int) else str(v))
    return sorted(out, key=lambda x: (isinstance(x, str), x))


class SegmentStore:
    """List, save, read and delete saved segments under one folder."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else segments_home()

    def path(self, name_or_id: str) -> Path:
        ident = name_or_id if re.fullmatch(r"[a-z0-9-]+-[0-9a-f]{8}", name_or_id) else segment_id(name_or_id)
        return self.root / f"{ident}.json"

    def save(self, name: str, customer_ids: Iterable[Any], *, author: str,
             definition: Mapping[str, Any] | None = None, description: str = "", as_of: dt.date | None = None,
             overwrite: bool = False, now: dt.datetime | None = None) -> SavedSegment:
        """Store a new segment; an existing name is refused unless ``overwrite``."""
        name = " ".join((name or "").split())
        if not name or len(name) > MAX_NAME or _CONTROL.search(name):
            raise UserError(266, f"分群名称无效: 需 1–{MAX_NAME} 个字符, 不含 / \\ 或控制字符",
                            f"invalid segment name: 1–{MAX_NAME} characters, no / \\ or control characters")
        ids = normalise_ids(customer_ids)
        if not ids:
            raise UserError(267, "没有客户可存为分群(结果中没有客户编号)",
                            "no customers to save (the result has no customer ids)")
        segment = SavedSegment(
            id=segment_id(name), name=name, customer_ids=ids, definition=dict(definition or {}),
            description=description, author=author, created_at=(now or dt.datetime.now(dt.UTC)),
            as_of=as_of, size=len(ids))
        with self._locked():
            path = self.path(segment.id)
            if path.exists() and not overwrite:
                raise UserError(264, f"已有名为「{name}」的分群; 换个名称或选择覆盖",
                                f"a segment named '{name}' already exists; pick another name or overwrite it",
                                [name])
            write_atomic(path, segment.model_dump_json(indent=1))
        return segment

    def get(self, name_or_id: str) -> SavedSegment:
        path = self.path(name_or_id)
        if not path.exists():
            raise UserError(265, f"找不到分群「{name_or_id}」", f"no saved segment '{name_or_id}'",
                            [s.name for s in self.list()][:5])
        return SavedSegment.model_validate_json(path.read_text(encoding="utf-8"))

    def list(self) -> list[SavedSegment]:
        """Every saved segment, newest first (unreadable files are skipped)."""
        out = []
        for p in self.root.glob("*.json") if self.root.exists() else []:
            try:
                out.append(SavedSegment.model_validate_json(p.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue
        return sorted(out, key=lambda s: (s.created_at, s.id), reverse=True)

    def delete(self, name_or_id: str) -> None:
        with self._locked():
            path = self.path(name_or_id)
            if not path.exists():
                raise UserError(265, f"找不到分群「{name_or_id}」", f"no saved segment '{name_or_id}'")
            path.unlink()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def to_json(segment: SavedSegment) -> dict[str, Any]:
    """The segment as plain JSON values (for an answer or the CLI)."""
    data: dict[str, Any] = json.loads(segment.model_dump_json())
    return data
