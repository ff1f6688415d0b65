"""Loaded by the gateway that ``bench/segments.py`` starts (this directory is put first on its
``PYTHONPATH``): wraps the functions ``VIDGATE_BENCH_SEGMENTS`` names so that each call records its
start and end with the request it ran for, and writes the records to ``VIDGATE_BENCH_SEGMENTS_OUT`` on
SIGUSR2. Not part of the gateway: nothing under ``src/`` imports it."""

from __future__ import annotations

import contextvars
import functools
import importlib
import inspect
import itertools
import os
import signal
import sys
import time
from typing import Any

_REQUEST: contextvars.ContextVar[int] = contextvars.ContextVar("bench_request", default=0)
_RECORDS: list[tuple[str, int, int, int]] = []  # (name, request, start ns, end ns)
_COUNTER = itertools.count(1)


def _wrapped(name: str, fn: Any, *, opens_request: bool) -> Any:
    clock = time.perf_counter_ns
    records = _RECORDS
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            token = _REQUEST.set(next(_COUNTER)) if opens_request else None
            start = clock()
            try:
                return await fn(*args, **kwargs)
            finally:
                records.append((name, _REQUEST.get(), start, clock()))
                if token is not None:
                    _REQUEST.reset(token)

        return run_async

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        start = clock()
        try:
            return fn(*args, **kwargs)
        finally:
            records.append((name, _REQUEST.get(), start, clock()))

    return run


def _install(spec: str) -> None:
    for i, target in enumerate(s for s in spec.split(",") if s):
        module_name, _, qualname = target.partition(":")
        owner: Any = importlib.import_module(module_name)
        *path, attr = qualname.split(".")
        for part in path:
            owner = getattr(owner, part)
        fn = inspect.getattr_static(owner, attr)  # the function itself, not a bound method
        wrapper = _wrapped(target, fn, opens_request=i == 0)
        setattr(owner, attr, wrapper)
        if not path:  # a module's function: rebind the copies other modules imported already
            for module in list(sys.modules.values()):
                if getattr(module, attr, None) is fn:
                    setattr(module, attr, wrapper)


def _dump(*_: Any) -> None:
    with open(os.environ["VIDGATE_BENCH_SEGMENTS_OUT"], "w") as out:
        for name, request, start, end in _RECORDS:
            out.write(f"{name}\t{request}\t{start}\t{end}\n")


if os.environ.get("VIDGATE_BENCH_SEGMENTS"):
    _install(os.environ["VIDGATE_BENCH_SEGMENTS"])
    signal.signal(signal.SIGUSR2, _dump)
