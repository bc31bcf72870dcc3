"""A local stand-in for the Telegram Bot API (getMe, sendMessage, setWebhook), for the local stack and the
tests. Standard library only.

    python tools/fake_telegram/server.py --port 8181 --dir .run/dev/telegram

Every accepted sendMessage is written as one JSON file {chat_id, text, message_id, date, token_id} to
DIR/messages/ (named <unix ns>-<chat_id>.json, so `ls` lists them in order); setWebhook to DIR/webhook.json.
Faults, for tests: a chat id listed in DIR/blocked (one per line) gets 403 "bot was blocked by the user";
DIR/rate-limit holding a number N makes the next sendMessage answer 429 with retry_after N (the file is then
removed). Any token is accepted; the bot's username is --username (default velo_local_bot).
"""

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

_lock = threading.Lock()
_counter = [0]


class Handler(BaseHTTPRequestHandler):
    server_version = "FakeTelegram/1"

    def log_message(self, format, *args):
        pass

    def _params(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        query = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
        ctype = self.headers.get("Content-Type", "")
        if "json" in ctype and raw:
            return query | json.loads(raw)
        form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
        return query | form

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.do_POST()

    def do_POST(self):
        path = urlsplit(self.path).path
        parts = path.strip("/").split("/")
        if len(parts) < 2 or not parts[-2].startswith("bot"):
            return self._answer(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        token, method = parts[-2][3:], parts[-1]
        params = self._params()
        root: Path = self.server.root
        if method == "getMe":
            return self._answer(200, {"ok": True, "result": self.server.me(token)})
        if method == "setWebhook":
            (root / "webhook.json").write_text(json.dumps(params))
            return self._answer(200, {"ok": True, "result": True, "description": "Webhook was set"})
        if method == "sendMessage":
            chat_id = str(params.get("chat_id", ""))
            blocked = root / "blocked"
            if blocked.exists() and chat_id in blocked.read_text().split():
                return self._answer(
                    403,
                    {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
                )
            limit = root / "rate-limit"
            with _lock:
                if limit.exists():
                    seconds = int(limit.read_text().strip() or 1)
                    limit.unlink()
                    return self._answer(
                        429,
                        {
                            "ok": False,
                            "error_code": 429,
                            "description": f"Too Many Requests: retry after {seconds}",
                            "parameters": {"retry_after": seconds},
                        },
                    )
                _counter[0] += 1
                message_id = _counter[0]
            now = time.time()
            record = {
                "chat_id": int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id,
                "text": params.get("text", ""),
                "message_id": message_id,
                "date": int(now),
                "token_id": token.split(":", 1)[0],
            }
            messages = root / "messages"
            tmp = messages / f".{time.time_ns()}-{chat_id}.tmp"
            tmp.write_text(json.dumps(record, ensure_ascii=False))
            tmp.rename(messages / f"{time.time_ns()}-{chat_id}.json")
            result = {
                "message_id": message_id,
                "date": int(now),
                "chat": {"id": record["chat_id"], "type": "private"},
                "text": record["text"],
            }
            return self._answer(200, {"ok": True, "result": result})
        return self._answer(
            404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
        )


class FakeTelegram(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, root: Path, username: str):
        super().__init__(address, Handler)
        self.root = root
        self.username = username
        (root / "messages").mkdir(parents=True, exist_ok=True)

    def me(self, token: str) -> dict:
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1
        return {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Velo",
            "username": self.username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8181)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--username", default="velo_local_bot")
    args = parser.parse_args()
    server = FakeTelegram((args.host, args.port), Path(args.dir), args.username)
    print(
        f"fake Telegram Bot API on http://{args.host}:{args.port}, messages in {args.dir}/messages",
        flush=True,
    )
    server.serve_forever()


if __name__ == "__main__":
    main()
