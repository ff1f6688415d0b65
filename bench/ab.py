"""Creates (or listings, or status polls) through two gateways built from two source trees, side by side:
did a change make them faster?

    git worktree add /tmp/before <commit>          (or: git archive <commit> src | tar -x -C /tmp/before)
    .venv/bin/python bench/ab.py /tmp/before/src src [--rounds 6] [--seconds 3] [--connections 1,8]
        [--what create|list|status]

Both gateways run at once (``vidgate serve`` with ``PYTHONPATH`` set to each tree's ``src``, each on its
own SQLite file, the same config as ``bench/sidebyside.py``) in front of one fake upstream, and the
rounds alternate which goes first, so the host's slower and faster phases (on this 2-core VM the same
run differs by 10-30 % from one hour to the next) fall on both alike. Printed per tree and per
connection count: the median p50 and creates per second over the rounds, the gateway's CPU per create,
and every round's p50. Two runs of one tree against itself differed by about 1 % (6 rounds of 3 s).
``--what list``: ``GET /v1/videos?limit=20`` instead, the key's newest page of its 40 videos; ``--what
status``: ``GET /v1/videos/{id}`` of one completed video (the finished cache's path).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.gateway import Server, measured
from bench.sidebyside import (
    CREATE_BODY,
    DONE,
    limited_key,
    start_gateway,
    start_upstream,
    stop_pending,
    wait_until,
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("before", help="the first tree's src directory")
    parser.add_argument("after", help="the second tree's src directory")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--connections", default="1", help="comma-separated, e.g. 1,8")
    parser.add_argument("--what", choices=("create", "list", "status"), default="create")
    args = parser.parse_args()
    trees = {"before": str(Path(args.before).resolve()), "after": str(Path(args.after).resolve())}
    creating = args.what == "create"
    unit = {"create": "create", "list": "list", "status": "poll"}[args.what]
    method, body = ("POST", CREATE_BODY) if creating else ("GET", None)
    with tempfile.TemporaryDirectory(prefix="vidgate-ab-") as tmp:
        work = Path(tmp)
        upstream = start_upstream(work, None, "starlette")
        gateways: dict[str, tuple[Server, str, dict[str, str], list[str]]] = {}
        try:
            for name, tree in trees.items():
                own = work / name
                own.mkdir()
                os.environ["PYTHONPATH"] = tree
                url = f"sqlite:///{own / 'vidgate.db'}"
                gateway = start_gateway(own, upstream, url)
                auth = limited_key(gateway, "ab")
                gateways[name] = (gateway, url, auth, prepare(args.what, gateway, auth))
            for connections in (int(c) for c in args.connections.split(",")):
                runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in trees}
                for round_ in range(args.rounds):
                    order = list(trees) if round_ % 2 == 0 else list(trees)[::-1]
                    for name in order:
                        gateway, url, auth, paths = gateways[name]
                        result, cpu = measured(
                            gateway,
                            gateway.url,
                            paths,
                            auth,
                            connections=connections,
                            seconds=args.seconds,
                            method=method,
                            body=body,
                        )
                        runs[name].append((result.pct(50), result.rps, cpu))
                        if creating:
                            stop_pending(url)
                for name, figures in runs.items():
                    p50 = statistics.median(f[0] for f in figures)
                    rps = statistics.median(f[1] for f in figures)
                    cpu = statistics.median(f[2] for f in figures)
                    rounds = ", ".join(f"{f[0]:.3f}" for f in figures)
                    print(
                        f"{connections} connection(s), {name:6s} ({trees[name]}): p50 {p50:.3f} ms, "
                        f"{rps:.0f} {unit}s/s, CPU {cpu:.0f} µs/{unit}   (p50 per round: {rounds})"
                    )
        finally:
            for gateway, _, _, _ in gateways.values():
                gateway.stop()
            upstream.stop()


def prepare(what: str, gateway: Server, auth: dict[str, str]) -> list[str]:
    """The paths ``what`` requests, after making what they read: 40 videos of the key for a listing,
    one completed video for status polls."""
    if what == "create":
        return ["/v1/videos"]
    with httpx.Client(base_url=gateway.url, headers={**auth, "Content-Type": "application/json"}) as client:
        if what == "list":
            for _ in range(40):
                client.post("/v1/videos", content=CREATE_BODY).raise_for_status()
            return ["/v1/videos?limit=20"]
        video = client.post("/v1/videos", json={"model": "sora-2", "prompt": DONE}).json()["id"]
        wait_until(
            f"{video} completed", lambda: client.get(f"/v1/videos/{video}").json()["status"] == "completed"
        )
        return [f"/v1/videos/{video}"]


if __name__ == "__main__":
    main()
