"""Which customers an analysis covers: everyone, a set of ids, or a condition over a customer table.

A ``Segment`` renders one SQL condition on a customer-id column, e.g.
``o.customer_id IN (SELECT customer_id FROM customer_segments WHERE rfm_segment = 'Important Value')``.
The condition goes through the guard with the rest of the query (so ``where`` can
only name columns the caller's schema admits) and, for a governed caller, through
the row rules (``metrics.governed_reader``). ``where`` is SQL: it must come from the
planner or compiler (a compiled filter), never from raw user text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from semantic_layer.errors import UserError
from semantic_layer.schema import Text

E_SEGMENT = 261
MAX_INLINE_IDS = 5_000  # the guard refuses SQL over 100,000 characters
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Segment:
    """Customers to keep; ``None`` fields do not restrict.

    ``customer_ids``: explicit ids (at most ``MAX_INLINE_IDS``; larger sets should be
    a condition over a table). ``where``: a boolean SQL condition over ``table``'s
    columns (default the ``customers`` table), e.g. ``region = 'East'``, or over the
    workspace model ``customer_segments`` (``rfm_segment = 'Important Value'``).
    ``label`` names the segment in findings.
    """

    customer_ids: frozenset[int] | None = None
    where: str | None = None
    table: str = "customers"
    label: Text | None = None

    def condition(self, column: str) -> str:
        """The SQL condition on ``column`` (a qualified customer-id column); ``TRUE`` for everyone.

        >>> Segment(customer_ids=frozenset({3, 1})).condition("o.customer_id")
        'o.customer_id IN (1, 3)'
        """
        parts: list[str] = []
        if self.customer_ids is not None:
            ids = sorted(int(i) for i in self.customer_ids)
            if len(ids) > MAX_INLINE_IDS:
                raise UserError(E_SEGMENT, f"客户名单过长({len(ids)} 个),请改用条件筛选分群。",
                                f"Too many customer ids ({len(ids)}); describe the segment by a condition instead.")
            parts.append(f"{column} IN ({', '.join(map(str, ids))})" if ids else "FALSE")
        if self.where:
            if not _NAME.match(self.table):
                raise UserError(E_SEGMENT, f"分群表名无效: {self.table}", f"Invalid segment table name: {self.table}")
            parts.append(f"{column} IN (SELECT customer_id FROM {self.table} WHERE {self.where})")
        return " AND ".join(parts) if parts else "TRUE"


EVERYONE = Segment()


def label_of(segment: Segment | None, lang: str) -> str:
    """The segment's name in ``lang`` ('' for everyone)."""
    if segment is None or segment.label is None:
        return ""
    return segment.label.get(lang)
