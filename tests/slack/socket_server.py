"""A local WebSocket server standing in for Slack's Socket Mode endpoint."""

import json
import queue
import threading
from typing import Any

from websockets.sync.server import ServerConnection, serve


class FakeSocketMode:
    def __init__(self) -> None:
        self.received: queue.Queue[dict[str, Any]] = queue.Queue()
        self._connected = threading.Event()
        self._connection: ServerConnection | None = None
        self._server = serve(self._handle, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/link"

    def start(self) -> "FakeSocketMode":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    def _handle(self, connection: ServerConnection) -> None:
        self._connection = connection
        connection.send(json.dumps({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}}))
        self._connected.set()
        for message in connection:
            self.received.put(json.loads(message))

    def wait_connected(self, timeout: float = 20.0) -> None:
        if not self._connected.wait(timeout):
            raise AssertionError("the bot never connected to the Socket Mode server")

    def deliver(self, envelope_id: str, kind: str, payload: dict[str, Any]) -> None:
        assert self._connection is not None
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": True,
        }
        self._connection.send(json.dumps(envelope))

    def ack_for(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        while True:
            message = self.received.get(timeout=timeout)
            if message.get("envelope_id") == envelope_id:
                return message
