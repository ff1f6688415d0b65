"""A create's common admission and write-ahead record as one PostgreSQL statement, run in autocommit.

In a transaction (``starts._admit_and_insert``) they take ten round trips: BEGIN, the key's advisory
lock, the rate count and hit, the key's conditional UPDATE, the reservation, slot and job INSERTs, and
COMMIT. Data-modifying CTEs chain the same statements by their RETURNING rows, so PostgreSQL runs them
as one statement, which autocommit makes its own transaction: all written or none.

- ``counted``: the rate count goes up only while under the limit (the ``rate_counts`` row lock orders
  concurrent counts; PostgreSQL re-checks the condition against the committed row, as in a transaction).
- ``hit``, ``taken``: the hit row, and the key's reservation and slot count, only if counted; the key's
  UPDATE re-checks the period, the budget and the slots against the committed row (exact under
  concurrency, as ``ledger``'s module docstring says of the transaction).
- ``reserved``, ``slot``, ``job``: the rows, only if taken.

The row locks are taken in the transaction's order (the rate count, then the key), so the two paths
cannot deadlock each other. Only the common case runs here: no sweep of old hits due (``RateSweeps``),
the key's row present and its period running, and room under every limit. Otherwise the statement
reports what it did, having written nothing beyond a counted hit, and the caller runs the transaction
for the rest (the sweep, the period's rollover, or naming the refusal): exactly what a transaction
would have done, in one round trip more.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import sqlalchemy as sa

from vidgate.store.sql.admission import _COUNT_HIT
from vidgate.store.sql.ledger import _FITS, _IN_PERIOD, _MICROS
from vidgate.store.sql.prepared import Prepared
from vidgate.store.sql.tables import jobs, keys, rate_hits, reservations, slots

_KEY = sa.bindparam("b_key", type_=sa.String)
_JOB = sa.bindparam("b_job", type_=sa.String)
_NOW = sa.bindparam("b_now", type_=sa.BigInteger)
_PREFIX = "j_"  # the job row's values: ``j_<column>``, apart from the statement's own names


class Started(NamedTuple):
    """What the statement did: the hit counted (True without a rate limit), and the job admitted and
    recorded (its reservation, slot and row written)."""

    counted: bool
    admitted: bool


def params(
    key_id: str,
    row: dict[str, Any],
    micros: int,
    now: float,
    hit_id: str,
    rpm_limit: int | None,
    slot_limit: int | None,
) -> dict[str, Any]:
    """The values ``statement`` runs with."""
    values = {_PREFIX + name: value for name, value in row.items()}
    values.update(b_key=key_id, b_job=row["id"], b_micros=micros, b_now=int(now))
    if rpm_limit is not None:
        values.update(b_limit=rpm_limit, b_hit=hit_id, b_at=now)
    if slot_limit is not None:
        values["b_slots"] = slot_limit
    return values


@functools.lru_cache(maxsize=16)
def statement(columns: tuple[str, ...], rated: bool, slotted: bool) -> Prepared:
    """The statement for a job row of ``columns``, with a rate limit (``rated``) and a slot limit
    (``slotted``) or without: built once per shape."""
    ctes: list[sa.CTE] = []
    where: list[sa.ColumnElement[bool]] = [keys.c.id == _KEY, _IN_PERIOD, _FITS]
    if rated:
        counted = _COUNT_HIT["postgresql"].stmt.cte("counted")  # the transaction's own count
        hit = (
            rate_hits.insert()
            .from_select(
                ["id", "key_id", "at"],
                sa.select(
                    sa.bindparam("b_hit", type_=sa.String), _KEY, sa.bindparam("b_at", type_=sa.Double)
                ).select_from(counted),
            )
            .returning(rate_hits.c.id)
            .cte("hit")
        )
        ctes += [counted, hit]
        where.append(sa.exists(sa.select(counted.c.hits)))
    values: dict[str, Any] = {"reserved_micros": keys.c.reserved_micros + _MICROS}
    if slotted:
        where.append(keys.c.active_jobs < sa.bindparam("b_slots", type_=sa.Integer))
        values["active_jobs"] = keys.c.active_jobs + 1
    taken = sa.update(keys).where(*where).values(**values).returning(keys.c.id).cte("taken")
    ctes.append(taken)
    ctes.append(
        reservations.insert()
        .from_select(
            ["job_id", "key_id", "micros", "state", "created_at", "updated_at"],
            sa.select(_JOB, taken.c.id, _MICROS, sa.literal("reserved", sa.String), _NOW, _NOW),
        )
        .returning(reservations.c.job_id)
        .cte("reserved")
    )
    if slotted:
        ctes.append(
            slots.insert()
            .from_select(["job_id", "key_id", "acquired_at"], sa.select(_JOB, taken.c.id, _NOW))
            .returning(slots.c.job_id)
            .cte("slot")
        )
    row = [sa.bindparam(_PREFIX + name, type_=jobs.c[name].type) for name in columns]
    ctes.append(
        jobs.insert()
        .from_select(list(columns), sa.select(*row).select_from(taken))
        .returning(jobs.c.id)
        .cte("job")
    )
    # Every CTE named in the outer query (SQLAlchemy renders only those); each returns 0 or 1 row.
    counts = [sa.select(sa.func.count()).select_from(cte).scalar_subquery() for cte in ctes]
    return Prepared(sa.select(*counts))


def outcome(counts: tuple[Any, ...], rated: bool) -> Started:
    """``Started`` from the statement's row of per-CTE row counts (``counted`` first when ``rated``;
    ``job`` last)."""
    return Started(counted=not rated or counts[0] == 1, admitted=counts[-1] == 1)


def run(
    conn: sa.Connection,
    key_id: str,
    row: dict[str, Any],
    micros: int,
    now: float,
    hit_id: str,
    rpm_limit: int | None,
    slot_limit: int | None,
) -> Started:
    """The statement, on ``conn`` (in autocommit: its own transaction)."""
    rated, slotted = rpm_limit is not None, slot_limit is not None
    found = statement(tuple(row), rated, slotted).run(
        conn, params(key_id, row, micros, now, hit_id, rpm_limit, slot_limit)
    )
    counts = found.first()
    assert counts is not None  # a SELECT of counts: always one row
    return outcome(counts, rated)
