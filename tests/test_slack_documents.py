"""Receipts and invoices from Slack, end to end over signed HTTP: the real Bolt app, a real
PostgreSQL (SQLite where cheap), the fake Slack Web API serving files.info, the download URLs (to
the bot token only; anyone else gets Slack's HTML sign-in page with status 200) and the calls
files_upload_v2 makes.

Files given to the purchase form are fetched before the transaction, checked by their bytes, and
committed with the purchase or not at all; attached later by their requester or an approver; sent
back from the ledger into the asker's DM."""

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.app import create_app
from bot.web import create_wsgi_app, database_health
from db import rates
from db.documents import DocumentInfo, read_document
from db.models import Document, Status, TransactionDocument, TransactionHeader
from db.session import make_session_factory
from handlers import slack_api
from handlers.blocks.browse import show_message
from handlers.blocks.documents import attach_modal
from handlers.blocks.lifecycle import channel_message
from handlers.blocks.receipt import build_result_view
from handlers.receipt import Audit, Receipt
from handlers.slack_files import FileRefValue, fetch
from tests.clock import CLOCK
from tests.clock import START as WHEN
from tests.helpers import until
from tests.samples import EXE, pdf, png
from tests.slack import requests as slack
from tests.slack.fake_api import FakeSlackApi
from tests.slack.harness import CHANNEL, Bot, bot_settings, http_server, running_bot

pytestmark = [pytest.mark.postgres, pytest.mark.bot_settings(approvers="U201")]

SNACKS = "Snacks: 3 Coffee @ 4.50"


PDF = pdf()
PNG = png()


def _submit(bot: Bot, files: list[dict[str, Any]], text: str = SNACKS, user: str = "U111") -> slack.Reply:
    view, view_id = bot.open_modal(text)
    reply = bot.submit(view, view_id, {"documents": files}, user=user)
    assert reply.status == 200, reply.body
    assert reply.seconds < 3
    return reply


def _posted_id(reply: slack.Reply | dict[str, Any]) -> int:
    body = reply.json() if isinstance(reply, slack.Reply) else reply
    assert body["response_action"] == "update", body
    headline = body["view"]["blocks"][0]["text"]["text"]
    return int(headline.split("#")[1].split("*")[0])


def _file_errors(reply: slack.Reply) -> str:
    body = reply.json()
    assert body["response_action"] == "errors", body
    assert set(body["errors"]) == {"documents"}, body["errors"]
    return str(body["errors"]["documents"])


def _counts(engine: Engine) -> tuple[int, int, int]:
    """(transaction headers, stored documents, links of documents to transactions)."""
    with Session(engine) as s:
        return (
            s.scalar(select(func.count()).select_from(TransactionHeader)) or 0,
            s.scalar(select(func.count()).select_from(Document)) or 0,
            s.scalar(select(func.count()).select_from(TransactionDocument)) or 0,
        )


def _stored(engine: Engine, tx: int) -> list[tuple[str, str, int, bytes]]:
    """(name, content type, size, bytes) of each document of `tx`, read back from the ledger."""
    with make_session_factory(engine).begin() as session:
        links = session.execute(
            select(TransactionDocument.name, TransactionDocument.sha256)
            .where(TransactionDocument.transaction_id == tx)
            .order_by(TransactionDocument.id)
        ).all()
        out = []
        for name, sha in links:
            doc = session.get_one(Document, sha)
            out.append((name, doc.content_type, doc.size, b"".join(read_document(session, sha))))
        return out


def _actions(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["action_id"]: e for b in blocks if b["type"] == "actions" for e in b["elements"]}


# --- A good submission ---------------------------------------------------------------------


def test_two_files_are_committed_with_the_purchase_and_listed(bot: Bot) -> None:
    files = [bot.fake.add_file(PDF, "invoice.pdf"), bot.fake.add_file(PNG, "photo.png", "image/png")]
    reply = _submit(bot, files)
    tx = _posted_id(reply)
    shown = json.dumps(reply.json()["view"])
    assert "invoice.pdf" in shown
    assert "photo.png" in shown
    assert f"{len(PDF)} bytes" in shown
    assert set(_actions(reply.json()["view"]["blocks"])) == {"attach_documents", "get_documents"}

    assert _stored(bot.engine, tx) == [
        ("invoice.pdf", "application/pdf", len(PDF), PDF),
        ("photo.png", "image/png", len(PNG), PNG),
    ]
    # Downloaded with the bot token, once each.
    assert [f.downloads for f in bot.fake.files.values()] == [1, 1]
    assert {h["authorization"] for h in bot.fake.download_headers} == {"Bearer xoxb-test-token"}

    message = bot.fake.wait_for("chat.postMessage")[0].params
    assert message["channel"] == CHANNEL
    assert "invoice.pdf" in json.dumps(message["blocks"])
    assert "photo.png" in json.dumps(message["blocks"])
    buttons = _actions(message["blocks"])
    assert {"void_purchase", "attach_documents", "get_documents"} <= set(buttons)
    assert buttons["attach_documents"]["value"] == str(tx)


def test_a_png_whose_slack_mimetype_says_pdf_is_stored_as_png(bot: Bot) -> None:
    reply = _submit(bot, [bot.fake.add_file(PNG, "scan.pdf", "application/pdf")])
    tx = _posted_id(reply)
    assert _stored(bot.engine, tx) == [("scan.pdf", "image/png", len(PNG), PNG)]


def test_the_same_bytes_twice_are_stored_once_and_listed_once(bot: Bot) -> None:
    first = bot.fake.add_file(PDF, "receipt.pdf")
    again = bot.fake.add_file(PDF, "receipt copy.pdf")
    reply = _submit(bot, [first, again, first])  # and one Slack file offered twice
    tx = _posted_id(reply)
    assert _counts(bot.engine) == (1, 1, 1)
    assert [name for name, *_ in _stored(bot.engine, tx)] == ["receipt.pdf"]
    shown = json.dumps(reply.json()["view"])
    assert shown.count("receipt.pdf") == 1
    assert "receipt copy.pdf" not in shown
    assert bot.fake.files[first["id"]].downloads == 1


def test_a_slow_download_answers_posting_then_the_receipt(bot: Bot) -> None:
    slow = bot.fake.add_file(PDF, "big.pdf", stall=2.6)  # past the 2 s acknowledgement budget
    reply = _submit(bot, [slow])
    assert "Posting" in json.dumps(reply.json()["view"])
    update = bot.fake.wait_for("views.update")[0].params
    tx = _posted_id({"response_action": "update", "view": update["view"]})
    assert "big.pdf" in json.dumps(update["view"])
    assert _stored(bot.engine, tx)[0][3] == PDF


# --- Bad files: a message on the file field naming the file and the reason; nothing saved ---


BAD_FILES = [
    ("empty", lambda f: f.add_file(b"", "empty.pdf"), "empty.pdf: is empty (0 bytes)"),
    ("exe-as-pdf", lambda f: f.add_file(EXE, "receipt.pdf"), "receipt.pdf: is not a PDF or an image"),
    ("404", lambda f: f.add_file(PDF, "gone.pdf", behaviour="404"), "gone.pdf: could not be found in Slack"),
    (
        "sign-in-page",
        lambda f: f.add_file(PDF, "locked.pdf", behaviour="html"),
        "locked.pdf: came back as a Slack sign-in page",
    ),
    (
        "over-the-limit-by-size",
        lambda f: f.add_file(PDF, "huge.pdf", size=1_000_001),
        "huge.pdf: is larger than the 1 MB limit",
    ),
    (
        "over-the-limit-by-bytes",
        lambda f: f.add_file(PDF + b"0" * 1_000_000, "liar.pdf", size=100),
        "liar.pdf: is larger than the 1 MB limit",
    ),
    (
        "file_not_found",
        lambda f: {
            k: v
            for k, v in f.add_file(PDF, "deleted.pdf", behaviour="file_not_found").items()
            if not k.startswith("url_")
        },
        "deleted.pdf: could not be found in Slack (file_not_found)",
    ),
    (
        "not-a-slack-address",
        lambda f: {
            **f.add_file(PDF, "elsewhere.pdf"),
            "url_private_download": "http://127.0.0.1:9/steal-the-token",
        },
        "elsewhere.pdf: is not a Slack file address",
    ),
]


@pytest.mark.bot_settings(max_document_mb=1)
@pytest.mark.parametrize(("make", "words"), [b[1:] for b in BAD_FILES], ids=[b[0] for b in BAD_FILES])
def test_a_bad_file_is_named_on_the_file_field_and_nothing_is_saved(bot: Bot, make: Any, words: str) -> None:
    good = bot.fake.add_file(PNG, "fine.png", "image/png")
    reply = _submit(bot, [good, make(bot.fake)])
    message = _file_errors(reply)
    assert words in message
    assert "fine.png" not in message
    assert _counts(bot.engine) == (0, 0, 0)
    assert bot.fake.calls_to("chat.postMessage") == []


def test_the_sign_in_page_for_a_token_slack_does_not_accept_is_refused(bot: Bot) -> None:
    bot.fake.token = "xoxb-someone-else"  # the bot's token is not the one Slack serves the file to
    reply = _submit(bot, [bot.fake.add_file(PDF, "receipt.pdf")])
    assert "receipt.pdf: came back as a Slack sign-in page" in _file_errors(reply)
    assert _counts(bot.engine) == (0, 0, 0)


def test_eleven_files_are_refused(bot: Bot) -> None:
    files = [bot.fake.add_file(PDF + bytes([n]), f"r{n}.pdf") for n in range(11)]
    message = _file_errors(_submit(bot, files))
    assert "At most 10 documents" in message
    assert "not 11" in message
    assert sum(f.downloads for f in bot.fake.files.values()) == 0  # refused before fetching any
    assert _counts(bot.engine) == (0, 0, 0)


@pytest.mark.bot_settings(document_fetch_seconds=1)
def test_a_download_that_stalls_is_an_error_and_slack_is_answered_in_time(bot: Bot) -> None:
    stalled = bot.fake.add_file(PDF, "stuck.pdf", behaviour="stall", stall=6)
    started = time.monotonic()
    reply = _submit(bot, [stalled, bot.fake.add_file(PNG, "ok.png", "image/png")])
    assert time.monotonic() - started < 3
    message = _file_errors(reply)
    assert "stuck.pdf: did not download from Slack within 1 second" in message
    assert "ok.png" not in message
    assert _counts(bot.engine) == (0, 0, 0)


# --- RECEIPT_REQUIRED_ABOVE ------------------------------------------------------------------


@pytest.mark.bot_settings(receipt_required_above="USD 10, EUR 100")
def test_receipt_required_above_the_limit_per_currency(bot: Bot) -> None:
    above = _file_errors(_submit(bot, []))  # 13.50 USD
    assert "A receipt or invoice is required for purchases above USD 10" in above
    assert _counts(bot.engine)[0] == 0
    assert _posted_id(_submit(bot, [bot.fake.add_file(PDF, "r.pdf")])) > 0
    assert _posted_id(_submit(bot, [], "Snack: 1 Coffee @ 4.50")) > 0  # below the limit
    with make_session_factory(bot.engine).begin() as session:  # valued in USD too: it needs a rate
        rates.load_rates(session, rates.parse_rates("date,currency,rate\n2026-01-01,EUR,1.08\n"))
    view, view_id = bot.open_modal(SNACKS)
    euros = bot.submit(view, view_id, {"currency": "EUR", "documents": []})
    assert _posted_id(euros) > 0  # EUR 13.50 is under EUR 100
    assert _counts(bot.engine) == (3, 1, 1)


# --- Attach later ----------------------------------------------------------------------------


def _recorded(bot: Bot, user: str = "U111") -> int:
    tx = _posted_id(_submit(bot, [], user=user))
    bot.fake.wait_for("chat.postMessage")
    return tx


def _click(bot: Bot, action_id: str, tx: int, user: str) -> None:
    payload = slack.message_action(
        bot.fake.response_url, action_id, str(tx), user=user, block_id="documents_actions"
    )
    reply = bot.interact(payload)
    assert reply.status == 200
    assert reply.seconds < 3


def _attach_form(bot: Bot, count: int = 1) -> dict[str, Any]:
    view: dict[str, Any] = bot.fake.wait_for("views.open", count + 1)[-1].params[
        "view"
    ]  # after the purchase form
    assert view["callback_id"] == "attach_documents_form"
    return view


@pytest.mark.parametrize("user", ["U111", "U201"], ids=["requester", "approver"])
def test_attach_receipt_button_adds_documents_and_updates_the_message(bot: Bot, user: str) -> None:
    tx = _recorded(bot)
    _click(bot, "attach_documents", tx, user)
    form = _attach_form(bot)
    file = bot.fake.add_file(PDF, "later.pdf")
    reply = bot.submit(form, "VATTACH1", {"documents": [file]}, user=user)
    assert reply.status == 200
    assert reply.seconds < 3
    body = reply.json()
    assert body["response_action"] == "update", body
    assert "Attached to purchase" in json.dumps(body["view"])
    assert _stored(bot.engine, tx) == [("later.pdf", "application/pdf", len(PDF), PDF)]
    with Session(bot.engine) as s:
        link = s.scalars(select(TransactionDocument).where(TransactionDocument.transaction_id == tx)).one()
        assert link.attached_by == user
    # The clicked message shows the document and now offers it.
    edit = bot.fake.wait_for("chat.update")[0].params
    assert edit["channel"] == CHANNEL
    assert "later.pdf" in json.dumps(edit["blocks"])
    assert "get_documents" in _actions(edit["blocks"])


def test_attach_is_refused_to_others(bot: Bot) -> None:
    tx = _recorded(bot)
    _click(bot, "attach_documents", tx, "U999")
    told = bot.fake.wait_for("response_url")[0].params
    assert "Only the person who recorded a purchase, or an approver" in told["text"]
    assert len(bot.fake.calls_to("views.open")) == 1  # the purchase form only
    # A submission of the form anyway (say, opened before) attaches nothing.
    form = attach_modal(tx, channel=None, ts=None)
    reply = bot.submit(form, "VATTACH2", {"documents": [bot.fake.add_file(PDF, "x.pdf")]}, user="U999")
    assert "Only the person who recorded" in json.dumps(reply.json()["view"])
    assert _counts(bot.engine) == (1, 0, 0)


def test_attach_form_errors_name_the_file_and_save_nothing(bot: Bot) -> None:
    tx = _recorded(bot)
    form = attach_modal(tx, channel=None, ts=None)
    bad = bot.fake.add_file(EXE, "invoice.pdf")
    reply = bot.submit(form, "VATTACH3", {"documents": [bot.fake.add_file(PDF, "ok.pdf"), bad]})
    assert "invoice.pdf: is not a PDF or an image (it is a Windows program)" in _file_errors(reply)
    assert _counts(bot.engine) == (1, 0, 0)
    empty = bot.submit(form, "VATTACH4", {"documents": []})
    assert "Choose at least one file" in _file_errors(empty)


def test_purchase_attach_command_opens_the_form(bot: Bot) -> None:
    tx = _recorded(bot)
    assert bot.command(f"attach {tx}").status == 200
    form = _attach_form(bot)
    assert json.loads(form["private_metadata"])["tx"] == tx
    assert bot.command("attach").status == 200
    assert "/purchase attach ID" in bot.fake.wait_for("response_url")[0].params["text"]
    assert bot.command("attach 999999").status == 200
    assert "There is no purchase #999999" in bot.fake.wait_for("response_url", 2)[1].params["text"]
    assert bot.command(f"attach {tx}", user="U999").status == 200
    assert "Only the person who recorded" in bot.fake.wait_for("response_url", 3)[2].params["text"]


def test_attach_button_on_the_receipt_stacks_the_form(bot: Bot) -> None:
    tx = _recorded(bot)
    view = build_result_view(_receipt(tx))
    payload = slack.block_action(view, "VRECEIPT", "attach_documents", str(tx))
    assert bot.interact(payload).status == 200
    pushed = bot.fake.wait_for("views.push")[0].params["view"]
    assert pushed["callback_id"] == "attach_documents_form"


# --- Showing and getting them ------------------------------------------------------------------


def test_show_list_and_home_list_the_documents(bot: Bot) -> None:
    tx = _posted_id(_submit(bot, [bot.fake.add_file(PDF, "bill.pdf")]))
    assert bot.command(f"show {tx}").status == 200
    shown = bot.fake.wait_for("response_url")[0].params
    assert "bill.pdf" in json.dumps(shown["blocks"])
    assert "get_documents" in _actions(shown["blocks"])
    assert bot.command("list").status == 200
    listed = bot.fake.wait_for("response_url", 2)[1].params
    assert "bill.pdf" in json.dumps(listed["blocks"])
    assert bot.home_opened("U111").status == 200
    assert "bill.pdf" in json.dumps(bot.published_home("U111", "bill.pdf"))


def test_get_documents_uploads_the_stored_bytes_into_the_askers_dm(bot: Bot) -> None:
    files = [bot.fake.add_file(PDF, "invoice.pdf"), bot.fake.add_file(PNG, "photo.png", "image/png")]
    tx = _posted_id(_submit(bot, files))
    bot.fake.files.clear()  # Slack's copies are gone: the ledger's are sent
    _click(bot, "get_documents", tx, "U201")
    opened = bot.fake.wait_for("conversations.open")[0].params
    assert opened["users"] == "U201"
    uploads = bot.fake.uploaded(2)
    assert [(u.filename, u.content, u.channel) for u in uploads] == [
        ("invoice.pdf", PDF, "D201"),
        ("photo.png", PNG, "D201"),
    ]
    assert f"purchase #{tx}" in (uploads[0].comment or "")
    told = bot.fake.wait_for("response_url")[0].params
    assert "Sent 2 documents" in told["text"]


@pytest.mark.bot_settings(purchase_allowed_users="U111")
def test_get_documents_is_refused_to_those_who_may_not_see_purchases(bot: Bot) -> None:
    tx = _posted_id(_submit(bot, [bot.fake.add_file(PDF, "invoice.pdf")]))
    _click(bot, "get_documents", tx, "U999")
    told = bot.fake.wait_for("response_url")[0].params
    assert "not allowed to see" in told["text"]
    assert bot.fake.calls_to("conversations.open") == []
    assert bot.fake.uploads == {}


# --- Retries, other processes, SQLite ---------------------------------------------------------


@contextmanager
def _bots_on_one_slack(engine: Engine, count: int) -> Iterator[tuple[FakeSlackApi, list[Bot]]]:
    """`count` app instances (as on separate processes) on one database and one Slack."""
    fake = FakeSlackApi().start()
    url = engine.url.render_as_string(hide_password=False)
    try:
        with ExitStack() as stack:
            bots = []
            for _ in range(count):
                app = create_app(bot_settings(fake.base_url, url), engine, clock=CLOCK)
                base = stack.enter_context(http_server(create_wsgi_app(app, database_health(engine))))
                bots.append(Bot(base, fake, engine))
            yield fake, bots
    finally:
        fake.stop()


def test_a_submission_retried_on_another_instance_stores_its_documents_once(pg_engine: Engine) -> None:
    with _bots_on_one_slack(pg_engine, 2) as (fake, (first, second)):
        view, view_id = first.open_modal(SNACKS)
        files = [fake.add_file(PDF, "invoice.pdf"), fake.add_file(PNG, "photo.png", "image/png")]
        one = first.submit(view, view_id, {"documents": files})
        again = second.submit(view, view_id, {"documents": files})
        assert _posted_id(one) == _posted_id(again)
        assert "Already recorded" in json.dumps(again.json()["view"])
        assert "invoice.pdf" in json.dumps(again.json()["view"])
        assert _counts(pg_engine) == (1, 2, 2)


def test_documents_on_sqlite(sqlite_engine: Engine) -> None:
    with running_bot(sqlite_engine) as bot:
        files = [bot.fake.add_file(PDF, "invoice.pdf"), bot.fake.add_file(PDF, "same.pdf")]
        tx = _posted_id(_submit(bot, files))
        assert _stored(sqlite_engine, tx) == [("invoice.pdf", "application/pdf", len(PDF), PDF)]
        _click(bot, "get_documents", tx, "U111")
        assert [u.content for u in bot.fake.uploaded(1)] == [PDF]


# --- Pieces --------------------------------------------------------------------------------------


def test_the_token_goes_to_slack_and_the_configured_api_only() -> None:
    client = WebClient(token="xoxb-1", base_url="http://127.0.0.1:5000/api/")
    assert slack_api.trusted_file_host(client, "https://files.slack.com/files-pri/T1-F1/download/a.pdf")
    assert slack_api.trusted_file_host(client, "http://127.0.0.1:5000/files-pri/T1-F1/a.pdf")
    for url in (
        "http://files.slack.com/files-pri/T1-F1/a.pdf",  # not over HTTPS
        "https://files.slack.com.evil.example/a.pdf",
        "https://evilslack.com/a.pdf",
        "http://127.0.0.1:5001/a.pdf",
        "file:///etc/passwd",
    ):
        assert not slack_api.trusted_file_host(client, url), url


def test_fetching_nothing_asks_slack_nothing() -> None:
    client = WebClient(token="xoxb-1", base_url="http://127.0.0.1:9/api/")
    fetched = fetch(client, [], max_bytes=10, seconds=1)
    assert (fetched.documents, fetched.problems) == ([], [])
    refused = fetch(client, [FileRefValue("F1", "a.pdf", size=2_500_001)], max_bytes=2_500_000, seconds=1)
    assert [str(p) for p in refused.problems] == ["a.pdf: is larger than the 2.5 MB limit"]


def _receipt(tx: int = 7, documents: int = 0) -> Receipt:
    return Receipt(
        id=tx,
        status="posted",
        date=WHEN.date(),
        description="Snacks",
        vendor=None,
        total="USD 13.50",
        items=(),
        entries=(),
        created_by="U111",
        documents=tuple(
            DocumentInfo(
                tx, f"<scan>&{n:02d}.pdf" + "x" * 200, "application/pdf", 10**n, "0" * 64, "U111", WHEN
            )
            for n in range(documents)
        ),
    )


def test_views_and_messages_with_many_documents_are_valid_block_kit() -> None:
    receipt = _receipt(documents=40)
    audit = Audit(7, Status.POSTED, created_by="U111")
    for view in (build_result_view(receipt), attach_modal(7, channel=CHANNEL, ts="1.2")):
        View(**view).validate_json()
        for block in view["blocks"]:
            Block.parse(block).validate_json()  # type: ignore[union-attr]
    for text, blocks in (channel_message(receipt, audit), show_message(receipt, audit)):
        assert text
        assert len(blocks) <= 50
        for block in Block.parse_all(blocks):
            block.validate_json()
        dumped = json.dumps(blocks, ensure_ascii=False)
        assert "&lt;scan&gt;&amp;00.pdf" in dumped
        assert "…and 20 more" in dumped


def test_the_requester_is_told_when_the_form_is_gone(bot: Bot) -> None:
    """A late outcome whose modal was closed goes to the requester as a DM (answer_in_time)."""
    bot.fake.fail("views.update", "not_found", times=5)
    slow = bot.fake.add_file(PDF, "slow.pdf", stall=2.6)
    reply = _submit(bot, [slow])
    assert "Posting" in json.dumps(reply.json()["view"])
    until(lambda: any(c.params.get("channel") == "U111" for c in bot.fake.calls_to("chat.postMessage")))
