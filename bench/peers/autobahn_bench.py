#!/usr/bin/env python3
"""The benchmark workload with autobahn-python on asyncio.

Usage (with the venv interpreter):

    .venv/bin/python bench/peers/autobahn_bench.py [--url ws://127.0.0.1:18080]
        [--realm izaber] [--serializer json|msgpack|cbor] [-n 10000] [--big-n 5]
        [--threads 16] [--json]

One session registers bench.echo and then, calling itself: sequential calls,
calls from --threads concurrent asyncio tasks (both with the percentiles of the
single calls' durations), events published to and received by itself, calls with
a 4 MiB bytes argument. See benchlib.py for the report.

The session is made with WampWebSocketClientFactory, as ApplicationRunner does,
but without ApplicationRunner's client options: those cap messages at 1 MiB
(too small for the 4 MiB phase) and offer permessage-deflate. Only the one
requested serializer is offered; no compression, no auto-ping.
"""

import sys

# bjdata (autobahn's optional UBJSON codec) ships a C extension built against
# NumPy 1.x that prints a long warning on import; UBJSON is not needed here.
sys.modules["bjdata"] = None

import asyncio  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

import txaio  # noqa: E402

txaio.use_asyncio()

import autobahn  # noqa: E402
from autobahn.asyncio.wamp import ApplicationSession  # noqa: E402
from autobahn.asyncio.websocket import WampWebSocketClientFactory  # noqa: E402
from autobahn.wamp.serializer import (  # noqa: E402
    CBORSerializer,
    JsonSerializer,
    MsgPackSerializer,
)
from autobahn.wamp.types import CallResult, ComponentConfig, PublishOptions  # noqa: E402
from autobahn.websocket.util import parse_url  # noqa: E402

from benchlib import (  # noqa: E402
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

JOIN_TIMEOUT = 20.0  # seconds from TCP connect to the joined session
LEAVE_TIMEOUT = 5.0

SERIALIZERS = {"json": JsonSerializer, "msgpack": MsgPackSerializer, "cbor": CBORSerializer}


def echo(*args):
    return CallResult(*args)


async def call_n(session, count, durations):
    """`count` calls, each checked and its duration appended to `durations`."""
    for i in range(count):
        start = time.perf_counter()
        result = await session.call("bench.echo", i)
        durations.append(time.perf_counter() - start)
        if result != i:
            raise RuntimeError(f"bench.echo({i}) returned {result!r}")


async def sequential_calls(session, n):
    durations = []
    watch = Stopwatch()
    await call_n(session, n, durations)
    return watch.result(n, durations=durations)


async def parallel_calls(session, n, tasks):
    durations = []  # shared: the tasks run on one loop
    watch = Stopwatch()
    await asyncio.gather(*(call_n(session, count, durations) for count in shares(n, tasks)))
    return watch.result(n, durations=durations, threads=tasks)


async def events(session, n):
    state = {"received": 0, "last": None}
    progress = asyncio.Event()

    def on_event(_value):
        state["received"] += 1
        state["last"] = time.perf_counter()
        progress.set()

    subscription = await session.subscribe(on_event, "bench.topic")
    options = PublishOptions(exclude_me=False)
    watch = Stopwatch()
    for i in range(n):
        # Without acknowledge, publish() sends right away and returns None.
        session.publish("bench.topic", i, options=options)
    while state["received"] < n:
        progress.clear()
        try:
            await asyncio.wait_for(progress.wait(), EVENT_STALL_SECONDS)
        except asyncio.TimeoutError:
            log(f"autobahn_bench: {state['received']} of {n} events after "
                f"{EVENT_STALL_SECONDS:.0f} s without progress; giving up")
            break
    result = watch.result(state["received"], wall_end=state["last"], received=state["received"])
    await subscription.unsubscribe()
    return result


async def call_4mb(session, big_n):
    payload = os.urandom(BIG_SIZE)
    watch = Stopwatch()
    for _ in range(big_n):
        result = await session.call("bench.echo", payload)
        if not isinstance(result, bytes) or len(result) != BIG_SIZE:
            raise RuntimeError(f"bench.echo returned {type(result).__name__} "
                               f"of length {len(result)} for {BIG_SIZE} bytes")
    return watch.result(big_n)


async def connect(args):
    """A joined session, or an exception when connecting or joining fails."""
    loop = asyncio.get_running_loop()
    txaio.config.loop = loop
    joined = loop.create_future()
    gone = loop.create_future()

    class BenchSession(ApplicationSession):
        def onJoin(self, details):
            joined.set_result(self)

        def onLeave(self, details):
            if not joined.done():
                joined.set_exception(ConnectionError(f"session refused: {details.reason}"))
            self.disconnect()

        def onDisconnect(self):
            if not gone.done():
                gone.set_result(None)

    is_secure, host, port, _resource, _path, _params = parse_url(args.url)
    factory = WampWebSocketClientFactory(
        lambda: BenchSession(ComponentConfig(args.realm)),
        url=args.url,
        serializers=[SERIALIZERS[args.serializer]()],
    )
    factory.setProtocolOptions(
        maxFramePayloadSize=0,  # unlimited: call_4mb moves 4 MiB (5.6 MB as JSON)
        maxMessagePayloadSize=0,
        openHandshakeTimeout=10.0,
        closeHandshakeTimeout=2.0,
        failByDrop=False,
    )
    factory.loop = loop
    _transport, protocol = await loop.create_connection(
        factory, host, port, ssl=True if is_secure else None)

    # A failed WebSocket handshake ends the connection before any session.
    connection_lost = protocol.connection_lost

    def on_connection_lost(exc):
        connection_lost(exc)
        if not joined.done():
            joined.set_exception(ConnectionError(f"connection to {args.url} closed before joining"))
        if not gone.done():
            gone.set_result(None)

    protocol.connection_lost = on_connection_lost
    session = await asyncio.wait_for(joined, JOIN_TIMEOUT)
    return session, gone


async def run(args):
    try:
        session, gone = await connect(args)
    except (OSError, asyncio.TimeoutError) as e:
        log(f"autobahn_bench: cannot join {args.realm} at {args.url}: {e or 'timeout'}")
        return 1

    await session.register(echo, "bench.echo")
    await asyncio.sleep(SETTLE_SECONDS)
    idle_rss = rss_mb()
    await call_n(session, WARMUP_CALLS, [])

    phases = {
        "sequential_calls": lambda: sequential_calls(session, args.n),
        "parallel_calls": lambda: parallel_calls(session, args.n, args.threads),
        "events": lambda: events(session, args.n),
        "call_4mb": lambda: call_4mb(session, args.big_n),
    }
    results = {}
    for name, phase in phases.items():
        try:
            results[name] = await phase()
        except Exception as e:  # one failed phase must not hide the others
            log(f"autobahn_bench: {name} failed: {e!r}")
            results[name] = error_result(e)

    report(args, "autobahn-python", autobahn.__version__, idle_rss, results)
    try:
        await asyncio.wait_for(session.leave(), LEAVE_TIMEOUT)
        await asyncio.wait_for(gone, LEAVE_TIMEOUT)
    except Exception as e:
        log(f"autobahn_bench: leaving the session: {e!r}")
    return 0


def main():
    args = parse_args("The izaber-wamp benchmark workload on autobahn-python (asyncio)")
    txaio.start_logging(out=sys.stderr, level="warn")  # stdout carries the report
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
