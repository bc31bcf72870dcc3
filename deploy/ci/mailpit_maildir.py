"""Mirror the messages Mailpit caught into a Maildir, for tools that read a Maildir (tests/e2e).

The compose stack's mail catcher is Mailpit (web UI + API, no Maildir); the e2e suite reads MAIL_DIR
like the local stack's SMTP sink. This copies every message's raw RFC 5322 source into
MAIL_DIR/new/<mailpit id> once, polling the Mailpit API. Standard library only.

usage: mailpit_maildir.py --mailpit http://host:8025 --maildir DIR [--interval 0.3] [--once]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

PAGE = 200


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (operator-given http URL)
        return response.read()


def message_ids(base_url: str) -> list[str]:
    ids: list[str] = []
    start = 0
    while True:
        query = urllib.parse.urlencode({"start": start, "limit": PAGE})
        page = json.loads(_get(f"{base_url}/api/v1/messages?{query}"))
        batch = [m["ID"] for m in page.get("messages") or []]
        ids.extend(batch)
        if len(batch) < PAGE:
            return ids
        start += PAGE


def sync(base_url: str, maildir: Path, seen: set[str]) -> int:
    copied = 0
    for message_id in message_ids(base_url):
        if message_id in seen:
            continue
        safe = "".join(c for c in message_id if c.isalnum() or c in "-_")
        target = maildir / "new" / safe
        if not target.exists():
            raw = _get(f"{base_url}/api/v1/message/{urllib.parse.quote(message_id)}/raw")
            tmp = maildir / "tmp" / safe
            tmp.write_bytes(raw)
            os.replace(tmp, target)  # Maildir delivery: readers never see a partial file
            copied += 1
        seen.add(message_id)
    return copied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mailpit", required=True, help="Mailpit base URL, e.g. http://localhost:8025")
    parser.add_argument("--maildir", required=True, type=Path)
    parser.add_argument("--interval", type=float, default=0.3)
    parser.add_argument("--once", action="store_true", help="copy what is there and exit")
    args = parser.parse_args(argv)
    base_url = args.mailpit.rstrip("/")
    for sub in ("tmp", "new", "cur"):
        (args.maildir / sub).mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    while True:
        try:
            sync(base_url, args.maildir, seen)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            if args.once:
                print(f"mailpit_maildir: {exc}", file=sys.stderr)
                return 1
        if args.once:
            return 0
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
