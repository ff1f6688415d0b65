"""Records <-> table rows. Columns carry the records' field names, except JSON ``metadata`` (stored as
``metadata_json``) and the jobs' derived ``pending`` flag (``gateway.jobs.needs_work``)."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from vidgate.gateway.jobs import needs_work
from vidgate.gateway.records import JobRecord, KeyRecord, SpendEntry

_KEY_FIELDS = tuple(f.name for f in dataclasses.fields(KeyRecord))
_JOB_FIELDS = tuple(f.name for f in dataclasses.fields(JobRecord))
_ENTRY_FIELDS = tuple(f.name for f in dataclasses.fields(SpendEntry))


def key_to_row(key: KeyRecord) -> dict[str, Any]:
    row = {name: getattr(key, name) for name in _KEY_FIELDS if name != "metadata"}
    row["models"] = list(key.models)
    row["metadata_json"] = dict(key.metadata)
    return row


def row_to_key(row: Mapping[Any, Any]) -> KeyRecord:
    values = {name: row[name] for name in _KEY_FIELDS if name != "metadata"}
    values["models"] = tuple(row["models"] or ())
    values["metadata"] = dict(row["metadata_json"] or {})
    return KeyRecord(**values)


def job_to_row(job: JobRecord) -> dict[str, Any]:
    row = {name: getattr(job, name) for name in _JOB_FIELDS}
    row["native_payload"] = dict(job.native_payload)
    row["outputs"] = list(job.outputs)
    row["pending"] = needs_work(job)
    return row


def row_to_job(row: Mapping[Any, Any]) -> JobRecord:
    values = {name: row[name] for name in _JOB_FIELDS}
    values["native_payload"] = dict(row["native_payload"] or {})
    values["outputs"] = tuple(row["outputs"] or ())
    return JobRecord(**values)


def jobs_from(keys: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[JobRecord]:
    """``row_to_job`` for rows of a statement returning ``keys`` (the jobs table's columns), by position:
    no mapping per row (a listing page converts 20 rows of 50 columns)."""
    positions, payload, outputs = _job_positions(tuple(keys))
    records = []
    for row in rows:
        values = [row[i] for i in positions]
        values[payload] = dict(values[payload] or {})
        values[outputs] = tuple(values[outputs] or ())
        records.append(JobRecord(*values))
    return records


@functools.cache
def _job_positions(keys: tuple[str, ...]) -> tuple[list[int], int, int]:
    """Where each of ``JobRecord``'s fields is among ``keys``, and which fields need converting."""
    return (
        [keys.index(name) for name in _JOB_FIELDS],
        _JOB_FIELDS.index("native_payload"),
        _JOB_FIELDS.index("outputs"),
    )


def entry_to_row(entry: SpendEntry) -> dict[str, Any]:
    row = {name: getattr(entry, name) for name in _ENTRY_FIELDS if name != "metadata"}
    row["metadata_json"] = dict(entry.metadata)
    return row


def row_to_entry(row: Mapping[Any, Any]) -> SpendEntry:
    values = {name: row[name] for name in _ENTRY_FIELDS if name != "metadata"}
    values["metadata"] = dict(row["metadata_json"] or {})
    return SpendEntry(**values)
