#!/usr/bin/env python3
"""Run a crossbar router for the integration tests and control it over stdin.

Usage (with the venv interpreter, so the venv's crossbar is found):

    .venv/bin/python tests/router/run_router.py --config tests/router/config.json \
        --ws-port 18080 --rs-port 18081 --workdir /some/dir

The wrapper writes ``DIR/.crossbar/config.json`` (the template with the
endpoint ports of the websocket and rawsocket transports replaced), starts
``crossbar start --cbdir DIR/.crossbar`` in a process group of its own and,
once the router listens on all its ports, prints ``READY`` on stdout.  If the
router cannot be started it prints ``ERR <reason>`` instead and exits with
status 1.

More transports (TLS, other limits; see ``config_tls.json``; the one
``"transport"`` of a ``websocket-testee`` worker, see ``bench/router.json``)
carry an ``"id"`` and get their port from ``--port ID=PORT`` (repeatable);
``--ws-port`` and ``--rs-port`` set the one websocket and the one rawsocket
transport without such a port.  Transports on a Unix socket
(``"endpoint": {"type": "unix"}``, path relative to ``DIR/.crossbar``) need no
port; the router is ready once they accept connections too.

It then reads commands from stdin, one per line, answering each with one line,
``OK`` or ``ERR <reason>``:

    kill   SIGKILL the whole crossbar process group; wait until the ports close
    start  start crossbar again on the same ports; wait until it listens
    stop   SIGSTOP the process group (the router freezes; TCP still accepts)
    cont   SIGCONT the process group
    quit   kill the router and exit
    ping   answer OK (for liveness checks)

On stdin EOF (the controlling test process died or closed the pipe), on
SIGTERM, SIGINT or SIGHUP the router's process group is killed and the wrapper
exits, so no router is ever left behind.  As a last resort, crossbar's
controller gets PR_SET_PDEATHSIG=SIGKILL, so even a SIGKILLed wrapper takes the
router down with it.

crossbar's output and the wrapper's own diagnostics go to ``DIR/crossbar.log``;
stdout carries only the protocol lines above.
"""

import argparse
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

START_TIMEOUT = 60.0  # seconds until crossbar must listen on both ports
CLOSE_TIMEOUT = 30.0  # seconds until the ports must be closed after a kill

# stdout is the control channel; keep a private handle on it so nothing else
# (a stray print in an imported module) can write protocol lines.
_out = sys.stdout
sys.stdout = sys.stderr


def reply(line):
    _out.write(line + "\n")
    _out.flush()


class RouterError(Exception):
    pass


def worker_transports(worker):
    """The listening transports of a worker: a router's list, or the single
    transport of a websocket-testee worker."""
    if "transport" in worker:
        return [worker["transport"]]
    return worker.get("transports", [])


def set_ports(config, ws_port, rs_port, extra_ports=None):
    """Set the endpoint ports of the websocket and rawsocket transports.

    Transports whose id is in `extra_ports` get that port; Unix socket
    transports are left alone.
    """
    extra_ports = dict(extra_ports or {})
    found = {"websocket": 0, "rawsocket": 0}
    ports = {"websocket": ws_port, "rawsocket": rs_port}
    for worker in config.get("workers", []):
        for transport in worker_transports(worker):
            kind = transport.get("type")
            if kind in ports:
                endpoint = transport.get("endpoint")
                if isinstance(endpoint, dict) and endpoint.get("type") == "unix":
                    continue
                if not isinstance(endpoint, dict) or endpoint.get("type") != "tcp":
                    raise RouterError(f"{kind} transport has no tcp endpoint")
                extra = extra_ports.pop(transport.get("id"), None)
                if extra is not None:
                    endpoint["port"] = extra
                    continue
                endpoint["port"] = ports[kind]
                found[kind] += 1
    if extra_ports:
        raise RouterError(f"no transport with id {sorted(extra_ports)} in the config")
    for kind, count in found.items():
        if count != 1:
            raise RouterError(f"config must have exactly one {kind} transport (found {count})")
    return config


def port_bindable(port):
    """True when nothing listens on 127.0.0.1:port (TIME_WAIT leftovers are fine)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def port_accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def unix_accepts(path):
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1.0)
            s.connect(path)
            return True
    except OSError:
        return False


def unix_paths(config, cbdir):
    """The socket paths of the config's Unix socket endpoints."""
    paths = []
    for worker in config.get("workers", []):
        for transport in worker_transports(worker):
            endpoint = transport.get("endpoint")
            if isinstance(endpoint, dict) and endpoint.get("type") == "unix":
                paths.append(os.path.join(cbdir, os.path.expandvars(endpoint["path"])))
    return paths


def _listening_inodes(port):
    """Socket inodes of LISTEN sockets on `port`, or None if /proc is unusable."""
    inodes = set()
    found_table = False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        found_table = True
        for line in lines:
            fields = line.split()
            if len(fields) < 10:
                continue
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                inodes.add(inode)
    return inodes if found_table else None


def _group_socket_inodes(pgid):
    inodes = set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.getpgid(int(pid)) != pgid:
                continue
            fd_dir = f"/proc/{pid}/fd"
            for fd in os.listdir(fd_dir):
                try:
                    target = os.readlink(f"{fd_dir}/{fd}")
                except OSError:
                    continue
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    return inodes


def listening_in_group(port, pgid):
    """True when a process of group `pgid` listens on `port`.

    Guards against mistaking somebody else's listener for our router.  Falls
    back to a plain connect test where /proc is not available.
    """
    if not port_accepts(port):
        return False
    listening = _listening_inodes(port)
    if listening is None:
        return True
    return bool(listening & _group_socket_inodes(pgid))


def group_alive(pgid):
    """True while a live (non-zombie) process is left in process group `pgid`."""
    if not os.path.isdir("/proc/self"):
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...; comm may contain spaces and parens.
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) >= 3 and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def _pdeathsig_kill():
    # Runs in the child between fork and exec: ask the kernel to SIGKILL the
    # crossbar controller when the wrapper dies, whatever way it dies.
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:
        pass


class Router:
    def __init__(self, crossbar, cbdir, log_path, ws_port, rs_port, extra_ports=(), unix=()):
        self.crossbar = crossbar
        self.cbdir = cbdir
        self.log_path = log_path
        self.ports = (ws_port, rs_port) + tuple(extra_ports)
        self.unix = tuple(unix)
        self.proc = None

    def note(self, msg):
        with open(self.log_path, "a") as log:
            log.write(f"[run_router {time.strftime('%H:%M:%S')}] {msg}\n")

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self):
        if self.running():
            raise RouterError("router is already running")
        for port in self.ports:
            if not port_bindable(port):
                raise RouterError(f"port-in-use: 127.0.0.1:{port} is already in use")
        # A node.pid left by a SIGKILLed node names a dead pid; crossbar would
        # cope, but a recycled pid could make it refuse to start.
        try:
            os.unlink(os.path.join(self.cbdir, "node.pid"))
        except FileNotFoundError:
            pass
        self.note(f"starting crossbar on ws={self.ports[0]} rs={self.ports[1]} more={self.ports[2:]}")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [self.crossbar, "start", "--cbdir", self.cbdir],
                cwd=os.path.dirname(self.cbdir),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_pdeathsig_kill,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.kill_group()
                reason = f"crossbar exited with status {code} during startup"
                if "Address already in use" in self.log_tail(4000):
                    reason = "port-in-use: " + reason
                raise RouterError(reason)
            if all(listening_in_group(p, self.proc.pid) for p in self.ports) and all(
                unix_accepts(path) for path in self.unix
            ):
                self.note("crossbar is listening")
                return
            if time.monotonic() > deadline:
                self.kill_group()
                raise RouterError(f"crossbar did not listen within {START_TIMEOUT:.0f} s")
            time.sleep(0.1)

    def log_tail(self, nbytes):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - nbytes))
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def signal_group(self, sig):
        if self.proc is None:
            raise RouterError("router is not running")
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            raise RouterError("router process group is gone")

    def kill_group(self):
        """SIGKILL the whole process group and reap the controller."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        # Worker processes are reparented to init (or a subreaper) once the
        # controller is gone; wait for the group to empty.
        deadline = time.monotonic() + 10
        while group_alive(self.proc.pid) and time.monotonic() < deadline:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                break
            time.sleep(0.05)
        self.proc = None

    def kill(self):
        if self.proc is None:
            raise RouterError("router is not running")
        self.kill_group()
        self.note("crossbar killed")
        deadline = time.monotonic() + CLOSE_TIMEOUT
        while any(port_accepts(p) for p in self.ports):
            if time.monotonic() > deadline:
                raise RouterError("ports still accept connections after kill")
            time.sleep(0.05)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, help="template crossbar config (JSON)")
    parser.add_argument("--ws-port", type=int, required=True)
    parser.add_argument("--rs-port", type=int, required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument(
        "--port",
        action="append",
        default=[],
        metavar="ID=PORT",
        help="port of the transport with this id (repeatable)",
    )
    args = parser.parse_args()

    workdir = os.path.abspath(args.workdir)
    cbdir = os.path.join(workdir, ".crossbar")
    os.makedirs(cbdir, exist_ok=True)
    log_path = os.path.join(workdir, "crossbar.log")

    # Prefer the crossbar next to this interpreter (the venv's).
    crossbar = os.path.join(os.path.dirname(sys.executable), "crossbar")
    if not os.access(crossbar, os.X_OK):
        crossbar = shutil.which("crossbar")
    if not crossbar:
        reply("ERR crossbar executable not found (run scripts/setup)")
        return 1

    try:
        extra_ports = {}
        for item in args.port:
            transport_id, _, port = item.partition("=")
            extra_ports[transport_id] = int(port)
        with open(args.config) as f:
            config = json.load(f)
        set_ports(config, args.ws_port, args.rs_port, extra_ports)
    except (OSError, ValueError, RouterError) as e:
        reply(f"ERR bad config {args.config}: {e}")
        return 1
    with open(os.path.join(cbdir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)

    router = Router(
        crossbar,
        cbdir,
        log_path,
        args.ws_port,
        args.rs_port,
        extra_ports.values(),
        unix_paths(config, cbdir),
    )

    def on_signal(signum, _frame):
        router.kill_group()
        os._exit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        # Keep an inherited "ignore" (a background job of a script ignores
        # SIGINT; nohup ignores SIGHUP): then the parent decides when we stop.
        if signal.getsignal(sig) != signal.SIG_IGN:
            signal.signal(sig, on_signal)
    # A closed stdout (parent gone) must not kill us before we clean up.
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)

    try:
        try:
            router.start()
        except RouterError as e:
            reply(f"ERR {e}")
            return 1
        reply("READY")

        for line in sys.stdin:
            cmd = line.strip()
            if not cmd:
                continue
            try:
                if cmd == "kill":
                    router.kill()
                elif cmd == "start":
                    router.start()
                elif cmd == "stop":
                    router.signal_group(signal.SIGSTOP)
                    router.note("crossbar stopped (SIGSTOP)")
                elif cmd == "cont":
                    router.signal_group(signal.SIGCONT)
                    router.note("crossbar continued (SIGCONT)")
                elif cmd == "ping":
                    pass
                elif cmd == "quit":
                    router.kill_group()
                    router.note("quit")
                    reply("OK")
                    return 0
                else:
                    raise RouterError(f"unknown command {cmd!r}")
            except RouterError as e:
                reply(f"ERR {e}")
            else:
                reply("OK")
        router.note("stdin closed, shutting down")
        return 0
    except BrokenPipeError:
        # The parent closed our stdout: it is gone, so shut down quietly.
        return 0
    finally:
        router.kill_group()


if __name__ == "__main__":
    sys.exit(main())
