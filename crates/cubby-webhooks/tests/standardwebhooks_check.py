#!/usr/bin/env python3
"""Checks Cubby's webhook signatures with the reference `standardwebhooks` package.

Reads one JSON object on stdin:

  {"mode": "verify", "secret": "whsec_...", "headers": {...}, "body": "..."}
      exit 0 when Webhook(secret).verify(body, headers) accepts, 1 when it refuses.
  {"mode": "sign", "secret": "whsec_...", "msg_id": "msg_...", "timestamp": 1700000000, "body": "..."}
      prints Webhook(secret).sign(msg_id, timestamp, body) and exits 0.

Exit 2 on bad input. Used by crates/cubby-webhooks/tests/it/reference.rs.
"""

import json
import sys
from datetime import datetime, timezone

from standardwebhooks.webhooks import Webhook


def main() -> int:
    try:
        request = json.load(sys.stdin)
        mode = request["mode"]
        hook = Webhook(request["secret"])
    except Exception as e:  # noqa: BLE001 - any bad input is a usage error
        print(f"bad input: {e!r}", file=sys.stderr)
        return 2

    if mode == "verify":
        try:
            hook.verify(request["body"], request["headers"])
        except Exception as e:  # noqa: BLE001 - refused, whatever the reason
            print(f"refused: {e!r}", file=sys.stderr)
            return 1
        return 0
    if mode == "sign":
        when = datetime.fromtimestamp(int(request["timestamp"]), tz=timezone.utc)
        print(hook.sign(request["msg_id"], when, request["body"]))
        return 0
    print(f"unknown mode {mode!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
