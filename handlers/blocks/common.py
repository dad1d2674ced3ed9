"""Block Kit pieces every builder uses: text objects, long text cut into sections, escaping, and
how people and moments are written.

Blocks are built with `slack_sdk.models`, whose `to_dict()` checks Slack's limits; where user text can
legitimately run past one, it is cut or split here, to the limit the library knows.
"""

import datetime as dt
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, PlainTextObject, SectionBlock

# Slack's limit for a section's text, and for any text object (a context element's, too).
TEXT_MAX = SectionBlock.text_max_length


def escape(text: str) -> str:
    """Slack's control characters in mrkdwn; user text is otherwise shown as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text: str) -> PlainTextObject:
    return PlainTextObject(text=text, emoji=True)


def md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text)


def section(text: str, block_id: str | None = None) -> SectionBlock:
    return SectionBlock(text=md(text[:TEXT_MAX]), block_id=block_id)


def sections(text: str) -> list[SectionBlock]:
    """Sections of at most Slack's section text limit each, split between lines."""
    chunks: list[str] = []
    for line in text.split("\n"):
        if chunks and len(chunks[-1]) + 1 + len(line) <= TEXT_MAX:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line[:TEXT_MAX])
    return [section(chunk) for chunk in chunks]


def context(text: str, block_id: str | None = None) -> ContextBlock:
    return ContextBlock(elements=[md(text[:TEXT_MAX])], block_id=block_id)


def dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    """The blocks as the Web API takes them; `to_dict()` raises if one breaks a limit of Slack's."""
    return [block.to_dict() for block in blocks]


def when(moment: dt.datetime | None) -> str:
    """ " on 2026-11-23 09:30 UTC"; a time without its zone (SQLite's) is UTC already."""
    if moment is None:
        return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return f" on {moment:%Y-%m-%d %H:%M} UTC"


def who(user: str | None) -> str:
    if not user:
        return "someone"
    return f"<@{user}>" if user[:1] in ("U", "W") and user.isalnum() else escape(user)
