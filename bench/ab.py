"""Creates (or listings) through two gateways built from two source trees, side by side: did a change
make them faster?

    git worktree add /tmp/before <commit>          (or: git archive <commit> src | tar -x -C /tmp/before)
    .venv/bin/python bench/ab.py /tmp/before/src src [--rounds 6] [--seconds 3] [--connections 1,8]
        [--what create|list]

Both gateways run at once (``vidgate serve`` with ``PYTHONPATH`` set to each tree's ``src``, each on its
own SQLite file, the same config as ``bench/sidebyside.py``) in front of one fake upstream, and the
rounds alternate which goes first, so the host's slower and faster phases (on this 2-core VM the same
run differs by 10-30 % from one hour to the next) fall on both alike. Printed per tree and per
connection count: the median p50 and creates per second over the rounds, the gateway's CPU per create,
and every round's p50. Two runs of one tree against itself differed by about 1 % (6 rounds of 3 s).
``--what list``: ``GET /v1/videos?limit=20`` instead, the key's newest page of its 40 videos.
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
from bench.sidebyside import CREATE_BODY, limited_key, start_gateway, start_upstream, stop_pending


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("before", help="the first tree's src directory")
    parser.add_argument("after", help="the second tree's src directory")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--connections", default="1", help="comma-separated, e.g. 1,8")
    parser.add_argument("--what", choices=("create", "list"), default="create")
    args = parser.parse_args()
    trees = {"before": str(Path(args.before).resolve()), "after": str(Path(args.after).resolve())}
    listing = args.what == "list"
    paths = ["/v1/videos?limit=20"] if listing else ["/v1/videos"]
    method, body = ("GET", None) if listing else ("POST", CREATE_BODY)
    with tempfile.TemporaryDirectory(prefix="vidgate-ab-") as tmp:
        work = Path(tmp)
        upstream = start_upstream(work, None, "starlette")
        gateways: dict[str, tuple[Server, str, dict[str, str]]] = {}
        try:
            for name, tree in trees.items():
                own = work / name
                own.mkdir()
                os.environ["PYTHONPATH"] = tree
                url = f"sqlite:///{own / 'vidgate.db'}"
                gateway = start_gateway(own, upstream, url)
                gateways[name] = (gateway, url, limited_key(gateway, "ab"))
                if listing:
                    seed(gateway, gateways[name][2])
            for connections in (int(c) for c in args.connections.split(",")):
                runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in trees}
                for round_ in range(args.rounds):
                    order = list(trees) if round_ % 2 == 0 else list(trees)[::-1]
                    for name in order:
                        gateway, url, auth = gateways[name]
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
                        if not listing:
                            stop_pending(url)
                for name, figures in runs.items():
                    p50 = statistics.median(f[0] for f in figures)
                    rps = statistics.median(f[1] for f in figures)
                    cpu = statistics.median(f[2] for f in figures)
                    rounds = ", ".join(f"{f[0]:.3f}" for f in figures)
                    print(
                        f"{connections} connection(s), {name:6s} ({trees[name]}): p50 {p50:.3f} ms, "
                        f"{rps:.0f} {args.what}s/s, CPU {cpu:.0f} µs/{args.what}   (p50 per round: {rounds})"
                    )
        finally:
            for gateway, _, _ in gateways.values():
                gateway.stop()
            upstream.stop()


def seed(gateway: Server, auth: dict[str, str]) -> None:
    """40 videos of the key, for ``--what list``."""
    with httpx.Client(base_url=gateway.url, headers={**auth, "Content-Type": "application/json"}) as client:
        for _ in range(40):
            client.post("/v1/videos", content=CREATE_BODY).raise_for_status()


if __name__ == "__main__":
    main()
