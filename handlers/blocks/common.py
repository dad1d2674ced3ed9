"""Block Kit pieces every builder uses: text objects, long text cut into sections, escaping, and
how people and moments are written."""

import datetime as dt
from typing import Any


def escape(text: str) -> str:
    """Slack's control characters in mrkdwn; user text is otherwise shown as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def md(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def section(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": md(text[:3000])}
    if block_id:
        block["block_id"] = block_id
    return block


def sections(text: str) -> list[dict[str, Any]]:
    """Sections of at most 3000 characters each (Slack's limit), split between lines."""
    chunks: list[str] = []
    for line in text.split("\n"):
        if chunks and len(chunks[-1]) + 1 + len(line) <= 3000:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line[:3000])
    return [section(chunk) for chunk in chunks]


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [md(text[:3000])]}


def when(moment: dt.datetime | None) -> str:
    return f" on {moment:%Y-%m-%d %H:%M} UTC" if moment else ""


def who(user: str | None) -> str:
    if not user:
        return "someone"
    return f"<@{user}>" if user[:1] in ("U", "W") and user.isalnum() else escape(user)
