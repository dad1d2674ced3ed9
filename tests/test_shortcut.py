"""The message shortcut "Record as purchase" over signed HTTP: the real Bolt app, PostgreSQL, the fake
Slack Web API. The form opens filled in from the message: parsed when the text is a quick entry, else
with the text as the description; the message's files listed and carried to the submission, with a
link to the message."""

import json
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import TransactionDocument, TransactionHeader
from handlers.blocks.purchase_form import ModalMeta, SlackFile
from handlers.blocks.purchase_input import read_form
from handlers.listeners.shortcut import CALLBACK_ID
from tests.samples import pdf, png
from tests.slack import requests as slack
from tests.slack.harness import Bot
from tests.test_manifest import ROOT

pytestmark = pytest.mark.postgres

LINK = "https://acme.slack.com/archives/C123/p1700000000000300"


def blocks_of(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if "block_id" in b}


def shortcut(bot: Bot, text: str | None, **kwargs: Any) -> dict[str, Any]:
    """Choose "Record as purchase" on a message; the form the bot opened."""
    before = len(bot.fake.calls_to("views.open"))
    payload = slack.message_shortcut(text, response_url=bot.fake.response_url, **kwargs)
    reply = bot.interact(payload)
    assert reply.status == 200, reply.body
    assert reply.seconds < 3
    call = bot.fake.wait_for("views.open", before + 1)[-1]
    assert call.params["trigger_id"] == payload["trigger_id"]
    view: dict[str, Any] = call.params["view"]
    return view


def test_the_shortcut_is_declared_in_the_manifest() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    declared = [s for s in manifest["features"]["shortcuts"] if s["callback_id"] == CALLBACK_ID]
    assert declared == [
        {
            "name": "Record as purchase",
            "type": "message",
            "callback_id": CALLBACK_ID,
            "description": declared[0]["description"],
        }
    ]


def test_a_quick_entry_message_opens_the_form_filled_in(bot: Bot) -> None:
    files = [slack.slack_file("F0A1", "a.pdf"), slack.slack_file("F0B2", "b.png", mimetype="image/png")]
    view = shortcut(bot, "<@U222> Snacks: 3 Coffee @ 4.50, 1 Tea @ 2 at Dell from Bank", files=files)
    assert view["callback_id"] == "purchase_modal"
    blocks = blocks_of(view)
    assert blocks["description"]["element"]["initial_value"] == "@U222 Snacks"
    assert blocks["vendor"]["element"]["initial_option"]["value"] == "Dell"
    assert blocks["payment_account"]["element"]["initial_option"]["value"] == "1010"
    assert blocks["item_0_name"]["element"]["initial_value"] == "Coffee"
    assert blocks["item_1_unit_price"]["element"]["initial_value"] == "2"
    assert "notice" not in blocks
    listed = blocks["message_files"]["elements"][0]["text"]
    assert "Files from the message: a.pdf, b.png — they will be attached" in listed
    assert f"<{LINK}|a message>" in listed
    assert blocks["documents"]["element"]["max_files"] == 8

    meta = ModalMeta.load(view["private_metadata"])
    assert (meta.channel, meta.message_link, meta.rows) == ("C123", LINK, [0, 1])
    assert meta.message_files == [SlackFile("F0A1", "a.pdf"), SlackFile("F0B2", "b.png")]
    # Submitted, the message's files come back as the form's files, after any uploaded into it.
    uploaded = slack.slack_file("F0C3", "c.jpg", mimetype="image/jpeg")
    values, _ = read_form({**view, "state": {"values": slack.state_of(view, {"documents": [uploaded]})}})
    assert [f.id for f in values.files] == ["F0C3", "F0A1", "F0B2"]
    assert values.files[0].url == uploaded["url_private_download"]
    assert values.files[1].url is None  # known by ID only: the fetcher asks files.info
    assert values.vendor == "Dell"


def test_text_it_cannot_read_is_the_description(bot: Bot) -> None:
    text = (
        "bought 2 monitors from <https://dell.com|Dell> for 900 &amp; a cable, thanks <@U1|ann>! " + "x" * 300
    )
    view = shortcut(bot, text)
    blocks = blocks_of(view)
    description = blocks["description"]["element"]["initial_value"]
    assert description.startswith("bought 2 monitors from Dell for 900 & a cable, thanks @ann! xxx")
    assert len(description) == 200
    assert "could not be read as a purchase" in blocks["notice"]["elements"][0]["text"]
    assert "initial_value" not in blocks["item_0_name"]["element"]
    assert "message_files" in blocks  # the link to the message
    assert "Files from the message" not in json.dumps(blocks["message_files"])
    assert ModalMeta.load(view["private_metadata"]).message_files == []


def test_the_submitted_form_records_the_purchase_in_the_messages_channel(bot: Bot) -> None:
    view = shortcut(bot, "Snacks: 3 Coffee @ 4.50", channel="C0SHORT", thread_ts="1699999999.000100")
    meta = ModalMeta.load(view["private_metadata"])
    assert meta.message_link == (
        "https://acme.slack.com/archives/C0SHORT/p1700000000000300?thread_ts=1699999999.000100&cid=C0SHORT"
    )
    reply = bot.submit(view, "VSHORTCUT1")
    assert reply.json()["response_action"] == "update", reply.json()
    assert bot.rows()["transaction_headers"] == 1
    # The link to the message is kept with the purchase, and `/purchase show` offers it.
    with Session(bot.engine) as session:
        header = session.scalars(select(TransactionHeader)).one()
        assert (header.channel_id, header.source_link) == ("C0SHORT", meta.message_link)
    bot.command(f"show {header.id}")
    shown = json.dumps(bot.fake.wait_for("response_url")[-1].params["blocks"])
    assert f"<{meta.message_link}|a message>" in shown.replace("\\u0026", "&")


def test_a_message_with_only_files_and_files_that_cannot_be_fetched(bot: Bot) -> None:
    files = [
        slack.slack_file("F0OK", "receipt.pdf"),
        {"id": "F0GONE", "mode": "tombstone"},
        {**slack.slack_file("F0HID", "old.pdf"), "mode": "hidden_by_limit"},
        {**slack.slack_file("F0EXT", "drive.pdf"), "is_external": True},
        slack.slack_file("F0OK", "receipt.pdf"),  # the same file twice
    ]
    view = shortcut(bot, None, files=files)
    blocks = blocks_of(view)
    assert "initial_value" not in blocks["description"]["element"]
    assert "3 of the message's files cannot be attached" in blocks["notice"]["elements"][0]["text"]
    assert ModalMeta.load(view["private_metadata"]).message_files == [SlackFile("F0OK", "receipt.pdf")]
    assert "receipt.pdf — they will be attached" in blocks["message_files"]["elements"][0]["text"]


def test_eleven_files_offer_the_first_ten() -> None:
    from handlers.listeners.shortcut import message_files

    files, others = message_files({"files": [slack.slack_file(f"F{n:04d}", f"{n}.pdf") for n in range(11)]})
    assert [f.id for f in files] == [f"F{n:04d}" for n in range(10)]
    assert others == 1


@pytest.mark.bot_settings(purchase_allowed_users="U111")
def test_only_who_may_record_can_use_the_shortcut(bot: Bot) -> None:
    payload = slack.message_shortcut(
        "Snacks: 3 Coffee @ 4.50", user="U999", response_url=bot.fake.response_url
    )
    assert bot.interact(payload).status == 200
    told = bot.fake.wait_for("response_url")[0].params
    assert "not allowed to record purchases" in told["text"]
    assert told["response_type"] == "ephemeral"
    assert bot.fake.calls_to("views.open") == []
    assert shortcut(bot, "Snacks: 3 Coffee @ 4.50")["callback_id"] == "purchase_modal"


def test_a_form_that_cannot_open_is_explained(bot: Bot) -> None:
    bot.fake.fail("views.open", "expired_trigger_id")
    payload = slack.message_shortcut("Snacks: 3 Coffee @ 4.50", response_url=bot.fake.response_url)
    assert bot.interact(payload).status == 200
    told = bot.fake.wait_for("response_url")[0].params
    assert "expired_trigger_id" in told["text"]


def test_the_messages_files_are_stored_with_the_purchase(bot: Bot) -> None:
    """The files of the message are fetched at submission (files.info, then the download) and kept
    with the purchase, with any added in the form."""
    from_message = bot.fake.add_file(pdf("from the message"), "invoice.pdf")
    view = shortcut(bot, "Snacks: 3 Coffee @ 4.50", files=[from_message])
    added = bot.fake.add_file(png(3), "photo.png", "image/png")
    reply = bot.submit(view, "VSHORTCUT2", {"documents": [added]})
    assert reply.json()["response_action"] == "update", reply.json()
    with Session(bot.engine) as session:
        header = session.scalars(select(TransactionHeader)).one()
        names = sorted(session.scalars(select(TransactionDocument.name)))
        assert header.source_link is not None
    assert names == ["invoice.pdf", "photo.png"]
    assert bot.fake.calls_to("files.info")
