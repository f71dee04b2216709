#!/usr/bin/env python3
"""Check and summarise the runs of scripts/bench: a table of medians per router.

Usage (scripts/bench runs it with the venv interpreter):

    compare.py --manifest FILE --out PREFIX --n N --big-n N --serializer S
               --runs R --threads T --pinning TEXT [--strict] [--note TEXT ...]

The manifest has one tab-separated line per run, in run order:
    router  client-label  run-number  exit-status  stdout-file  stderr-file
where router is "crossbar" or "fastrouter" and stdout holds the client's
`--json` report (see bench/peers/benchlib.py).

A run counts when it exited with status 0 and printed exactly one JSON object
of the expected schema, for the requested n and serializer. With --strict a
phase error (other than one marked "unsupported") and lost events also fail
the run.

Prints the tables (Markdown), one per router with a column per client and a
ratio column per peer, on stdout and writes PREFIX.md (the same) and
PREFIX.json (settings, every run with its report, the medians, the text).
Exits with status 1 when any run did not count, else 0.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
from importlib.metadata import PackageNotFoundError, version

OURS = "izaber-wamp"
HERE = os.path.dirname(os.path.abspath(__file__))
CALL_PHASES = ("sequential_calls", "parallel_calls", "events", "call_4mb")
NUMBER_KEYS = ("ops", "seconds", "ops_per_s", "us_per_op", "cpu_us_per_op")

# (label, phase or None for a top-level key, key, scale, which way is better)
METRICS = [
    ("sequential calls/s", "sequential_calls", "ops_per_s", 1, "higher"),
    ("µs per sequential call", "sequential_calls", "us_per_op", 1, "lower"),
    ("sequential call p50, µs", "sequential_calls", "p50_us", 1, "lower"),
    ("sequential call p99, µs", "sequential_calls", "p99_us", 1, "lower"),
    ("sequential call p99.9, µs", "sequential_calls", "p999_us", 1, "lower"),
    ("CPU µs per sequential call", "sequential_calls", "cpu_us_per_op", 1, "lower"),
    ("{threads}-thread calls/s", "parallel_calls", "ops_per_s", 1, "higher"),
    ("{threads}-thread call p50, µs", "parallel_calls", "p50_us", 1, "lower"),
    ("{threads}-thread call p99, µs", "parallel_calls", "p99_us", 1, "lower"),
    ("{threads}-thread call p99.9, µs", "parallel_calls", "p999_us", 1, "lower"),
    ("CPU µs per call, {threads} threads", "parallel_calls", "cpu_us_per_op", 1, "lower"),
    # Ours only: {threads} tasks awaiting call_async on one thread (futures' LocalPool).
    ("{threads}-task async calls/s, one thread", "async_calls", "ops_per_s", 1, "higher"),
    ("CPU µs per call, {threads} async tasks", "async_calls", "cpu_us_per_op", 1, "lower"),
    ("events/s", "events", "ops_per_s", 1, "higher"),
    ("CPU µs per event", "events", "cpu_us_per_op", 1, "lower"),
    ("4 MiB call, ms", "call_4mb", "us_per_op", 1e-3, "lower"),
    ("raw WebSocket 4 MiB echo, ms", "raw_websocket_4mb", "us_per_op", 1e-3, "lower"),
    ("idle RSS, MB", None, "idle_rss_mb", 1, "lower"),
]
# Keys not every client reports: their rows are shown only when some client does.
OPTIONAL_KEYS = ("p50_us", "p99_us", "p999_us")


def is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def check_report(text, label, args):
    """(report, problems, notes): problems make the run not count."""
    try:
        report = json.loads(text)
    except ValueError as e:
        return None, [f"stdout is not one JSON object ({e})"], []
    if not isinstance(report, dict):
        return None, ["stdout is not a JSON object"], []
    problems, notes = [], []
    expected = {"client": label, "n": args.n, "serializer": args.serializer}
    for key, want in expected.items():
        if report.get(key) != want:
            problems.append(f"{key} is {report.get(key)!r}, expected {want!r}")
    if not is_number(report.get("idle_rss_mb")):
        problems.append("idle_rss_mb is not a number")
    results = report.get("results")
    if not isinstance(results, dict):
        return report, problems + ["no results object"], notes
    for name in CALL_PHASES + tuple(k for k in results if k not in CALL_PHASES):
        phase = results.get(name)
        if not isinstance(phase, dict):
            problems.append(f"phase {name} is missing")
        elif "error" in phase:
            note = f"{name}: {phase['error']}"
            if args.strict and not phase.get("unsupported"):
                problems.append(note)
            else:
                notes.append(note)
        elif not all(is_number(phase.get(k)) for k in NUMBER_KEYS):
            problems.append(f"phase {name} lacks one of {', '.join(NUMBER_KEYS)}")
        elif isinstance(phase.get("note"), str):
            notes.append(f"{name}: {phase['note']}")
    events = results.get("events")
    if isinstance(events, dict) and "error" not in events:
        received = events.get("received")
        if not is_number(received) or received < args.n:
            note = f"events: {received} of {args.n} received"
            (problems if args.strict else notes).append(note)
    return report, problems, notes


def metric_value(report, phase, key, scale):
    """The metric from one report, or None (absent, error, not a number)."""
    source = report if phase is None else report["results"].get(phase)
    if not isinstance(source, dict) or "error" in source:
        return None
    value = source.get(key)
    return value * scale if is_number(value) else None


def fmt(value):
    if value is None:
        return "–"
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}"


def client_version(report):
    text = f"{report['client']} {report.get('version', '?')}"
    if report.get("transport"):
        text += f" ({report['transport']})"
    return text


def machine():
    model = platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores"


def router_name(router):
    """The router's software and version, for the headers."""
    if router == "crossbar":
        return f"Crossbar.io {package_version('crossbar')}"
    if router == "fastrouter":
        lockfile = os.path.join(HERE, "fastrouter", "Cargo.lock")
        return f"battler-wamp {locked_version(lockfile, 'battler-wamp')}"
    return router


def router_title(router):
    if router == "crossbar":
        return f"{router_name(router)} (`bench/router.json`)"
    if router == "fastrouter":
        return f"{router_name(router)} behind `bench/fastrouter`'s front end"
    return router


def table(args, router, clients, runs):
    """One router's Markdown table of medians, and the medians."""
    good = {c: [r["report"] for r in runs if r["client"] == c and r["counts"]] for c in clients}
    peers = [c for c in clients if c != OURS] if OURS in clients else []

    medians, rows = {c: {} for c in clients}, []
    for label, phase, key, scale, better in METRICS:
        if phase and not any(phase in rep["results"] for reps in good.values() for rep in reps):
            continue  # e.g. raw_websocket_4mb when no client measured it
        if key in OPTIONAL_KEYS and not any(
                metric_value(rep, phase, key, scale) is not None
                for reps in good.values() for rep in reps):
            continue  # e.g. percentiles when no client measured them
        label = label.format(threads=args.threads)
        cells = []
        for c in clients:
            values = [v for v in (metric_value(rep, phase, key, scale) for rep in good[c])
                      if v is not None]
            medians[c][label] = statistics.median(values) if values else None
            failed = phase and any("error" in rep["results"].get(phase, {}) for rep in good[c])
            cells.append(fmt(medians[c][label]) if values or not failed else "error")
        for peer in peers:
            ours, theirs = medians[OURS][label], medians[peer][label]
            cells.append(f"{ours / theirs:.2f}" if ours is not None and theirs else "–")
        rows.append(f"| {label} | {better} | " + " | ".join(cells) + " |")

    lines = [f"Router: {router_title(router)}.", ""]
    lines.append("| measure | better | " + " | ".join(clients)
                 + "".join(f" | ours/{peer.split('-')[0]}" for peer in peers) + " |")
    lines.append("|---|---|" + "---:|" * (len(clients) + len(peers)))
    lines += rows
    return lines, medians


def report_text(args, routers, clients, runs, date):
    """The header, a table per router, and the notes."""
    versions = list(dict.fromkeys(client_version(r["report"]) for r in runs if r["counts"]))
    lines = [
        f"Medians of {args.runs} run(s) per client and router, interleaved; n = {args.n}, "
        f"{args.big_n} × 4 MiB calls, {args.serializer} serializer; one session per client "
        f"against a local router: " + ", ".join(router_name(r) for r in routers)
        + f"; {args.pinning}; {machine()}; {date}.",
        "",
        "Clients: " + (", ".join(versions) or "none succeeded") + ".",
        "",
    ]
    if OURS in clients and len(clients) > 1:
        lines += [
            "Ratio columns are izaber-wamp's median divided by the peer's: in rows whose "
            "\"better\" is higher, a ratio above 1 means izaber-wamp is better; in rows whose "
            "\"better\" is lower, a ratio below 1 means izaber-wamp is better. Percentiles "
            "(p50, p99, p99.9) are of the single calls' durations.",
            "",
        ]
    medians = {}
    for router in routers:
        router_runs = [r for r in runs if r["router"] == router]
        router_clients = [c for c in clients if any(r["client"] == c for r in router_runs)]
        router_lines, medians[router] = table(args, router, router_clients, router_runs)
        lines += router_lines + [""]

    # (client, text) -> {router: [run numbers]}, so a note repeated in every run shows once
    notes = {}
    for r in runs:
        texts = list(r["notes"])
        if not r["counts"]:
            texts.insert(0, "did not count: " + "; ".join(r["problems"]))
        for text in texts:
            notes.setdefault((r["client"], text), {}).setdefault(r["router"], []).append(r["run"])
    if notes or args.note:
        lines += ["Notes:", ""]
        lines += [f"- {text}" for text in args.note]
        for (client, text), where in notes.items():
            every = {}  # the client's runs, to say "every run" when the note is in all
            for r in runs:
                if r["client"] == client:
                    every.setdefault(r["router"], []).append(r["run"])
            if where == every:
                when = "every run"
            else:
                when = "; ".join(
                    f"{router} run{'s' if len(numbers) > 1 else ''} "
                    + ", ".join(map(str, numbers))
                    for router, numbers in where.items())
            lines.append(f"- {client}, {when}: {text}")
        lines.append("")
    return "\n".join(lines[:-1]) + "\n", medians


def package_version(name):
    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def locked_version(lockfile, name):
    """The version of package `name` in a Cargo.lock, or "?"."""
    current = None
    for line in read_text(lockfile).splitlines():
        if line.startswith("name = "):
            current = line.split('"')[1]
        elif line.startswith("version = ") and current == name:
            return line.split('"')[1]
    return "?"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--out", required=True, help="path prefix of the .json and .md files")
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--big-n", type=int, required=True)
    parser.add_argument("--serializer", required=True)
    parser.add_argument("--runs", type=int, required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--pinning", required=True, help="how processes were pinned, for the header")
    parser.add_argument("--strict", action="store_true",
                        help="phase errors (unless unsupported) and lost events fail a run")
    parser.add_argument("--note", action="append", default=[],
                        help="a line for the notes under the tables (repeatable)")
    args = parser.parse_args()

    runs, routers, clients = [], [], []
    with open(args.manifest) as f:
        for line in f:
            router, label, run, status, stdout_path, stderr_path = \
                line.rstrip("\n").split("\t")
            for seen, name in ((routers, router), (clients, label)):
                if name not in seen:
                    seen.append(name)
            stderr = read_text(stderr_path)
            if int(status) != 0:
                report, problems, notes = None, [f"exit status {status}"], []
            else:
                report, problems, notes = check_report(read_text(stdout_path), label, args)
            runs.append({
                "router": router,
                "client": label,
                "run": int(run),
                "exit_status": int(status),
                "counts": not problems,
                "problems": problems,
                "notes": notes,
                "report": report,
                "stderr_tail": stderr.splitlines()[-20:],
            })

    date = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    text, medians = report_text(args, routers, clients, runs, date)
    settings = {k: getattr(args, k) for k in
                ("n", "big_n", "serializer", "runs", "threads", "pinning", "strict", "note")}
    with open(args.out + ".md", "w") as f:
        f.write(text)
    with open(args.out + ".json", "w") as f:
        json.dump({"date": date, "settings": settings, "machine": machine(),
                   "routers": {r: router_name(r) for r in routers}, "runs": runs,
                   "medians": medians, "table": text}, f, indent=2)
        f.write("\n")

    sys.stdout.write(text)
    failed = [r for r in runs if not r["counts"]]
    for r in failed:
        print(f"compare.py: {r['router']}, {r['client']} run {r['run']} did not count: "
              + "; ".join(r["problems"]), file=sys.stderr)
        for line in r["stderr_tail"][-5:]:
            print(f"    {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
