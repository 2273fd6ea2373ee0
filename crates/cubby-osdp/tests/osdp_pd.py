#!/usr/bin/env python3
"""A real OSDP peripheral device (libosdp's PeripheralDevice) for cubby-osdp's tests.

The PD's OSDP channel is bridged to one TCP connection accepted on 127.0.0.1.
The listener binds port 0; the first stdout line is `READY <port>`.

Every later stdout line is one JSON object (keys sorted), e.g.
    {"type": "connected"}
    {"type": "sc", "active": true}
    {"type": "command", "command": "led", "on_color": 2, ...}
    {"type": "submitted", "event": "keypad", "ok": true}
    {"type": "disconnected"}

Instructions, one per stdin line:
    keypad <keys>              keys 0-9, '*' (sent as 0x7F) and '#' (sent as 0x0D)
    keypad-raw <hex>           keypad bytes as given
    card <hex> <bits> [raw]    osdp_RAW card read (Wiegand format unless `raw`)
    quit                       exit

The process exits when the CP closes the TCP connection, on `quit`, or when
stdin reaches end of file. libosdp's own log lines (and anything else that
writes to file descriptor 1) are sent to stderr so stdout stays parseable.
"""

import argparse
import json
import os
import socket
import sys
import threading
import time

# Keep a private handle on the real stdout, then point fd 1 at stderr so that
# C-level logging from libosdp cannot interleave with the JSON protocol.
_OUT = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr

_OUT_LOCK = threading.Lock()


def emit_line(line):
    with _OUT_LOCK:
        _OUT.write(line + "\n")
        _OUT.flush()


def emit(kind, **fields):
    fields["type"] = kind
    emit_line(json.dumps(fields, sort_keys=True))


def jsonable(value):
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


try:
    import osdp  # noqa: E402  (libosdp's Python package)
    import osdp_sys  # noqa: E402,F401  (only libosdp ships this extension)
except ImportError as exc:  # pragma: no cover - reported to the test harness
    emit("error", message="libosdp is not importable: %s" % exc)
    sys.exit(3)


COMMAND_NAMES = {
    osdp.Command.Output: "output",
    osdp.Command.Buzzer: "buzzer",
    osdp.Command.LED: "led",
    osdp.Command.Comset: "comset",
    osdp.Command.Text: "text",
    osdp.Command.Manufacturer: "mfg",
    osdp.Command.Keyset: "keyset",
    osdp.Command.FileTransfer: "file_tx",
    osdp.Command.Status: "status",
}


class TcpChannel(osdp.Channel):
    """Non-blocking byte stream over one accepted TCP connection."""

    def __init__(self, conn):
        super().__init__()
        self.conn = conn
        self.conn.setblocking(False)
        self.closed = threading.Event()

    def read(self, max_bytes):
        if self.closed.is_set():
            return b""
        try:
            data = self.conn.recv(max_bytes)
        except (BlockingIOError, InterruptedError):
            return b""
        except OSError:
            self.closed.set()
            return b""
        if not data:
            self.closed.set()
        return data

    def write(self, buf):
        if self.closed.is_set():
            return 0
        try:
            return self.conn.send(bytes(buf))
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError:
            self.closed.set()
            return 0

    def flush(self):
        # libosdp calls flush() before each transmission to drop stale input.
        # Nothing is buffered on our side, so there is nothing to do.
        pass


def keypad_bytes(keys):
    out = bytearray()
    for ch in keys:
        if ch == "*":
            out.append(0x7F)
        elif ch == "#":
            out.append(0x0D)
        else:
            out.append(ord(ch))
    return bytes(out)


def handle_instruction(pd, line):
    parts = line.split()
    if not parts:
        return True
    verb = parts[0]
    try:
        if verb == "quit":
            return False
        if verb in ("keypad", "keypad-raw"):
            data = keypad_bytes(parts[1]) if verb == "keypad" else bytes.fromhex(parts[1])
            ok = pd.submit_event({
                "event": osdp.Event.KeyPress,
                "reader_no": 0,
                "data": data,
            })
            emit("submitted", event="keypad", ok=bool(ok), data=data.hex())
        elif verb == "card":
            data = bytes.fromhex(parts[1])
            bits = int(parts[2])
            fmt = osdp.CardFormat.Wiegand
            if len(parts) > 3 and parts[3] == "raw":
                fmt = osdp.CardFormat.Unspecified
            ok = pd.submit_event({
                "event": osdp.Event.CardRead,
                "reader_no": 0,
                "format": fmt,
                "direction": 0,
                "length": bits,
                "data": data,
            })
            emit("submitted", event="card", ok=bool(ok), bits=bits, data=data.hex())
        else:
            emit("error", message="unknown instruction: %s" % line)
    except Exception as exc:  # keep serving; report to the test
        emit("error", message="%s: %s" % (line, exc))
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--address", type=int, default=1)
    ap.add_argument("--scbk", help="16-byte SCBK as hex; omitted = install mode (SCBK-D)")
    ap.add_argument("--enforce-secure", action="store_true",
                    help="NAK every command but ID/CAP/CHLNG/SCRYPT outside the secure channel")
    ap.add_argument("--log-level", type=int, default=osdp.LogLevel.Warning)
    args = ap.parse_args()

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    emit_line("READY %d" % listener.getsockname()[1])
    listener.settimeout(60)
    try:
        conn, _ = listener.accept()
    except socket.timeout:
        emit("error", message="no CP connected within 60 s")
        return 2
    listener.close()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    emit("connected")

    channel = TcpChannel(conn)
    flags = [osdp.LibFlag.EnforceSecure] if args.enforce_secure else []
    scbk = bytes.fromhex(args.scbk) if args.scbk else None
    info = osdp.PDInfo(args.address, channel, scbk=scbk, flags=flags,
                       id=osdp.PdId(2, 3, 0x00A1B2, 0x12345678, 0x010203))
    caps = osdp.PDCapabilities([
        (osdp.Capability.OutputControl, 1, 1),
        (osdp.Capability.LEDControl, 1, 1),
        (osdp.Capability.AudibleControl, 1, 1),
        (osdp.Capability.TextOutput, 1, 1),
        (osdp.Capability.CardDataFormat, 1, 1),
    ])

    def on_command(cmd):
        fields = {k: jsonable(v) for k, v in cmd.items() if k != "command"}
        emit("command", command=COMMAND_NAMES.get(cmd.get("command"), str(cmd.get("command"))),
             **fields)
        return 0, None

    pd = osdp.PeripheralDevice(info, caps, log_level=args.log_level,
                               command_handler=on_command)
    pd.start()

    stop = threading.Event()

    def stdin_loop():
        for line in sys.stdin:
            if not handle_instruction(pd, line.strip()):
                break
        stop.set()

    threading.Thread(target=stdin_loop, name="stdin", daemon=True).start()

    sc_active = False
    while not stop.is_set() and not channel.closed.is_set():
        active = bool(pd.is_sc_active())
        if active != sc_active:
            sc_active = active
            emit("sc", active=active)
        time.sleep(0.02)

    if channel.closed.is_set():
        emit("disconnected")
    # Do not wait for the stdin thread or a graceful libosdp teardown: the
    # harness may be gone already, and the OS closes the socket for us.
    _OUT.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
