"""What this process last wrote (or leased) of each job row, so that a save sends only what changed.

A save used to SET every column, and SQLite then rewrites the entry of every index holding a column
in the SET list, changed or not (five secondary indexes on ``jobs``; PostgreSQL, for its part, cannot
make such an update HOT). A save after a create or a poll changes one or two indexed columns (the
native id, the next poll time): with only those sent, the save after a create writes 4 pages to the
WAL instead of 7 (``tests/store/test_stored_rows.py`` counts them).

A remembered row is keyed by its job id and version, and it is used only when the save names that
version: every write of a jobs row bumps its version (saves, leases, claims, the bench's bulk stop),
and the save's ``WHERE version = ?`` makes sure the stored row is still the remembered one; otherwise
nothing is updated, as before. Rows are remembered only once their transaction has committed. JSON
columns are always sent: their values are mutable (a caller may change a payload in place after a
save) and no index holds them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from vidgate.store.sql.tables import jobs

ALWAYS_SENT = frozenset(column.name for column in jobs.c if isinstance(column.type, sa.JSON))
LIMIT = 2048  # in-flight creates and a poller round's claims fit many times over


class StoredRows:
    """A bounded, least-recently-remembered-first map: job id -> (version, the row)."""

    def __init__(self, limit: int = LIMIT) -> None:
        self._limit = limit
        self._rows: OrderedDict[str, tuple[int, Mapping[str, Any]]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._rows)

    def remember(self, row: Mapping[str, Any]) -> None:
        """``row`` (a whole jobs row, ``id`` and ``version`` included) is what the database now holds.
        Kept as it is, not copied: the caller hands it over (its JSON values are never compared)."""
        job_id = row["id"]
        self._rows[job_id] = (row["version"], row)
        self._rows.move_to_end(job_id)
        if len(self._rows) > self._limit:
            self._rows.popitem(last=False)

    def forget(self, job_id: str) -> None:
        self._rows.pop(job_id, None)

    def changes(self, job_id: str, version: int, values: dict[str, Any]) -> dict[str, Any]:
        """Of ``values`` (columns to SET over version ``version``), those that differ from the row
        remembered at that version, plus the JSON columns; all of them when none is remembered."""
        known = self._rows.get(job_id)
        if known is None or known[0] != version:
            return values
        stored = known[1]
        return {k: v for k, v in values.items() if k in ALWAYS_SENT or k not in stored or stored[k] != v}
