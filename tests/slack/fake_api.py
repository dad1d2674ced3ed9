"""A local stand-in for the Slack Web API: answers like Slack and records every call.

Point the app's WebClient at `fake.base_url` (SLACK_API_URL). Program failures per method with
`fail(method, ...)`; each programmed answer is used once, in order, before the defaults.
"""

import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Answer:
    status: int = 200
    body: dict[str, Any] = field(default_factory=lambda: {"ok": True})
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class _Server(ThreadingHTTPServer):
    # Slack accepts bursts; the standard library's default backlog of 5 would reset connections
    # when three bot processes announce at once, a failure real Slack does not have.
    request_queue_size = 1024


class FakeSlackApi:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.arrivals: list[str] = []  # methods in the order their requests came in, answered or not
        self.socket_url: str | None = None
        self._answers: dict[str, deque[Answer]] = defaultdict(deque)
        self._lock = threading.Condition()
        self._views = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    @property
    def response_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/response/1"

    def start(self) -> "FakeSlackApi":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail(self, method: str, error: str = "", *, status: int = 200, times: int = 1, **kwargs: Any) -> None:
        body = {"ok": False, "error": error} if error else {"ok": False}
        for _ in range(times):
            self._answers[method].append(Answer(status=status, body=body, **kwargs))

    def answer(self, method: str, answer: Answer) -> None:
        self._answers[method].append(answer)

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for_arrival(self, method: str, count: int = 1, timeout: float = 10.0) -> None:
        """Until `count` requests to `method` came in, even if they are still being answered."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self.arrivals.count(method) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} request(s) to {method}; saw {self.arrivals}")
                self._lock.wait(left)

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len([c for c in self.calls if c.method == method]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [c.method for c in self.calls]
                    raise AssertionError(f"expected {count} call(s) to {method}; saw {seen}")
                self._lock.wait(left)
            return [c for c in self.calls if c.method == method]

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    def _default(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1", "user": "purchase-bot"}
        if method in ("views.open", "views.update", "views.push", "views.publish"):
            with self._lock:
                self._views += 1
                number = self._views
            view_id = params.get("view_id") or f"V{number:06d}"
            return {"ok": True, "view": {"id": view_id, "hash": f"hash-{number}"}}
        if method == "chat.postMessage":
            return {"ok": True, "channel": params.get("channel"), "ts": f"{time.time():.6f}"}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket_url}
        return {"ok": True}

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length).decode() if length else ""
        if "json" in (request.headers.get("Content-Type") or ""):
            params = json.loads(raw or "{}")
        else:
            params = dict(parse_qsl(raw))
        for key in ("view", "blocks"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        path = request.path
        method = path.removeprefix("/api/") if path.startswith("/api/") else "response_url"
        call = Call(method, params, {k.lower(): v for k, v in request.headers.items()})
        with self._lock:
            self.arrivals.append(method)
            self._lock.notify_all()
            answer = self._answers[method].popleft() if self._answers[method] else None
        if answer is None:
            answer = Answer(body=self._default(method, params))
        if answer.delay:
            time.sleep(answer.delay)
        with self._lock:
            self.calls.append(call)
            self._lock.notify_all()
        data = json.dumps(answer.body).encode()
        request.send_response(answer.status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        for key, value in answer.headers.items():
            request.send_header(key, value)
        request.end_headers()
        request.wfile.write(data)
