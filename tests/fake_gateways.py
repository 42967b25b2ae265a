"""Loopback HTTP servers standing in for an SMS.ru-compatible gateway and the Telegram Bot
API. Each records the requests it received so tests can assert them."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class _Server:
    def __init__(self, port: int = 0) -> None:
        self.requests: list[dict[str, Any]] = []
        self._port = port
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> _Server:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    data = json.loads(raw or "{}")
                else:
                    data = {k: v[0] for k, v in parse_qs(raw).items()}
                status, body = owner.answer(urlsplit(self.path).path, data)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self._port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def answer(self, path: str, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        raise NotImplementedError


class SmsGateway(_Server):
    """``POST /sms/send`` like SMS.ru (``api_id``, ``to``, ``msg``, ``json=1``)."""

    def __init__(self, api_key: str, port: int = 0) -> None:
        super().__init__(port)
        self.api_key = api_key

    def answer(self, path: str, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.requests.append({"path": path, **data})
        if path != "/sms/send" or data.get("api_id") != self.api_key:
            return 200, {"status": "ERROR", "status_code": 200, "status_text": "Неверный api_id"}
        sms_id = f"id-{len(self.requests)}"
        return 200, {
            "status": "OK",
            "status_code": 100,
            "sms": {data["to"]: {"status": "OK", "status_code": 100, "sms_id": sms_id}},
        }

    def texts(self) -> list[tuple[str, str]]:
        return [(r["to"], r["msg"]) for r in self.requests if r["path"] == "/sms/send"]


class TelegramApi(_Server):
    """``/bot<token>/getUpdates`` and ``/bot<token>/sendMessage``; ``too_many`` answers
    the next N sendMessage calls with 429 and ``retry_after``."""

    def __init__(self, token: str, port: int = 0) -> None:
        super().__init__(port)
        self.token = token
        self.updates: list[dict[str, Any]] = []
        self.delivered: list[tuple[str, str]] = []
        self.too_many = 0
        self.retry_after = 1
        self.blocked: set[str] = set()  # chats whose user blocked the bot (403)
        self.arrivals: list[tuple[float, str]] = []  # (time.monotonic(), chat) accepted
        self.webhook: dict[str, Any] | None = None  # the last setWebhook's parameters

    def answer(self, path: str, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.requests.append({"path": path, **data})
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        method = path[len(prefix) :]
        if method == "getUpdates":
            offset = int(data.get("offset") or 0)
            return 200, {
                "ok": True,
                "result": [u for u in self.updates if u["update_id"] >= offset],
            }
        if method in ("setWebhook", "deleteWebhook"):
            self.webhook = dict(data) if method == "setWebhook" else None
            return 200, {"ok": True, "result": True}
        if method == "sendMessage":
            if self.too_many:
                self.too_many -= 1
                return 429, {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {self.retry_after}",
                    "parameters": {"retry_after": self.retry_after},
                }
            if str(data["chat_id"]) in self.blocked:
                return 403, {
                    "ok": False,
                    "error_code": 403,
                    "description": "Forbidden: bot was blocked by the user",
                }
            self.delivered.append((str(data["chat_id"]), data["text"]))
            self.arrivals.append((time.monotonic(), str(data["chat_id"])))
            return 200, {"ok": True, "result": {"message_id": len(self.requests)}}
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}

    def sent(self) -> list[tuple[str, str]]:
        """Messages accepted (not answered with 429)."""
        return list(self.delivered)

    def attempts(self) -> int:
        return sum(r["path"].endswith("/sendMessage") for r in self.requests)
