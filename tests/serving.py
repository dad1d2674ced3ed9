"""Run `purchase-bot serve` as a real process, the way it is deployed."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.slack import requests as slack
from tests.slack.fake_api import FakeSlackApi

BIN = Path(sys.executable).parent / "purchase-bot"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bot_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PURCHASE_", "DATABASE_"))}
    env.update(values)
    return env


def slack_bot_env(database_url: str, fake: FakeSlackApi, **values: str) -> dict[str, str]:
    """The environment of a `purchase-bot serve` process on its own free port, signed like Slack and
    talking to the fake Slack Web API; `values` add to it or replace."""
    return bot_env(
        **{
            "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": fake.token,
            "SLACK_SIGNING_SECRET": slack.SECRET,
            "SLACK_API_URL": fake.base_url,
            "PURCHASE_CHANNEL": slack.CHANNEL,
            "PORT": str(free_port()),
            "HOST": "127.0.0.1",
            "WEB_CONCURRENCY": "1",
            **values,
        }
    )


def wait_healthy(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise AssertionError(f"{url} never became healthy")


@contextmanager
def serve(
    env: dict[str, str], log: Path, *, http: bool = True, command: list[str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """`purchase-bot serve` (or `command`) with `env`, output to `log`; stopped afterwards."""
    with log.open("wb") as out:
        # Its own process group, so a test can kill the server and its workers at once.
        process = subprocess.Popen(
            command or [str(BIN), "serve"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=log.parent,
            start_new_session=True,
        )
        try:
            if http:
                wait_healthy(f"http://127.0.0.1:{env['PORT']}")
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
