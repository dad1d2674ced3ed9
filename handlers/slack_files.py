"""The files a user gives a form, fetched from Slack with the bot's token, before any database
transaction begins (none is ever held open across a Slack call).

Each file is fetched on its own thread, all within one deadline: a download that stalls is an
error on that file, never a submission that misses Slack's answer. What cannot be had (Slack
cannot find it, answers with a sign-in page, the file is over the limit, too slow) comes back as
a `FileProblem` naming the file and the reason; the caller saves nothing when there is one.
"""

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Protocol

from slack_sdk import WebClient

from db.documents import MAX_FILES, IncomingDocument
from handlers import slack_api

log = logging.getLogger(__name__)


class FileRef(Protocol):
    """A Slack file as a form or a message carries it (handlers.blocks.purchase_form.SlackFile):
    its ID, name, size if known, and its download address if known (else files.info finds it)."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def size(self) -> int | None: ...

    @property
    def url(self) -> str | None: ...


@dataclass(frozen=True)
class FileRefValue:
    """A FileRef of our own (the attach form's files, tests)."""

    id: str
    name: str
    size: int | None = None
    url: str | None = None


@dataclass(frozen=True)
class FileProblem:
    """Why one file cannot be stored: `str()` is "receipt.pdf: is larger than the 10 MB limit"."""

    name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name}: {self.reason}" if self.name else self.reason


@dataclass(frozen=True)
class Fetched:
    documents: list[IncomingDocument]
    problems: list[FileProblem]


def too_many(files: Sequence[FileRef]) -> FileProblem | None:
    """More files than a purchase takes (Slack's file_input allows 10; a request may claim more)."""
    count = len(distinct(files))
    if count <= MAX_FILES:
        return None
    return FileProblem("", f"At most {MAX_FILES} documents can be attached at once, not {count}")


def distinct(files: Sequence[FileRef]) -> list[FileRef]:
    """The files, each Slack file once (the same file offered twice is fetched once)."""
    return list({f.id: f for f in files}.values())


def file_refs(element: object) -> list[FileRefValue]:
    """The files of a submitted `file_input` element's state (`{"type": "file_input", "files": [...]}`)."""
    files = element.get("files") if isinstance(element, dict) else None
    out: list[FileRefValue] = []
    for file in files if isinstance(files, list) else []:
        if not isinstance(file, dict) or not isinstance(file.get("id"), str):
            continue
        url = file.get("url_private_download") or file.get("url_private")
        size = file.get("size")
        out.append(
            FileRefValue(
                id=file["id"],
                name=str(file.get("name") or file.get("title") or file["id"]),
                size=size if isinstance(size, int) and not isinstance(size, bool) else None,
                url=url if isinstance(url, str) else None,
            )
        )
    return out


def fetch(client: WebClient, files: Sequence[FileRef], *, max_bytes: int, seconds: float) -> Fetched:
    """Every file's bytes, or the problems; at most `seconds` in all, whatever Slack does."""
    files = distinct(files)
    if not files:
        return Fetched([], [])
    deadline = time.monotonic() + seconds
    pool = ThreadPoolExecutor(max_workers=len(files), thread_name_prefix="fetch")
    try:
        futures = [pool.submit(_fetch_one, client, f, max_bytes, deadline) for f in files]
        wait(futures, timeout=max(deadline - time.monotonic(), 0) + 0.5)
    finally:
        # A download still running ends by its own socket timeout; nobody waits for it.
        pool.shutdown(wait=False, cancel_futures=True)
    too_slow = f"did not download from Slack within {seconds:g} second{'s' if seconds != 1 else ''}"
    documents: list[IncomingDocument] = []
    problems: list[FileProblem] = []
    for file, future in zip(files, futures, strict=True):
        if not future.done() or future.cancelled():
            problems.append(FileProblem(file.name, too_slow))
            continue
        try:
            result = future.result()
        except Exception:
            log.exception("fetching %s failed", file.name)
            result = FileProblem(file.name, "could not be fetched from Slack")
        if isinstance(result, FileProblem):
            problems.append(
                FileProblem(result.name, too_slow) if result.reason == slack_api.TOO_SLOW else result
            )
        else:
            documents.append(result)
    return Fetched(documents, problems)


def _fetch_one(
    client: WebClient, file: FileRef, max_bytes: int, deadline: float
) -> IncomingDocument | FileProblem:
    name, url = file.name, file.url
    limit = f"{max_bytes / 1_000_000:g} MB"
    if file.size is not None and file.size > max_bytes:
        return FileProblem(name, f"is larger than the {limit} limit")
    if url is None:
        info = slack_api.file_info(client, file.id, file.name or None)
        if info.problem is not None or info.url is None:
            return FileProblem(info.name, info.problem or "has no download address in Slack")
        name, url = info.name, info.url
        if info.size is not None and info.size > max_bytes:
            return FileProblem(name, f"is larger than the {limit} limit")
    left = deadline - time.monotonic()
    if left <= 0:
        return FileProblem(name, slack_api.TOO_SLOW)
    got = slack_api.download(client, url, max_bytes=max_bytes, seconds=left)
    if got.content is None:
        return FileProblem(name, got.problem or "could not be downloaded from Slack")
    return IncomingDocument(name=name, content=got.content)
