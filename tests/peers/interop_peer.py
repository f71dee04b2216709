#!/usr/bin/env python3
"""An autobahn-python WAMP peer for interoperability tests.

Usage (with the venv interpreter):

    .venv/bin/python tests/peers/interop_peer.py --url ws://127.0.0.1:18080 \
        --realm izaber --serializer json|msgpack|cbor [--prefix interop.peer]

``--url`` may also be ``rs://host:port`` for WAMP over RawSocket.

The peer joins the realm anonymously, registers the procedures below and
prints ``READY`` on stdout once everything is registered.  It exits when the
connection is lost, on SIGTERM/SIGINT, and when its stdin is a pipe that
reaches EOF (so it never outlives the test process that started it).

Procedures (``<prefix>`` defaults to ``interop.peer``):

    <prefix>.echo(*args, **kwargs)      -> the same args and kwargs
    <prefix>.fail()                     -> ERROR interop.error.custom
                                           ["bad thing", 42] {"detail": "x"}
    <prefix>.call(procedure, *a, **kw)  -> calls procedure(*a, **kw) and returns
                                           {"args": [...], "kwargs": {...}};
                                           an ERROR is passed on unchanged
    <prefix>.call_many(procedure, n, *a) -> makes n such calls at once and returns
                                           what each ended with, in order:
                                           {"args", "kwargs"} or {"error", "args",
                                           "kwargs"}, as an autobahn caller sees it
    <prefix>.publish(topic, *a, **kw)   -> publishes with acknowledge=True and
                                           returns the publication id
    <prefix>.publish_transparent(topic, *a, **kw)
                                        -> publishes {"args", "kwargs"} as a
                                           transparent payload (enc_algo "x_test",
                                           enc_serializer "json"), acknowledged
    <prefix>.countdown(n)               -> progressive results 1 .. n when asked
                                           for, then "done"
    <prefix>.call_progress(procedure, n) -> calls procedure(n) asking for progress;
                                           returns {"progress": [...],
                                           "result": [...]}
    <prefix>.call_and_cancel(procedure, delay)
                                        -> calls procedure(), cancels the call after
                                           delay seconds; returns the error URI the
                                           call ended with (or "result")
    <prefix>.subscribe(topic)           -> subscribes (once per topic), records
                                           every event; returns True
    <prefix>.received(topic)            -> [{"args": [...], "kwargs": {...}}, ...]
                                           recorded for topic so far
    <prefix>.session()                  -> this peer's WAMP session id

With ``--nexus-base BASE`` it also registers stand-ins for the Nexus procedures
(``BASE.auth.whoami``, ``BASE.system.roster.register``, ...), each returning
``{"procedure": <suffix>, "args": [...], "caller_authid": ...}``.
"""

import sys

# bjdata (autobahn's optional UBJSON codec) ships a C extension built against
# NumPy 1.x that prints a long warning on import; UBJSON is not needed here.
sys.modules["bjdata"] = None

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import stat  # noqa: E402
import threading  # noqa: E402

import txaio  # noqa: E402

txaio.use_asyncio()

from autobahn.asyncio.rawsocket import WampRawSocketClientFactory  # noqa: E402
from autobahn.asyncio.wamp import ApplicationSession  # noqa: E402
from autobahn.asyncio.websocket import WampWebSocketClientFactory  # noqa: E402
from autobahn.rawsocket.util import parse_url as parse_rs_url  # noqa: E402
from autobahn.wamp.exception import ApplicationError  # noqa: E402
from autobahn.wamp.serializer import (  # noqa: E402
    CBORSerializer,
    JsonSerializer,
    MsgPackSerializer,
)
from autobahn.wamp.types import (  # noqa: E402
    CallOptions,
    CallResult,
    ComponentConfig,
    EncodedPayload,
    PublishOptions,
    RegisterOptions,
    SubscribeOptions,
)
from autobahn.websocket.util import parse_url as parse_ws_url  # noqa: E402

JOIN_TIMEOUT = 20.0  # seconds from TCP connect to READY
REGISTER_RETRY_SECONDS = 5.0  # while a previous peer's registration lingers

SERIALIZERS = {
    "json": JsonSerializer,
    "msgpack": MsgPackSerializer,
    "cbor": CBORSerializer,
}


def emit(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def call_result(args, kwargs):
    # CallResult(*args, **kwargs) would swallow kwargs named enc_algo, callee,
    # callee_authid, callee_authrole or forward_for; set the fields directly.
    res = CallResult()
    res.results = list(args)
    res.kwresults = dict(kwargs)
    return res


# The Nexus procedures izaber-wamp's helpers call, relative to uri_base.
NEXUS_PROCEDURES = [
    "auth.whoami", "ad.users", "ad.groups",
    "system.roster.register", "system.roster.query", "system.roster.unregister",
    "my.metadata.set", "my.metadata.get", "my.metadata.list", "my.metadata.delete",
    "my.apikeys.create", "my.apikeys.list", "my.apikeys.delete",
    "my.otps.create", "my.otps.list", "my.otps.delete",
]


class JsonTestCodec:
    """A payload-transparency codec: {"args", "kwargs"} as JSON bytes, not encrypted."""

    def encode(self, is_originating, uri, args=None, kwargs=None):
        payload = json.dumps({"args": list(args or []), "kwargs": dict(kwargs or {})})
        return EncodedPayload(payload.encode(), "x_test", "json")

    def decode(self, is_originating, uri, encoded_payload):
        data = json.loads(encoded_payload.payload)
        return uri, data.get("args", []), data.get("kwargs", {})


class InteropPeer(ApplicationSession):
    def __init__(self, config, on_ready, on_gone):
        super().__init__(config)
        self._on_ready = on_ready
        self._on_gone = on_gone
        self._received = {}

    async def onJoin(self, details):
        prefix = self.config.extra["prefix"]
        procedures = {
            "echo": self.echo,
            "fail": self.fail,
            "call": self.call_other,
            "call_many": self.call_many,
            "publish_transparent": self.publish_transparent,
            "call_progress": self.call_progress,
            "call_and_cancel": self.call_and_cancel,
            "publish": self.publish_event,
            "subscribe": self.subscribe_topic,
            "received": self.received,
            "session": self.session,
        }
        loop = asyncio.get_running_loop()
        for name, fn in procedures.items():
            uri = f"{prefix}.{name}"
            # A peer that was just killed may still hold the registration
            # until the router has noticed its lost connection: retry briefly.
            deadline = loop.time() + REGISTER_RETRY_SECONDS
            while True:
                try:
                    await self.register(fn, uri, options=RegisterOptions(details_arg=None))
                    break
                except ApplicationError as e:
                    if e.error == "wamp.error.procedure_already_exists" and loop.time() < deadline:
                        await asyncio.sleep(0.1)
                        continue
                    print(f"interop_peer: cannot register {uri}: {e.error_message()}"
                          " (is another interop peer attached to this router?)",
                          file=sys.stderr, flush=True)
                    self.leave("wamp.close.normal")
                    return
        await self.register(self.countdown, f"{prefix}.countdown",
                            options=RegisterOptions(details_arg="details"))
        nexus_base = self.config.extra.get("nexus_base")
        if nexus_base:
            for suffix in NEXUS_PROCEDURES:
                await self.register(self.nexus_stub(suffix), f"{nexus_base}.{suffix}",
                                    options=RegisterOptions(details_arg="details"))
        self._on_ready(self.session_id)

    @staticmethod
    def nexus_stub(suffix):
        """A stand-in for a Nexus procedure: reports what it was called with."""
        def stub(*args, details=None):
            return {"procedure": suffix, "args": list(args),
                    "caller_authid": getattr(details, "caller_authid", None)}
        return stub

    def onLeave(self, details):
        if not self.config.extra.get("ready"):
            print(f"interop_peer: session ended before READY: {details.reason} {details.message or ''}",
                  file=sys.stderr, flush=True)
        self.disconnect()

    def onDisconnect(self):
        self._on_gone()

    # -- procedures -----------------------------------------------------------

    def echo(self, *args, **kwargs):
        return call_result(args, kwargs)

    def fail(self, *args, **kwargs):
        raise ApplicationError("interop.error.custom", "bad thing", 42, detail="x")

    async def call_other(self, procedure, *args, **kwargs):
        try:
            res = await self.call(procedure, *args, options=CallOptions(details=True), **kwargs)
        except ApplicationError as e:
            raise ApplicationError(e.error, *e.args, **(e.kwargs or {}))
        # With details=True autobahn always hands back a CallResult, so "no
        # result" ([]) and "one null result" ([None]) stay distinguishable.
        if isinstance(res, CallResult):
            return {"args": list(res.results or []), "kwargs": dict(res.kwresults or {})}
        return {"args": [res], "kwargs": {}}

    async def call_many(self, procedure, n, *args):
        async def one():
            try:
                res = await self.call(procedure, *args, options=CallOptions(details=True))
            except ApplicationError as e:
                return {"error": e.error, "args": list(e.args), "kwargs": dict(e.kwargs or {})}
            return {"args": list(res.results or []), "kwargs": dict(res.kwresults or {})}
        return await asyncio.gather(*(one() for _ in range(n)))

    async def publish_transparent(self, topic, *args, **kwargs):
        self.set_payload_codec(JsonTestCodec())
        try:
            pub = await self.publish(topic, *args, options=PublishOptions(acknowledge=True), **kwargs)
        finally:
            self.set_payload_codec(None)
        return pub.id

    async def countdown(self, n, details=None):
        if details is not None and details.progress:
            for i in range(1, n + 1):
                details.progress(i)
        return "done"

    async def call_progress(self, procedure, n):
        progress = []
        options = CallOptions(on_progress=lambda *args, **kwargs: progress.extend(args))
        res = await self.call(procedure, n, options=options)
        result = list(res.results or []) if isinstance(res, CallResult) else [res]
        return {"progress": progress, "result": result}

    async def call_and_cancel(self, procedure, delay):
        call = asyncio.ensure_future(self.call(procedure))
        await asyncio.sleep(delay)
        call.cancel()
        try:
            await asyncio.wait_for(asyncio.shield(call), timeout=10)
        except asyncio.CancelledError:
            return "cancelled"
        except ApplicationError as e:
            return e.error
        return "result"

    async def publish_event(self, topic, *args, **kwargs):
        pub = await self.publish(topic, *args, options=PublishOptions(acknowledge=True), **kwargs)
        return pub.id

    async def subscribe_topic(self, topic):
        if topic not in self._received:
            events = []

            def on_event(*args, **kwargs):
                events.append({"args": list(args), "kwargs": dict(kwargs)})

            await self.subscribe(on_event, topic, options=SubscribeOptions(details_arg=None))
            self._received[topic] = events
        return True

    def received(self, topic):
        return self._received.get(topic, [])

    def session(self):
        return self.session_id


def watch_stdin():
    """Exit when stdin is a pipe and it reaches EOF (the parent is gone)."""
    try:
        if not stat.S_ISFIFO(os.fstat(0).st_mode):
            return
    except OSError:
        return

    def run():
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        os._exit(0)

    threading.Thread(target=run, name="stdin-watch", daemon=True).start()


async def run(args):
    loop = asyncio.get_running_loop()
    txaio.config.loop = loop
    gone = loop.create_future()
    state = {"ready": False}

    def on_ready(session_id):
        state["ready"] = True
        config.extra["ready"] = True
        emit("READY")

    def on_gone():
        if not gone.done():
            gone.set_result(None)

    serializer = SERIALIZERS[args.serializer]()
    config = ComponentConfig(args.realm, {"prefix": args.prefix, "nexus_base": args.nexus_base})

    def make():
        return InteropPeer(config, on_ready, on_gone)

    if args.url.startswith("rs"):
        is_secure, host, port = parse_rs_url(args.url)
        factory = WampRawSocketClientFactory(make, serializer=serializer)
        # Accept the largest messages RawSocket allows (16 MiB).
        factory.setProtocolOptions(maxMessagePayloadSize=2**24)
    else:
        is_secure, host, port, _resource, _path, _params = parse_ws_url(args.url)
        factory = WampWebSocketClientFactory(make, url=args.url, serializers=[serializer])
        factory.setProtocolOptions(
            maxFramePayloadSize=0,  # unlimited: the tests move multi-MB payloads
            maxMessagePayloadSize=0,
            openHandshakeTimeout=10.0,
            closeHandshakeTimeout=2.0,
            failByDrop=False,
        )
    if hasattr(factory, "loop"):
        factory.loop = loop

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_gone)

    _transport, protocol = await loop.create_connection(
        factory, host, port, ssl=True if is_secure else None)

    # The session's onDisconnect only fires once a session exists; a failed
    # WebSocket/RawSocket handshake must end the peer too.
    connection_lost = protocol.connection_lost

    def on_connection_lost(exc):
        try:
            connection_lost(exc)
        finally:
            if not state["ready"]:
                print(f"interop_peer: connection to {args.url} closed before the session joined",
                      file=sys.stderr, flush=True)
            on_gone()

    protocol.connection_lost = on_connection_lost

    try:
        await asyncio.wait_for(asyncio.shield(gone), JOIN_TIMEOUT)
    except asyncio.TimeoutError:
        if not state["ready"]:
            print(f"interop_peer: no session within {JOIN_TIMEOUT:.0f} s", file=sys.stderr, flush=True)
            return 1
        await gone
    return 0 if state["ready"] else 1


def main():
    parser = argparse.ArgumentParser(description="autobahn-python interop peer")
    parser.add_argument("--url", required=True)
    parser.add_argument("--realm", default="izaber")
    parser.add_argument("--serializer", choices=sorted(SERIALIZERS), default="json")
    parser.add_argument("--prefix", default="interop.peer",
                        help="URI prefix of the registered procedures")
    parser.add_argument("--nexus-base", default=None,
                        help="also register stand-ins for the Nexus procedures under this URI base")
    args = parser.parse_args()

    txaio.start_logging(level="warn")
    watch_stdin()
    try:
        return asyncio.run(run(args))
    except OSError as e:
        print(f"interop_peer: cannot connect to {args.url}: {e}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
