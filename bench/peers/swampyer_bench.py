#!/usr/bin/env python3
"""The benchmark workload with swampyer, the engine of Python izaber-wamp.

Usage (with the venv interpreter):

    .venv/bin/python bench/peers/swampyer_bench.py [--url ws://127.0.0.1:18080]
        [--realm izaber] [--serializer json|msgpack|cbor] [-n 10000] [--big-n 5]
        [--threads 16] [--json]

One WAMPClient registers bench.echo and then, calling itself: sequential calls,
calls from --threads threads sharing the client (both with the percentiles of the
single calls' durations), events published to and received by itself, calls with
a 4 MiB bytes argument. See benchlib.py for the report.

swampyer as it comes: a reader thread, a new thread for every invocation and
every event (its default, unlimited concurrency queue), blocking calls waiting
on a queue per request. Its WebSocket transport is the `websockets` package
when that imports (it does in .venv, crossbar needs it), else websocket-client;
SWAMPYER_DISABLE_ALT_WEBSOCKETS_LIBRARY=1 (swampyer's own switch) forces the
latter. The report names the one used.

Limits of swampyer that show in the report:
  * Its JSON serializer sends bytes as UTF-8 text (no WAMP "\\0"+base64
    binary), so call_4mb is an error with --serializer json.
  * A handler's return value is YIELDed as the one positional result, so the
    echo handler returns its single argument.
"""

import logging
import os
import sys
import threading
import time
from importlib.metadata import version

import swampyer
import swampyer.transport

from benchlib import (
    BIG_SIZE,
    EVENT_STALL_SECONDS,
    SETTLE_SECONDS,
    WARMUP_CALLS,
    Stopwatch,
    error_result,
    log,
    parse_args,
    report,
    rss_mb,
    shares,
)

# swampyer's per-request timeout (default 10 s), raised so that a slow 4 MiB
# call is measured rather than failed.
REQUEST_TIMEOUT = 60


def echo(_invocation, value):
    return value


def call_n(client, count, durations):
    """`count` calls, each checked and its duration appended to `durations`."""
    for i in range(count):
        start = time.perf_counter()
        result = client.call("bench.echo", i)
        durations.append(time.perf_counter() - start)
        if result != i:
            raise RuntimeError(f"bench.echo({i}) returned {result!r}")


def sequential_calls(client, n):
    durations = []
    watch = Stopwatch()
    call_n(client, n, durations)
    return watch.result(n, durations=durations)


def parallel_calls(client, n, threads):
    failures = []
    durations = []  # shared: list.append is atomic under the GIL

    def caller(count):
        try:
            call_n(client, count, durations)
        except Exception as e:
            failures.append(e)

    workers = [threading.Thread(target=caller, args=(count,)) for count in shares(n, threads)]
    watch = Stopwatch()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    result = watch.result(n, durations=durations, threads=threads)
    if failures:
        raise failures[0]
    return result


def events(client, n):
    lock = threading.Lock()
    state = {"received": 0, "last": None}
    progress = threading.Event()

    def on_event(_event, _value):
        # Runs on a thread of its own, one per event.
        with lock:
            state["received"] += 1
            state["last"] = time.perf_counter()
        progress.set()

    subscribed = client.subscribe("bench.topic", on_event)
    options = {"acknowledge": False, "exclude_me": False}
    watch = Stopwatch()
    for i in range(n):
        client.publish("bench.topic", options=options, args=[i])
    while True:
        with lock:
            if state["received"] >= n:
                break
            progress.clear()
        if not progress.wait(EVENT_STALL_SECONDS):
            log(f"swampyer_bench: {state['received']} of {n} events after "
                f"{EVENT_STALL_SECONDS:.0f} s without progress; giving up")
            break
    with lock:
        received, last = state["received"], state["last"]
    result = watch.result(received, wall_end=last, received=received)
    client.unsubscribe(subscribed.subscription_id)
    return result


def call_4mb(client, big_n):
    payload = os.urandom(BIG_SIZE)
    watch = Stopwatch()
    for _ in range(big_n):
        result = client.call("bench.echo", payload)
        if not isinstance(result, bytes) or len(result) != BIG_SIZE:
            raise RuntimeError(f"bench.echo returned {type(result).__name__} "
                               f"of length {len(result)} for {BIG_SIZE} bytes")
    return watch.result(big_n)


def transport_name():
    if swampyer.transport.HAS_ALT_WEBSOCKETS_LIBRARY:
        return f"websockets {version('websockets')}"
    return f"websocket-client {version('websocket-client')}"


def main():
    args = parse_args("The izaber-wamp benchmark workload on swampyer")
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)

    client = swampyer.WAMPClient(
        url=args.url,
        realm=args.realm,
        serializers=[args.serializer],
        auto_reconnect=False,  # fail instead of retrying forever
        timeout=REQUEST_TIMEOUT,
    )
    try:
        client.start()
    except Exception as e:
        log(f"swampyer_bench: cannot join {args.realm} at {args.url}: {e!r}")
        return 1

    client.register("bench.echo", echo)
    time.sleep(SETTLE_SECONDS)
    idle_rss = rss_mb()
    call_n(client, WARMUP_CALLS, [])

    phases = {
        "sequential_calls": lambda: sequential_calls(client, args.n),
        "parallel_calls": lambda: parallel_calls(client, args.n, args.threads),
        "events": lambda: events(client, args.n),
        "call_4mb": lambda: call_4mb(client, args.big_n),
    }
    results = {}
    for name, phase in phases.items():
        if name == "call_4mb" and args.serializer == "json":
            results[name] = {"error": "swampyer's JSON serializer cannot carry bytes "
                                      "(it sends them as UTF-8 text, not WAMP's \\0+base64)",
                             "unsupported": True}
            continue
        try:
            results[name] = phase()
        except Exception as e:  # one failed phase must not hide the others
            log(f"swampyer_bench: {name} failed: {e!r}")
            results[name] = error_result(e)

    report(args, "swampyer", version("swampyer"), idle_rss, results, transport=transport_name())
    client.disconnect()
    client.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
