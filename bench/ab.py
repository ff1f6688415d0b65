"""Creates through two gateways built from two source trees, side by side: did a change make them faster?

    git worktree add /tmp/before <commit>          (or: git archive <commit> src | tar -x -C /tmp/before)
    .venv/bin/python bench/ab.py /tmp/before/src src [--rounds 6] [--seconds 3] [--connections 1,8]

Both gateways run at once (``vidgate serve`` with ``PYTHONPATH`` set to each tree's ``src``, each on its
own SQLite file, the same config as ``bench/sidebyside.py``) in front of one fake upstream, and the
rounds alternate which goes first, so the host's slower and faster phases (on this 2-core VM the same
run differs by 10-30 % from one hour to the next) fall on both alike. Printed per tree and per
connection count: the median p50 and creates per second over the rounds, the gateway's CPU per create,
and every round's p50. Two runs of one tree against itself differed by about 1 % (6 rounds of 3 s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

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
    args = parser.parse_args()
    trees = {"before": str(Path(args.before).resolve()), "after": str(Path(args.after).resolve())}
    body = CREATE_BODY
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
            for connections in (int(c) for c in args.connections.split(",")):
                runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in trees}
                for round_ in range(args.rounds):
                    order = list(trees) if round_ % 2 == 0 else list(trees)[::-1]
                    for name in order:
                        gateway, url, auth = gateways[name]
                        result, cpu = measured(
                            gateway,
                            gateway.url,
                            ["/v1/videos"],
                            auth,
                            connections=connections,
                            seconds=args.seconds,
                            method="POST",
                            body=body,
                        )
                        runs[name].append((result.pct(50), result.rps, cpu))
                        stop_pending(url)
                for name, figures in runs.items():
                    p50 = statistics.median(f[0] for f in figures)
                    rps = statistics.median(f[1] for f in figures)
                    cpu = statistics.median(f[2] for f in figures)
                    rounds = ", ".join(f"{f[0]:.3f}" for f in figures)
                    print(
                        f"{connections} connection(s), {name:6s} ({trees[name]}): p50 {p50:.3f} ms, "
                        f"{rps:.0f} creates/s, CPU {cpu:.0f} µs/create   (p50 per round: {rounds})"
                    )
        finally:
            for gateway, _, _ in gateways.values():
                gateway.stop()
            upstream.stop()


if __name__ == "__main__":
    main()
