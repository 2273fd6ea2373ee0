"""A real SMTP server for cubby-notify's tests (aiosmtpd).

Usage: python3 smtp_sink.py PORT OUTDIR

Listens on 127.0.0.1:PORT (0: a port the kernel picks) and prints
"READY <port>" once it accepts connections. Every accepted message is written to OUTDIR as
msgN.eml (raw bytes) and msgN.json (envelope, headers and the decoded MIME
parts, as parsed by Python's email package). Recipients whose local part is
"reject451" or "reject550" are refused with that SMTP reply code, so tests
can check how transient and permanent failures are classified. Runs until
killed or until its standard input closes.
"""

import asyncio
import base64
import email
import json
import os
import sys
import threading
from email import policy

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, outdir):
        self.outdir = outdir
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local == "reject451":
            return "451 4.3.0 Try again later"
        if local == "reject550":
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.outdir, "msg%d" % self.count)
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        with open(base + ".eml", "wb") as f:
            f.write(raw)
        msg = email.message_from_bytes(raw, policy=policy.default)
        parts = []
        for part in msg.walk():
            entry = {
                "content_type": part.get_content_type(),
                "content_id": part.get("Content-ID"),
                "disposition": part.get_content_disposition(),
            }
            if not part.is_multipart():
                payload = part.get_payload(decode=True) or b""
                entry["payload_b64"] = base64.b64encode(payload).decode("ascii")
                if part.get_content_maintype() == "text":
                    entry["text"] = payload.decode(part.get_content_charset() or "utf-8")
            parts.append(entry)
        data = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(msg["From"]),
            "to": str(msg["To"]),
            "subject": str(msg["Subject"]),
            "content_type": msg.get_content_type(),
            "parts": parts,
        }
        tmp = base + ".json.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(tmp, base + ".json")
        return "250 Message accepted for delivery"


def main():
    port = int(sys.argv[1])
    outdir = sys.argv[2]
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    handler = Sink(outdir)
    # Port 0 lets the kernel choose, and the chosen port is printed: a port
    # picked by the caller and released before this process binds it can be
    # taken by another test running in parallel.
    server = loop.run_until_complete(
        loop.create_server(lambda: SMTP(handler), host="127.0.0.1", port=port)
    )
    bound = server.sockets[0].getsockname()[1]
    print("READY %d" % bound, flush=True)

    def wait_for_stdin_close():
        sys.stdin.read()
        loop.call_soon_threadsafe(loop.stop)

    threading.Thread(target=wait_for_stdin_close, daemon=True).start()
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    main()
