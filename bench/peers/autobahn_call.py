#!/usr/bin/env python3
"""One WAMP call from a fresh autobahn-python process: the one-shot script a user
would write instead of a command-line tool. Used by scripts/bench-cli to compare
start-up costs with `wamp call`.

    .venv/bin/python bench/peers/autobahn_call.py URL REALM PROCEDURE [ARG ...]

Joins anonymously over WebSocket (JSON) on asyncio, calls PROCEDURE with the ARGs
(JSON when they parse, else strings), prints the result as JSON, leaves and exits;
exit status 1 when the call fails. It uses autobahn's leanest API (a session class
and the WebSocket factory, as tests/peers/interop_peer.py does), so that what is
measured is autobahn-python's start-up, not a heavier convenience layer.
"""

import sys

# bjdata (autobahn's optional UBJSON codec) ships a C extension built against
# NumPy 1.x that prints a long warning on import; it is not needed here.
sys.modules["bjdata"] = None

import asyncio  # noqa: E402
import json  # noqa: E402

import txaio  # noqa: E402

txaio.use_asyncio()

from autobahn.asyncio.wamp import ApplicationSession  # noqa: E402
from autobahn.asyncio.websocket import WampWebSocketClientFactory  # noqa: E402
from autobahn.wamp.serializer import JsonSerializer  # noqa: E402
from autobahn.wamp.types import ComponentConfig  # noqa: E402
from autobahn.websocket.util import parse_url  # noqa: E402


def parse(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


class OneCall(ApplicationSession):
    async def onJoin(self, details):
        procedure, args = self.config.extra["call"]
        try:
            result = await self.call(procedure, *args)
            print(json.dumps(result))
            self.config.extra["status"] = 0
        except Exception as e:  # noqa: BLE001 - any failure is the call's
            print(f"error: {e}", file=sys.stderr)
        self.leave()

    def onLeave(self, details):
        self.disconnect()

    def onDisconnect(self):
        self.config.extra["done"].set_result(None)


async def run(url, realm, procedure, args):
    loop = asyncio.get_running_loop()
    txaio.config.loop = loop
    extra = {"call": (procedure, [parse(a) for a in args]), "status": 1,
             "done": loop.create_future()}
    config = ComponentConfig(realm, extra)
    factory = WampWebSocketClientFactory(lambda: OneCall(config), url=url,
                                         serializers=[JsonSerializer()])
    _secure, host, port, _resource, _path, _params = parse_url(url)
    await loop.create_connection(factory, host, port)
    await extra["done"]
    return extra["status"]


def main():
    url, realm, procedure, *args = sys.argv[1:]
    return asyncio.run(run(url, realm, procedure, args))


if __name__ == "__main__":
    sys.exit(main())
