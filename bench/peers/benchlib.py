"""What the benchmark peers share: command line, measurements, the report.

Every peer runs the same workload on one session (see scripts/bench) and
reports it in the same JSON schema as `examples/bench.rs`:

    {"client": ..., "version": ..., "serializer": ..., "n": ..., "idle_rss_mb": ...,
     "results": {"sequential_calls": {"ops", "seconds", "ops_per_s", "us_per_op",
                                      "cpu_us_per_op", "p50_us", "p99_us", "p999_us"},
                 "parallel_calls": {..., "threads"},
                 "events": {..., "received"},  # ops = events received
                 "call_4mb": {...}}}

The two call phases also give the 50th, 99th and 99.9th percentiles of the single
calls' durations, in microseconds (nearest rank: the smallest duration that at
least that share of the calls did not exceed).

A phase that failed is reported as {"error": "<why>"}; one the library cannot
do at all adds "unsupported": true (scripts/bench --smoke tolerates only those).
"""

import argparse
import json
import math
import resource
import sys
import time

BIG_SIZE = 4 * 1024 * 1024  # bytes in the call_4mb argument
WARMUP_CALLS = 50  # uncounted calls before sequential_calls
SETTLE_SECONDS = 0.2  # pause after joining before idle_rss_mb is read
# The events phase ends when no event has arrived for this long, so a lost
# event bounds the run instead of hanging it.
EVENT_STALL_SECONDS = 10.0

PHASES = ("sequential_calls", "parallel_calls", "events", "call_4mb")


def parse_args(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--url", default="ws://127.0.0.1:18080")
    parser.add_argument("--realm", default="izaber")
    parser.add_argument("--serializer", choices=("json", "msgpack", "cbor"), default="json")
    parser.add_argument("-n", "--n", dest="n", type=int, default=10000,
                        help="calls in each call phase, events in the events phase")
    parser.add_argument("--big-n", type=int, default=5, help="4 MiB calls")
    parser.add_argument("--threads", type=int, default=16,
                        help="concurrent callers in parallel_calls")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object instead of a table")
    args = parser.parse_args()
    if args.n < 1 or args.big_n < 1 or args.threads < 1:
        parser.error("-n, --big-n and --threads must be at least 1")
    return args


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def rss_mb():
    """Resident memory of this process (VmRSS) in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def cpu_seconds():
    """User plus system CPU time of the whole process (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def shares(total, parts):
    """Split `total` into `parts` near-equal counts."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def percentiles(durations):
    """p50_us, p99_us and p999_us of durations in seconds (nearest rank), or {}."""
    if not durations:
        return {}
    ordered = sorted(durations)
    result = {}
    for key, percent in (("p50_us", 50), ("p99_us", 99), ("p999_us", 99.9)):
        rank = min(max(math.ceil(percent / 100 * len(ordered)), 1), len(ordered))
        result[key] = round(ordered[rank - 1] * 1e6, 1)
    return result


class Stopwatch:
    """Wall-clock and process CPU time from creation to `result()`."""

    def __init__(self):
        self.cpu = cpu_seconds()
        self.wall = time.perf_counter()

    def result(self, ops, wall_end=None, durations=None, **extra):
        """The phase's numbers for `ops` operations.

        `wall_end` (a perf_counter value) ends the wall-clock interval earlier
        than now, e.g. at the last event's arrival. `durations` (seconds, one
        per operation) adds their percentiles.
        """
        cpu = cpu_seconds() - self.cpu
        seconds = (time.perf_counter() if wall_end is None else wall_end) - self.wall
        if ops == 0 or seconds <= 0:
            return {"ops": ops, "seconds": round(seconds, 6), "ops_per_s": None,
                    "us_per_op": None, "cpu_us_per_op": None, **extra}
        return {
            "ops": ops,
            "seconds": round(seconds, 6),
            "ops_per_s": round(ops / seconds, 1),
            "us_per_op": round(seconds / ops * 1e6, 2),
            "cpu_us_per_op": round(cpu / ops * 1e6, 2),
            **percentiles(durations),
            **extra,
        }


def error_result(exc):
    text = f"{type(exc).__name__}: {exc}"
    return {"error": text if len(text) <= 300 else text[:300] + "..."}


def report(args, client, version, idle_rss, results, **extra):
    """Print the run as one JSON object (--json) or as a table."""
    if args.json:
        print(json.dumps({
            "client": client,
            "version": version,
            **extra,
            "serializer": args.serializer,
            "n": args.n,
            "idle_rss_mb": round(idle_rss, 1),
            "results": results,
        }), flush=True)
        return
    details = "".join(f", {k} {v}" for k, v in extra.items())
    print(f"{client} {version}{details}, {args.serializer}, n={args.n}, {args.url}")
    print(f"idle resident memory: {idle_rss:.1f} MB")
    print(f"{'phase':<18}{'ops':>8}{'seconds':>10}{'ops/s':>12}{'us/op':>12}{'CPU us/op':>12}"
          f"{'p99 us':>10}")
    for name in PHASES:
        r = results[name]
        if "error" in r:
            print(f"{name:<18}error: {r['error']}")
            continue
        cells = [f"{r[k]:.1f}" if r[k] is not None else "-"
                 for k in ("ops_per_s", "us_per_op", "cpu_us_per_op")]
        note = ""
        if r.get("received", args.n) < args.n:
            note = f"  (received {r['received']} of {args.n})"
        p99 = f"{r['p99_us']:.1f}" if r.get("p99_us") is not None else "-"
        print(f"{name:<18}{r['ops']:>8}{r['seconds']:>10.3f}"
              f"{cells[0]:>12}{cells[1]:>12}{cells[2]:>12}{p99:>10}{note}")
