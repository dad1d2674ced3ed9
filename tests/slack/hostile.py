"""Checks shared by the hostile-input and security tests: raw requests, leak scans, partial rows."""

import contextlib
import http.client
import re
import time
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Engine, select

from db.models import TransactionDetail, TransactionHeader
from db.reports import count_rows, verify
from db.session import make_session_factory
from handlers.blocks.common import escape
from tests.slack.fake_api import Call
from tests.slack.requests import SECRET, Reply, signature

# Figures for the closing note, summed over a run.
STATS: Counter[str] = Counter()

# What a Python failure looks like when it leaks: a traceback, a frame, or an exception's class name.
LEAK = re.compile(
    r"Traceback \(most recent call last\)"
    r'|File "[^"]*", line \d+'
    r"|\b[A-Z]\w*(?:Error|Exception|Warning)\b"
    r"|\b(?:InvalidPurchase|IdempotencyConflict|Unbalanced|StopIteration|KeyboardInterrupt)\b"
    r"|\b(?:psycopg|sqlalchemy|sqlalche\.me|pydantic)\b"
    r"|\bslack_(?:sdk|bolt)\b"
)


def sign(body: bytes, timestamp: str, secret: str = SECRET) -> str:
    """The signature of exact bytes, through slack_sdk's SignatureVerifier.

    The verifier signs text, and Slack only ever sends UTF-8; bytes that are not UTF-8 are signed
    with U+FFFD for what does not decode (the server refuses those bodies with a 400 before it
    checks any signature).
    """
    return signature(body.decode("utf-8", errors="replace"), timestamp, secret)


def raw_post(
    url: str,
    body: bytes,
    *,
    content_type: str | None = "application/x-www-form-urlencoded",
    timestamp: int | None = None,
    signed: bool = True,
    secret: str = SECRET,
    headers: dict[str, str] | None = None,
    timeout: float = 15.0,
) -> Reply:
    """POST exact bytes; signed as Slack would unless `signed` is False."""
    request = urllib.request.Request(url, data=body, method="POST")
    if content_type is not None:
        request.add_header("Content-Type", content_type)
    if signed:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        request.add_header("X-Slack-Request-Timestamp", ts)
        request.add_header("X-Slack-Signature", sign(body, ts, secret))
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    started = time.monotonic()
    STATS["requests"] += 1
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            reply = Reply(response.status, response.read(), time.monotonic() - started)
    except urllib.error.HTTPError as exc:
        reply = Reply(exc.code, exc.read(), time.monotonic() - started)
    if reply.status >= 500:
        STATS["5xx"] += 1
    return reply


def post_oversized(url: str, body: bytes, *, signed: bool = True) -> int:
    """POST a body the server refuses before reading it; the status, even if the upload was cut off."""
    parts = urllib.parse.urlsplit(url)
    ts = str(int(time.time()))
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=15)
    try:
        connection.putrequest("POST", parts.path)
        connection.putheader("Content-Type", "application/x-www-form-urlencoded")
        connection.putheader("Content-Length", str(len(body)))
        if signed:
            connection.putheader("X-Slack-Request-Timestamp", ts)
            connection.putheader("X-Slack-Signature", sign(body, ts))
        connection.endheaders()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.send(body)
        status = connection.getresponse().status
    finally:
        connection.close()
    STATS["requests"] += 1
    return status


def count(reply: Reply) -> Reply:
    """Count a reply sent by `tests.slack.requests.send` in the run's figures."""
    STATS["requests"] += 1
    if reply.status >= 500:
        STATS["5xx"] += 1
    return reply


def strings(value: Any) -> Iterator[str]:
    """Every string in a JSON-like value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from strings(item)


def _without(text: str, inputs: Iterable[str]) -> str:
    """`text` minus what the user sent (as typed, escaped or normalised): only the bot's own words remain."""
    forms: set[str] = set()
    for given in inputs:
        for form in (given, unicodedata.normalize("NFC", given).strip()):
            forms.update({form, escape(form)})
            forms.update(form.split())
    for form in sorted((f for f in forms if f), key=len, reverse=True):
        text = text.replace(form, "")
    return text


def leaks(value: Any, inputs: Iterable[str] = ()) -> list[str]:
    """Traceback fragments or exception names in `value` that the user did not type themselves."""
    typed = list(inputs)
    found = []
    for text in strings(value):
        hit = LEAK.search(_without(text, typed) if typed else text)
        if hit:
            found.append(f"{hit.group(0)!r} in {text[:300]!r}")
    return found


def call_leaks(calls: Iterable[Call], inputs: Iterable[str] = ()) -> list[str]:
    typed = list(inputs)
    return [f"{c.method}: {leak}" for c in calls for leak in leaks(c.params, typed)]


def ledger_check(engine: Engine) -> tuple[dict[str, int], list[str]]:
    """Row counts, and the partial rows: headers without line items, and whatever `verify` finds
    (unbalanced or incomplete postings). One session, so a check per request stays cheap."""
    with make_session_factory(engine).begin() as session:
        has_items = select(TransactionDetail.id).where(
            TransactionDetail.transaction_id == TransactionHeader.id
        )
        bare = session.scalars(select(TransactionHeader.id).where(~has_items.exists())).all()
        problems = [f"transaction {tx} has no line items" for tx in bare]
        problems += [str(p) for p in verify(session)]
        rows = count_rows(session)
    STATS["partial-row checks"] += 1
    STATS["partial rows"] += len(problems)
    return rows, problems


def partial_rows(engine: Engine) -> list[str]:
    return ledger_check(engine)[1]
