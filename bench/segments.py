"""Where a create's time goes inside the gateway, at 1 connection: each step's wall time per request.

    .venv/bin/python bench/segments.py [--seconds 5] [--database-url postgresql://...]

Starts the fake upstream and the gateway as ``bench/sidebyside.py`` does (same config, a key with a
budget, an rpm limit and a concurrency limit), with ``bench/segments_hook`` first on the gateway's
``PYTHONPATH``: its ``sitecustomize`` wraps the functions in ``STEPS`` so that every call records its
start and end with the request it ran for. Then one connection creates videos for ``--seconds`` and
the script prints, per step, the median wall time per request (the sum of its calls within a request),
its calls per request and its share of the request's time in the app; and the client's p50 against
the app's, the rest being uvicorn, the event loop and the network. Steps nest (the provider call holds
the upstream's exchange; a store write runs inside the step that asked for it), so shares do not add
up. The wrappers cost a little time themselves (about 1 µs a call): compare runs of this script, not
its figures with ``bench/sidebyside.py``'s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.gateway import measured, signal_and_read
from bench.sidebyside import CREATE_BODY, database, limited_key, start_gateway, start_upstream

HOOK = Path(__file__).resolve().parent / "segments_hook"

# (label, function): the first opens a request (every record made while it runs belongs to that request).
STEPS = [
    ("app (the middleware's whole call)", "vidgate.server.logs:RequestLogMiddleware.__call__"),
    ("auth", "vidgate.server.state:caller"),
    ("read + parse JSON body", "vidgate.server.forms:read_body"),
    ("parse the create", "vidgate.server.routes.videos:parse_create"),
    ("validate + price", "vidgate.gateway.service:GatewayService._price"),
    ("start (admission + provider call)", "vidgate.gateway.starter:JobStarter.start"),
    ("admission + write-ahead", "vidgate.gateway.starter:JobStarter._admit_and_write_ahead"),
    ("provider create call", "vidgate.gateway.calls:ProviderCalls.create"),
    ("upstream exchange (send .. reply)", "vidgate.transport.http1_sender:_Connection.exchange"),
    ("record the provider's answer", "vidgate.gateway.starter:JobStarter.record"),
    ("SQLite writes (run inline)", "vidgate.store.sql.database:Database._end_turn"),
    ("PostgreSQL writes", "vidgate.store.sql.postgres:write"),
    ("PostgreSQL one-statement writes", "vidgate.store.sql.postgres:write_one"),
    ("build the response", "vidgate.server.routes.videos:accepted"),
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server URL (default: SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vidgate-segments-") as tmp:
        work = Path(tmp)
        out = work / "segments.tsv"
        with database(args.database_url, work) as url:
            upstream = start_upstream(work, None, "starlette")
            os.environ["VIDGATE_BENCH_SEGMENTS"] = ",".join(target for _, target in STEPS)
            os.environ["VIDGATE_BENCH_SEGMENTS_OUT"] = str(out)
            os.environ["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(HOOK), os.environ.get("PYTHONPATH", "")) if p
            )
            gateway = start_gateway(work, upstream, url)
            try:
                result, cpu = measured(
                    gateway,
                    gateway.url,
                    ["/v1/videos"],
                    limited_key(gateway, "b"),
                    connections=1,
                    seconds=args.seconds,
                    method="POST",
                    body=CREATE_BODY,
                )
                signal_and_read(gateway.proc.pid, out)
            finally:
                gateway.stop()
                upstream.stop()
        report(out, result.pct(50), cpu)


def report(out: Path, client_p50_ms: float, cpu: float) -> None:
    per_request: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for line in out.read_text().splitlines():
        name, request, start, end = line.split("\t")
        per_request[int(request)][name].append(int(end) - int(start))
    first = STEPS[0][1]
    creates = [
        r for r, steps in per_request.items() if r and "vidgate.gateway.starter:JobStarter.start" in steps
    ]
    creates = sorted(creates)[len(creates) // 5 :]  # the first fifth warms up
    app = statistics.median(sum(per_request[r][first]) for r in creates) / 1000
    print(
        f"{len(creates)} creates at 1 connection; client p50 {client_p50_ms * 1000:.0f} µs, "
        f"gateway CPU {cpu:.0f} µs"
    )
    print(f"  {'step':36s} {'p50 µs':>8s} {'calls':>6s} {'of app':>7s}")
    for label, target in STEPS:
        totals = [sum(per_request[r].get(target, [0])) / 1000 for r in creates]
        calls = statistics.mean(len(per_request[r].get(target, [])) for r in creates)
        if not calls:  # the other database's step
            continue
        mid = statistics.median(totals)
        print(f"  {label:36s} {mid:8.1f} {calls:6.1f} {mid / app:7.0%}")
    print(f"  {'outside the app (uvicorn, loop, network)':36s} {client_p50_ms * 1000 - app:8.1f}")


if __name__ == "__main__":
    main()
