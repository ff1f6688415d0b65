"""Records <-> table rows. Columns carry the records' field names, except JSON ``metadata`` (stored as
``metadata_json``) and the jobs' derived ``pending`` flag (``gateway.jobs.needs_work``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
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


def entry_to_row(entry: SpendEntry) -> dict[str, Any]:
    row = {name: getattr(entry, name) for name in _ENTRY_FIELDS if name != "metadata"}
    row["metadata_json"] = dict(entry.metadata)
    return row


def row_to_entry(row: Mapping[Any, Any]) -> SpendEntry:
    values = {name: row[name] for name in _ENTRY_FIELDS if name != "metadata"}
    values["metadata"] = dict(row["metadata_json"] or {})
    return SpendEntry(**values)
