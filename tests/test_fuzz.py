"""Hostile input, fuzzed with hypothesis, over signed HTTP against the real app and a real PostgreSQL.

Slash-command text and view submissions (every field's value, and the payload's structure) must
never cause a 5xx, a late answer, a traceback shown to anyone, or a partial row; what the ledger
accepts is stored as typed. Plus malformed bodies, refused cleanly and without writing anything.
"""

import copy
import itertools
import json
import time
import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, selectinload

from db.models import TransactionHeader
from tests.helpers import ZERO_ROWS
from tests.slack import requests as slack
from tests.slack.harness import Bot
from tests.slack.hostile import (
    STATS,
    call_leaks,
    count,
    leaks,
    ledger_check,
    post_oversized,
    raw_post,
    strings,
)

pytestmark = pytest.mark.postgres

FUZZ = settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
    database=None,
)
ACK_SECONDS = 3.0
_view_ids = itertools.count(1)


@pytest.fixture(scope="module", autouse=True)
def _figures() -> Iterator[None]:
    yield
    print(f"\nhostile-input figures: {dict(STATS)}")


@pytest.fixture
def form(bot: Bot) -> dict[str, Any]:
    """A real modal the bot opened, with two item rows."""
    return bot.open_modal("Snacks: 3 Coffee @ 4.50; 1 Tea @ 2")[0]


def fresh_view_id() -> str:
    return f"VFUZZ{next(_view_ids):07d}"


def clean(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


# --- strategies ------------------------------------------------------------------------------

MARKUP = [
    "<!channel>",
    "<!here|here>",
    "<!everyone>",
    "<@U123>",
    "<#C123|general>",
    "<https://evil.example|click>",
    "*bold* _it_ ~s~ `code` ```block```",
    "&amp; &lt; &gt; & < >",
    ":skull: :face_with_symbols_on_mouth:",
]
SQL = [
    "'); DROP TABLE transaction_headers;--",
    "1; SELECT pg_sleep(10)--",
    "' OR '1'='1",
    '"; DELETE FROM journal_entries; --',
    "\\'; COMMIT; --",
]
WEIRD = [
    "",
    " ",
    "\t",
    "\n",
    "\r\n",
    "\x00",
    "a\x00b",
    "\x1b[31mred",
    "\u200b",
    "\ufeff",
    "\u202eevil",
    "e\u0301",
    "\ufb01",
    "Ａ",
    "%s %(x)s {0} {x} %n",
    "${jndi:ldap://x}",
    "../../etc/passwd",
    "null",
    "None",
    "true",
    "[]",
    "{}",
    "payload",
    "payload=%7B",
    "token=xoxb-1&payload={}",
    "help",
    "🙂" * 40,
    "\U0001f600",
    "x" * 101,
    "x" * 201,
    "x" * 5000,
]
NUMBERS = [
    "0",
    "-0",
    "-5",
    "+5",
    "1",
    "1.5",
    "1.005",
    "12.",
    ".5",
    "1,000.00",
    "1,00",
    "1_000",
    "0x10",
    "1e3",
    "1e999",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    " 12 ",
    "１２３",
    "٣",
    "²",
    "9" * 14,
    "9" * 400,
    "9999999999999.99",
    "10000000000000",
    "1000000",
    "1000001",
    "18446744073709551616",
]
DATES = [
    "2026-02-30",
    "2026-13-45",
    "0001-01-01",
    "9999-12-31",
    "1970-01-01",
    "2026-1-1",
    "20260101",
    "today",
]
CODES = ["1000", "1010", "1100", "6100", "9999", "", "1000 ", "abc", "<!channel>", "1" * 30]
ADVERSARIAL = MARKUP + SQL + WEIRD + NUMBERS + DATES + CODES
# Lone surrogates cannot be in a UTF-8 form body, but JSON can carry them escaped ("\ud800").
SURROGATES = ["\ud800", "lone \udfff surrogate", "\udbff\udfff"[::-1]]

storable_text = st.text(
    alphabet=st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=60
).filter(lambda s: bool(s.strip()))
numbers_as_text = st.one_of(
    st.integers().map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(repr),
    st.sampled_from(NUMBERS),
)
hostile = st.one_of(
    st.none(),
    st.sampled_from(SURROGATES),
    st.text(max_size=300),
    st.sampled_from(ADVERSARIAL),
    numbers_as_text,
    st.integers(1000, 120_000).map(lambda n: "y" * n),
    st.lists(st.sampled_from(MARKUP + SQL), min_size=1, max_size=4).map(" ".join),
)
PLAUSIBLE: dict[str, st.SearchStrategy[str | None]] = {
    "description": st.one_of(storable_text, st.sampled_from(MARKUP + SQL)),
    "date": st.dates().map(lambda d: d.isoformat()),
    "vendor": st.one_of(st.none(), storable_text, st.sampled_from(MARKUP + SQL)),
    "currency": st.sampled_from(["USD", "EUR", "JPY", "usd", "GBP"]),
    "payment_account": st.sampled_from(["1000", "1010"]),
    "name": st.one_of(storable_text, st.sampled_from(MARKUP + SQL)),
    "quantity": st.integers(1, 1000).map(str),
    "unit_price": st.integers(1, 10_000_000).map(str),
    "account": st.sampled_from(["1100", "6100"]),
    "documents": st.none(),  # the file input: no files
}


def _field(block_id: str) -> str:
    return block_id.split("_", 2)[2] if block_id.startswith("item_") else block_id


@st.composite
def typed_values(draw: st.DrawFn, block_ids: list[str]) -> dict[str, str | None]:
    """Every field of the form: all plausible but at most one, a third fuzzed, or everything fuzzed."""
    mode = draw(st.integers(0, 9))
    odd_one = draw(st.one_of(st.none(), st.sampled_from(block_ids)))
    typed: dict[str, str | None] = {}
    for block_id in block_ids:
        if mode < 5:
            fuzz = block_id == odd_one
        elif mode < 8:
            fuzz = draw(st.integers(0, 2)) == 0
        else:
            fuzz = True
        typed[block_id] = draw(hostile if fuzz else PLAUSIBLE[_field(block_id)])
    return typed


# --- checks ----------------------------------------------------------------------------------


def slack_limits(view: dict[str, Any]) -> list[str]:
    """The Block Kit limits Slack enforces on a view (it refuses the whole view otherwise)."""
    problems = []
    if len(view.get("title", {}).get("text", "")) > 24:
        problems.append("title over 24 characters")
    if len(view.get("blocks", [])) > 100:
        problems.append("over 100 blocks")
    if len(view.get("private_metadata", "")) > 3000:
        problems.append("private_metadata over 3000 characters")
    for block in view.get("blocks", []):
        if block.get("type") == "section":
            if len(block.get("text", {}).get("text", "")) > 3000:
                problems.append(f"section {block.get('block_id')} text over 3000 characters")
            fields = block.get("fields", [])
            if len(fields) > 10 or any(len(f["text"]) > 2000 for f in fields):
                problems.append(f"section {block.get('block_id')} fields over limits")
        element = block.get("element", {})
        limit = element.get("max_length")
        if limit is not None and len(element.get("initial_value", "")) > limit:
            problems.append(f"{block['block_id']} initial_value longer than its max_length")
    return problems


def check_reply(reply: slack.Reply, inputs: list[str]) -> Any:
    assert reply.status < 500, reply
    assert reply.seconds < ACK_SECONDS, f"answered after {reply.seconds:.2f}s"
    body = reply.body.decode()
    assert leaks(body, inputs) == [], body[:500]
    data = json.loads(body) if body else None
    for key in ("view",):
        if isinstance(data, dict) and isinstance(data.get(key), dict):
            assert slack_limits(data[key]) == [], data[key]
    return data


def check_slack_calls(bot: Bot, start: int, inputs: list[str]) -> None:
    calls = bot.fake.calls[start:]
    assert call_leaks(calls, inputs) == []
    for call in calls:
        if isinstance(call.params.get("view"), dict):
            assert slack_limits(call.params["view"]) == [], call.params["view"]


def stored(engine: Engine, view_id: str) -> TransactionHeader | None:
    with Session(engine) as session:
        return session.scalar(
            select(TransactionHeader)
            .options(selectinload(TransactionHeader.details))
            .where(TransactionHeader.idempotency_key == f"slack:T1:{view_id}")
        )


_rows_after: dict[int, dict[str, int]] = {}


def check_outcome(bot: Bot, view_id: str, data: Any, before: dict[str, int]) -> TransactionHeader | None:
    """What the reply says happened is what the database holds; nothing partial either way."""
    rows, problems = ledger_check(bot.engine)
    _rows_after[id(bot)] = rows
    assert problems == []
    header = stored(bot.engine, view_id)
    action = data.get("response_action") if isinstance(data, dict) else None
    if action == "errors":
        assert isinstance(data["errors"], dict)
        assert data["errors"]
        assert all(isinstance(m, str) and 0 < len(m) <= 300 for m in data["errors"].values())
        assert header is None
        assert rows == before
        STATS["rejected"] += 1
    elif header is not None:
        STATS["accepted"] += 1
    else:
        assert rows == before
    return header


# --- slash-command text ----------------------------------------------------------------------

quantity_text = st.one_of(
    st.just(""), st.integers(-5, 10**7).map(str), st.sampled_from(["1x ", "2 x ", "3×", "10 ", "0 "])
)
price_text = st.one_of(st.integers(0, 10**15).map(str), st.sampled_from(NUMBERS))


@st.composite
def item_entries(draw: st.DrawFn) -> str:
    name = draw(st.one_of(storable_text, st.sampled_from(ADVERSARIAL)))
    at = draw(st.sampled_from([" @ ", "@", " @", " at ", " @ @ "]))
    return f"{draw(quantity_text)} {name}{at}{draw(price_text)}"


@st.composite
def quick_entries(draw: st.DrawFn) -> str:
    description = draw(st.one_of(storable_text, st.sampled_from(ADVERSARIAL)))
    colon = draw(st.sampled_from([": ", ":", " : ", "", ":: "]))
    separator = draw(st.sampled_from([", ", "; ", ",", " , ", ";", " "]))
    items = draw(st.lists(item_entries(), max_size=20))
    tail = draw(
        st.sampled_from(
            ["", " from Bank", " from 1000", " from Cash", " from Nowhere", " from <!channel>", " FROM"]
        )
    )
    return f"{description}{colon}{separator.join(items)}{tail}"


ANSWERS = ("views.open", "response_url", "chat.postEphemeral")

command_texts = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(categories=("Cc", "Zs", "Zl", "Zp", "Cf")), max_size=50),
    quick_entries(),
    st.lists(st.sampled_from(ADVERSARIAL), min_size=1, max_size=6).map(" ".join),
    st.integers(1, 400).map(
        lambda n: "Bulk: " + ", ".join(f"{i + 1} Thing{i} @ 1.{i % 100:02d}" for i in range(n))
    ),
    st.integers(10_000, 150_000).map(lambda n: "Huge: 1 " + "z" * n + " @ 1"),
)


@settings(FUZZ, max_examples=400)
@given(text=command_texts)
def test_fuzzed_command_text(bot: Bot, text: str) -> None:
    start = len(bot.fake.calls)
    reply = count(bot.command(text))
    check_reply(reply, [text])
    assert reply.status == 200
    # Every command ends in a visible answer: the form, or an ephemeral message.
    deadline = time.monotonic() + 5
    while not any(c.method in ANSWERS for c in bot.fake.calls[start:]) and time.monotonic() < deadline:
        time.sleep(0.005)
    assert any(c.method in ANSWERS for c in bot.fake.calls[start:]), [
        c.method for c in bot.fake.calls[start:]
    ]
    check_slack_calls(bot, start, [text])
    # Commands never write: no rows at all means no partial rows.
    assert bot.rows() == ZERO_ROWS
    STATS["commands"] += 1


# --- view submissions: every field's value ---------------------------------------------------


def state_for(view: dict[str, Any], typed: dict[str, Any]) -> dict[str, Any]:
    """Slack's view state for `typed`; a select given a value it does not offer gets a forged option."""
    values = slack.state_of(view, typed)
    for block in view["blocks"]:
        block_id = block.get("block_id")
        if block.get("type") != "input" or block_id not in typed:
            continue
        state = values[block_id]["value"]
        if (
            state["type"] == "static_select"
            and typed[block_id] is not None
            and state["selected_option"] is None
        ):
            given = typed[block_id]
            state["selected_option"] = {"text": {"type": "plain_text", "text": given}, "value": given}
    return values


def input_blocks(view: dict[str, Any]) -> list[str]:
    return [b["block_id"] for b in view["blocks"] if b.get("type") == "input"]


def submit(bot: Bot, payload: dict[str, Any], inputs: list[str]) -> tuple[Any, TransactionHeader | None]:
    before = _rows_after.get(id(bot)) or bot.rows()
    start = len(bot.fake.calls)
    view_id = payload["view"].get("id") if isinstance(payload.get("view"), dict) else None
    data = check_reply(count(bot.interact(payload)), inputs)
    if isinstance(data, dict) and "Posting to the ledger" in json.dumps(data):
        bot.fake.wait_for("views.update", len(bot.fake.calls_to("views.update")) + 1)
    check_slack_calls(bot, start, inputs)
    header = check_outcome(bot, str(view_id), data, before)
    STATS["view submissions"] += 1
    return data, header


@settings(FUZZ, max_examples=400)
@given(data=st.data())
def test_fuzzed_field_values(bot: Bot, form: dict[str, Any], data: st.DataObject) -> None:
    view = form
    typed = data.draw(typed_values(input_blocks(view)), label="typed")
    view_id = fresh_view_id()
    payload = slack.view_submission(view, view_id)
    payload["view"]["state"]["values"] = state_for(view, typed)
    inputs = [v for v in typed.values() if v is not None]
    reply, header = submit(bot, payload, inputs)
    if header is None:
        return
    # Accepted: stored as typed, after NFC normalisation and trimming.
    assert reply["response_action"] == "update"
    assert f"#{header.id}" in json.dumps(reply["view"])
    assert header.description == clean(str(typed["description"]))
    vendor = typed["vendor"]
    assert header.vendor == (clean(vendor) or None if vendor is not None else None)
    assert [d.item for d in header.details] == [clean(str(typed[f"item_{r}_name"])) for r in (0, 1)]
    assert [d.quantity for d in header.details] == [
        int(str(typed[f"item_{r}_quantity"]).strip().replace(",", "")) for r in (0, 1)
    ]


# --- view submissions: the payload's structure -----------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(ADVERSARIAL),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
ELEMENT_TYPES = [
    "plain_text_input",
    "number_input",
    "static_select",
    "datepicker",
    "checkboxes",
    "radio_buttons",
    "users_select",
    "multi_static_select",
    "rich_text_input",
]
METADATA = [
    "",
    "not json",
    "null",
    "[]",
    "{}",
    '"rows"',
    '{"rows": "abc", "next": 1}',
    '{"rows": [1e400], "next": 1}',
    '{"rows": [Infinity], "next": 1}',
    '{"rows": [0], "next": NaN}',
    '{"rows": [0, 0, 0], "next": 1}',
    '{"rows": [-1, 99999999999999999999999], "next": -5}',
    '{"rows": [null], "next": 1}',
    '{"rows": [[0]], "next": {}}',
    '{"rows": [0, 1], "next": 2, "channel": {"a": 1}}',
    '{"rows": [0, 1], "next": 2, "channel": "' + "C" * 500 + '"}',
    '{"rows": [0, 1], "next": 2, "channel": "<!channel>"}',
    json.dumps({"rows": list(range(15)), "next": 15}),
    json.dumps({"rows": list(range(200)), "next": 200}),
    "x" * 10_000,
]


def _pick(draw: st.DrawFn, options: list[Any]) -> Any:
    return draw(st.sampled_from(options)) if options else None


@st.composite
def mutated_submissions(draw: st.DrawFn, view: dict[str, Any]) -> dict[str, Any]:
    """A submission of the real modal, then one to three structural mutations."""
    typed = draw(typed_values(input_blocks(view)))
    payload = slack.view_submission(view, fresh_view_id())
    payload["view"]["state"]["values"] = state_for(view, typed)
    for kind in draw(st.lists(st.integers(0, 11), min_size=1, max_size=3)):
        v = payload.get("view")
        found = v["state"].get("values") if isinstance(v, dict) and isinstance(v.get("state"), dict) else None
        values: dict[str, Any] = found if isinstance(found, dict) else {}
        blocks = sorted(values) if isinstance(found, dict) else []
        if kind == 0 and blocks:  # a missing block
            del values[_pick(draw, blocks)]
        elif kind == 1 and isinstance(found, dict):  # an unknown block ID
            values[draw(st.text(max_size=30))] = draw(json_values)
        elif kind == 2 and blocks:  # the wrong element type
            element = {"type": draw(st.sampled_from(ELEMENT_TYPES))}
            element.update(
                draw(
                    st.dictionaries(
                        st.sampled_from(
                            ["value", "selected_option", "selected_date", "selected_options", "selected_user"]
                        ),
                        json_values,
                        max_size=3,
                    )
                )
            )
            values[_pick(draw, blocks)] = {"value": element}
        elif kind == 3 and blocks:  # the wrong JSON type where a string belongs
            state = values[_pick(draw, blocks)]
            if isinstance(state, dict) and isinstance(state.get("value"), dict):
                key = draw(st.sampled_from(["value", "selected_option", "selected_date"]))
                state["value"][key] = draw(json_values)
        elif kind == 4 and blocks:  # an unknown action ID, or none
            block = _pick(draw, blocks)
            values[block] = draw(st.sampled_from([{}, {"other": values[block]}, draw(json_values)]))
        elif kind == 5 and isinstance(v, dict):  # garbage state
            target = draw(st.sampled_from(["state", "values"]))
            if target == "state" or not isinstance(v.get("state"), dict):
                v["state"] = draw(json_values)
            else:
                v["state"]["values"] = draw(json_values)
        elif kind == 6 and isinstance(v, dict):  # garbage private_metadata
            v["private_metadata"] = draw(
                st.one_of(st.sampled_from(METADATA), st.text(max_size=100), json_values)
            )
        elif kind == 7 and isinstance(v, dict):  # a view key missing or of the wrong type
            key = draw(
                st.sampled_from(
                    ["id", "hash", "blocks", "private_metadata", "state", "team_id", "callback_id"]
                )
            )
            if draw(st.booleans()):
                v.pop(key, None)
            else:
                v[key] = draw(json_values)
        elif kind == 8:  # user missing or malformed
            if draw(st.booleans()):
                payload.pop("user", None)
            elif isinstance(payload.get("user"), dict) and draw(st.booleans()):
                payload["user"]["id"] = draw(st.one_of(json_values, st.just("U" * 500)))
            else:
                payload["user"] = draw(json_values)
        elif kind == 9:  # team missing or malformed
            if draw(st.booleans()):
                payload.pop("team", None)
            elif isinstance(payload.get("team"), dict) and draw(st.booleans()):
                payload["team"]["id"] = draw(st.one_of(json_values, st.just("T" * 500)))
            else:
                payload["team"] = draw(json_values)
        elif kind == 10:  # the view itself missing or not an object
            payload["view"] = (
                draw(st.sampled_from([None, "view", [], 1]))
                if draw(st.booleans())
                else payload.pop("view", None)
            )
            if payload["view"] is None and draw(st.booleans()):
                del payload["view"]
        elif kind == 11 and isinstance(v, dict):  # garbage blocks, as the form is redrawn from them
            v["blocks"] = draw(st.lists(json_values, max_size=4))
    return payload


def _typed(payload: dict[str, Any], block_id: str) -> Any:
    try:
        return payload["view"]["state"]["values"][block_id]["value"]["value"]
    except (KeyError, TypeError):
        return None


@settings(FUZZ, max_examples=200)
@given(data=st.data())
def test_fuzzed_submission_structure(bot: Bot, form: dict[str, Any], data: st.DataObject) -> None:
    payload = data.draw(mutated_submissions(copy.deepcopy(form)), label="payload")
    inputs = list(strings(payload))
    _, header = submit(bot, payload, inputs)
    if header is not None:
        description = _typed(payload, "description")
        assert isinstance(description, str)
        assert header.description == clean(description)


def test_garbage_private_metadata_is_survived(bot: Bot, form: dict[str, Any]) -> None:
    for metadata in METADATA:
        payload = slack.view_submission(form, fresh_view_id())
        payload["view"]["private_metadata"] = metadata
        for action in ("add_item", "remove_item"):
            block = slack.block_action(payload["view"], payload["view"]["id"], action, "0")
            block["view"]["private_metadata"] = metadata
            check_reply(count(bot.interact(block)), [metadata])
        submit(bot, payload, [metadata])


def test_longest_receipt_stays_within_block_kit_limits(bot: Bot) -> None:
    """Fifteen items named with characters that escaping lengthens: the receipt still fits Slack."""
    view, view_id = bot.open_modal()
    view["private_metadata"] = json.dumps({"rows": list(range(15)), "next": 15})
    typed: dict[str, Any] = {"description": "&" * 200, "vendor": "<" * 100}
    for row in range(15):
        typed |= {
            f"item_{row}_name": "&<>" * 33 + "&",
            f"item_{row}_quantity": "1",
            f"item_{row}_unit_price": "1",
        }
    payload = slack.view_submission(view, view_id)
    values = payload["view"]["state"]["values"]
    for block_id, value in typed.items():
        values[block_id] = {"value": {"type": "plain_text_input", "value": value}}
    values.update({f"item_{r}_account": values["item_0_account"] for r in range(15)})
    reply, header = submit(bot, payload, list(typed.values()))
    assert header is not None, reply
    assert [d.item for d in header.details] == ["&<>" * 33 + "&"] * 15
    assert slack_limits(reply["view"]) == []
    note = bot.fake.wait_for("chat.postMessage")[0].params
    assert slack_limits({"blocks": note["blocks"]}) == []


# --- malformed bodies ------------------------------------------------------------------------

REFUSED = [
    ("payload=%7Bnot-json", "application/x-www-form-urlencoded", 400),
    ("payload=%5B1%2C2%5D", "application/x-www-form-urlencoded", 400),
    ("payload=null", "application/x-www-form-urlencoded", 400),
    ("payload=%22text%22", "application/x-www-form-urlencoded", 400),
    ('payload={"type":"view_submission","user":"U1","view":{}}', "application/x-www-form-urlencoded", 400),
    ('payload={"type":"view_submission","user":{"id":"U1"}}', "application/x-www-form-urlencoded", 400),
    ("{not json", "application/x-www-form-urlencoded", 400),
    ("{not json", "application/json", 400),
    ("[1, 2]", "application/json", 400),
    ("42", "application/json", 400),
    ("payload={}", "text/plain", 415),
    ("payload={}", "multipart/form-data; boundary=x", 415),
    ("{}", "application/xml", 415),
]


def test_malformed_bodies_are_refused_cleanly(bot: Bot) -> None:
    for body, content_type, status in REFUSED:
        reply = raw_post(bot.events, body.encode(), content_type=content_type)
        assert reply.status == status, (body, content_type, reply)
        assert leaks(reply.body.decode()) == []
        assert json.loads(reply.body)["ok"] is False
    assert bot.rows() == ZERO_ROWS
    assert [c.method for c in bot.fake.calls if c.method != "auth.test"] == []


def test_oversized_empty_and_undecodable_bodies(bot: Bot) -> None:
    big = b"payload=" + b"x" * (1024 * 1024)
    assert post_oversized(bot.events, big) == 413
    assert post_oversized(bot.events, big, signed=False) == 413
    empty = raw_post(bot.events, b"")
    assert 400 <= empty.status < 500
    assert raw_post(bot.events, b"", signed=False).status == 401
    for undecodable in (b"payload=\xff\xfe", b"\xc3\x28text=x", "text=caf\u00e9".encode("latin-1")):
        reply = raw_post(bot.events, undecodable)
        assert reply.status == 400, (undecodable, reply)
        assert leaks(reply.body.decode()) == []
    unsigned = raw_post(
        bot.events,
        b'{"type": "url_verification", "challenge": "c"}',
        content_type="application/json",
        signed=False,
    )
    assert unsigned.status == 401
    assert b"challenge" not in unsigned.body or b'"c"' not in unsigned.body
    assert bot.rows() == ZERO_ROWS
    assert [c.method for c in bot.fake.calls if c.method != "auth.test"] == []
