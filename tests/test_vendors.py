"""Vendors: one per name ignoring case and repeated spaces; renamed and merged, every view shows the
current name; the database lets a header's vendor change only by a merge; the migration that made
them from free text. On PostgreSQL and SQLite."""

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from db.errors import InvalidPurchase, LedgerError, NotFound
from db.export import export_beancount, export_csv
from db.lifecycle import void
from db.migrate import upgrade
from db.models import TransactionHeader, Vendor
from db.posting import Origin, post_purchase
from db.queries import Filter, list_purchases
from db.reports import get_transaction, verify
from db.schemas import parse_purchase
from db.session import make_engine, make_session_factory
from db.vendors import (
    MAX_NAME,
    find_or_create,
    find_vendor,
    list_vendors,
    merge_vendors,
    rename_vendor,
    search_vendors,
    vendor_key,
)
from handlers.receipt import Receipt
from tests.clock import BOOKS_DAY, CLOCK
from tests.helpers import make_purchase, post, purchase_data
from tests.test_migrations import downgrade


def vendor_of(factory: sessionmaker[Session], tx: int) -> str | None:
    with factory.begin() as session:
        return get_transaction(session, tx).vendor


@pytest.mark.parametrize(
    ("name", "key"),
    [("Dell", "dell"), ("DELL  inc ", "dell inc"), ("  dell\tInc", "dell inc"), ("Straße", "strasse")],
)
def test_vendor_key_ignores_case_and_repeated_spaces(name: str, key: str) -> None:
    assert vendor_key(name) == key


def test_variants_are_one_vendor_named_as_first_typed(factory: sessionmaker[Session]) -> None:
    first = post(factory, make_purchase(vendor="Dell Inc")).id
    second = post(factory, make_purchase(vendor="DELL   inc")).id
    third = post(factory, make_purchase(vendor="  dell inc  ")).id
    assert [vendor_of(factory, tx) for tx in (first, second, third)] == ["Dell Inc"] * 3
    with factory.begin() as session:
        rows = {v.name: v.purchases for v in list_vendors(session)}
        assert rows["Dell Inc"] == 3
        assert find_or_create(session, "dell INC").name == "Dell Inc"


def test_no_vendor_stays_none(factory: sessionmaker[Session]) -> None:
    tx = post(factory, make_purchase(vendor=None)).id
    assert vendor_of(factory, tx) is None
    tx = post(factory, make_purchase(vendor="")).id
    assert vendor_of(factory, tx) is None


@pytest.mark.parametrize(
    ("vendor", "message"),
    [
        ("v" * (MAX_NAME + 1), "is too long; at most 200 characters"),
        ("   ", "must not be only spaces; leave it empty for no vendor"),
        ("Dell\tInc", "must not contain control characters such as line breaks or tabs"),
    ],
    ids=["201-chars", "only-spaces", "tab"],
)
def test_a_bad_vendor_name_is_a_field_error(vendor: str, message: str) -> None:
    with pytest.raises(InvalidPurchase) as caught:
        parse_purchase(purchase_data(vendor=vendor), today=BOOKS_DAY)
    assert [(e.loc, e.message) for e in caught.value.errors] == [(("vendor",), message)]


def test_a_200_character_vendor_is_stored(factory: sessionmaker[Session]) -> None:
    name = "Ü" * 200
    tx = post(factory, make_purchase(vendor=name)).id
    assert vendor_of(factory, tx) == name


def test_rename_shows_everywhere(factory: sessionmaker[Session]) -> None:
    tx = post(factory, make_purchase(vendor="Dell", description="Monitors")).id
    with factory.begin() as session:
        renamed = rename_vendor(session, "DELL", "Dell Technologies")
        assert renamed.name == "Dell Technologies"
    with factory.begin() as session:
        header = get_transaction(session, tx)
        assert header.vendor == "Dell Technologies"
        assert Receipt.of(header).vendor == "Dell Technologies"
        (summary,) = [r for r in list_purchases(session, Filter(), limit=1000).rows if r.id == tx]
        assert summary.vendor == "Dell Technologies"
        out = io.StringIO()
        export_csv(session, out)
        assert {
            r["vendor"] for r in csv.DictReader(io.StringIO(out.getvalue())) if r["transaction_id"] == str(tx)
        } == {"Dell Technologies"}
        ledger = io.StringIO()
        export_beancount(session, ledger)
        assert '* "Dell Technologies" "Monitors"' in ledger.getvalue()
        # The old name is free again; a change of case only is a rename too.
        assert find_vendor(session, "dell") is None
        assert rename_vendor(session, "dell technologies", "DELL Technologies").name == "DELL Technologies"


def test_rename_to_another_vendors_name_is_refused(factory: sessionmaker[Session]) -> None:
    post(factory, make_purchase(vendor="Dell"))
    post(factory, make_purchase(vendor="HP"))
    with factory.begin() as session:
        with pytest.raises(LedgerError, match="There is already a vendor 'HP'; merge the two instead"):
            rename_vendor(session, "Dell", "hp")
        with pytest.raises(NotFound, match="There is no vendor 'Lenovo'"):
            rename_vendor(session, "Lenovo", "X")
        with pytest.raises(LedgerError, match="must not be empty"):
            rename_vendor(session, "Dell", "   ")
        with pytest.raises(LedgerError, match="at most 200 characters"):
            rename_vendor(session, "Dell", "x" * 201)


def test_merge_points_history_at_the_other_and_changes_nothing_posted(factory: sessionmaker[Session]) -> None:
    dell = post(factory, make_purchase(vendor="Dell")).id
    inc = post(factory, make_purchase(vendor="Dell Inc.")).id
    with factory.begin() as session:
        voided = post_purchase(session, make_purchase(vendor="Dell Inc."), Origin()).id
        reversal = void(session, voided, reason="typo", origin=Origin(user="U2"), clock=CLOCK).id
    columns = [c.name for c in TransactionHeader.__table__.columns if c.name != "vendor_id"]

    def snapshot() -> list[object]:
        with factory.begin() as session:
            return list(
                session.execute(
                    select(*[TransactionHeader.__table__.c[c] for c in columns]).order_by(
                        TransactionHeader.id
                    )
                )
            )

    before = snapshot()
    with factory.begin() as session:
        assert merge_vendors(session, "dell inc.", "DELL").name == "Dell"
    assert snapshot() == before
    assert {vendor_of(factory, tx) for tx in (dell, inc, voided, reversal)} == {"Dell"}
    with factory.begin() as session:
        names = {v.name: v.purchases for v in list_vendors(session)}
        assert names["Dell"] == 3  # the reversal of a void is not a purchase
        assert "Dell Inc." not in names
        # The merged name finds the vendor it became, for the next purchase too.
        assert find_or_create(session, "DELL INC.").name == "Dell"
        assert [v.name for v in search_vendors(session, "dell")] == ["Dell"]
        assert verify(session) == []
        with pytest.raises(LedgerError, match="are the same vendor"):
            merge_vendors(session, "Dell Inc.", "dell")
    later = post(factory, make_purchase(vendor="dell inc.")).id
    assert vendor_of(factory, later) == "Dell"


def test_merges_chain_and_a_merged_name_can_be_taken_back(factory: sessionmaker[Session]) -> None:
    a = post(factory, make_purchase(vendor="Alpha")).id
    post(factory, make_purchase(vendor="Beta"))
    post(factory, make_purchase(vendor="Gamma"))
    with factory.begin() as session:
        merge_vendors(session, "Alpha", "Beta")
        merge_vendors(session, "Beta", "Gamma")
        assert find_vendor(session, "alpha") is not None
        assert find_or_create(session, "alpha").name == "Gamma"
        # Gamma takes the name Alpha it absorbed.
        assert rename_vendor(session, "Gamma", "ALPHA").name == "ALPHA"
        assert {v.name: v.purchases for v in list_vendors(session)}.get("ALPHA") == 3
    assert vendor_of(factory, a) == "ALPHA"


def test_search_finds_any_word_prefix_ignoring_case(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        for name in ("Office World", "World Office Supplies", "Dell", "100% Paper_Co", "Worldwide"):
            find_or_create(session, name)
        assert [v.name for v in search_vendors(session, "WORLD")] == [
            "World Office Supplies",
            "Worldwide",
            "Office World",
        ]
        assert [v.name for v in search_vendors(session, "sup")] == ["World Office Supplies"]
        assert [v.name for v in search_vendors(session, "100%")] == ["100% Paper_Co"]
        assert search_vendors(session, "_") == []
        assert search_vendors(session, "%") == []
        assert len(search_vendors(session, "", limit=2)) == 2


# --- The database guards a header's vendor link ------------------------------------------------


def test_a_headers_vendor_cannot_be_changed_with_sql(engine: Engine) -> None:
    factory = make_session_factory(engine)
    tx = post(factory, make_purchase(vendor="Dell")).id
    none = post(factory, make_purchase(vendor=None)).id
    post(factory, make_purchase(vendor="HP"))
    with factory.begin() as session:
        hp = session.scalars(select(Vendor.id).where(Vendor.key == "hp")).one()
    for target, value in ((tx, hp), (tx, None), (none, hp)):
        with (
            pytest.raises(DBAPIError, match="changes only when its vendor is merged into another"),
            engine.begin() as c,
        ):
            c.execute(
                text("UPDATE transaction_headers SET vendor_id = :v WHERE id = :tx"),
                {"v": value, "tx": target},
            )
    assert vendor_of(factory, tx) == "Dell"
    with factory.begin() as session:
        merge_vendors(session, "Dell", "HP")
    assert vendor_of(factory, tx) == "HP"
    with (
        pytest.raises(DBAPIError, match="cannot be edited"),
        engine.begin() as c,
    ):
        c.execute(text("UPDATE transaction_headers SET description = 'x' WHERE id = :tx"), {"tx": tx})


# --- The migration from free text ---------------------------------------------------------------

HEADER_0003 = (
    "INSERT INTO transaction_headers (effective_date, description, vendor, currency, exponent, total, "
    "payment_account_id, status, source) VALUES ('2026-11-20', :d, :v, 'USD', 2, 100, "
    "(SELECT id FROM accounts WHERE code = '1000'), 'pending', 'raw') RETURNING id"
)
DETAIL_0003 = (
    "INSERT INTO transaction_details (transaction_id, line, item, quantity, unit_price, subtotal, account_id) "
    "VALUES (:tx, 1, 'Thing', 1, 100, 100, (SELECT id FROM accounts WHERE code = '6100'))"
)


def _migrate_free_text_vendors(engine: Engine) -> None:
    upgrade(engine, "0003")
    with make_session_factory(engine).begin() as session:
        from db.accounts import seed_default_chart

        seed_default_chart(session)
    ids: dict[str, int] = {}
    with engine.begin() as conn:
        for label, vendor in [
            ("first", "Dell"),
            ("lower", "dell "),
            ("upper", "DELL  "),
            ("other", "Acme  Corp"),
            ("other2", "acme corp"),
            ("none", None),
        ]:
            ids[label] = conn.scalar(text(HEADER_0003), {"d": label, "v": vendor})
            conn.execute(text(DETAIL_0003), {"tx": ids[label]})
    upgrade(engine)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        vendors = session.scalars(select(Vendor).order_by(Vendor.id)).all()
        assert [(v.name, v.key, v.merged_into_id) for v in vendors] == [
            ("Dell", "dell", None),
            ("Acme Corp", "acme corp", None),
        ]
        assert {label: get_transaction(session, tx).vendor for label, tx in ids.items()} == {
            "first": "Dell",
            "lower": "Dell",
            "upper": "Dell",
            "other": "Acme Corp",
            "other2": "Acme Corp",
            "none": None,
        }
        assert {v.name: v.purchases for v in list_vendors(session)} == {"Acme Corp": 2, "Dell": 3}
        assert verify(session) == []
    # The free text is the vendor's name again after a downgrade (the current one, after a rename).
    with factory.begin() as session:
        rename_vendor(session, "dell", "Dell Inc")
    downgrade(engine, "0003")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT description, vendor FROM transaction_headers"))
        assert {d: v for d, v in rows} == {
            "first": "Dell Inc",
            "lower": "Dell Inc",
            "upper": "Dell Inc",
            "other": "Acme Corp",
            "other2": "Acme Corp",
            "none": None,
        }
    with pytest.raises(DBAPIError, match="cannot be edited"), engine.begin() as conn:
        conn.execute(text("UPDATE transaction_headers SET vendor = 'x'"))
    upgrade(engine)


def test_migration_merges_free_text_vendors_on_postgresql(pg_empty_url: URL) -> None:
    engine = make_engine(pg_empty_url)
    try:
        _migrate_free_text_vendors(engine)
    finally:
        engine.dispose()


def test_migration_merges_free_text_vendors_on_sqlite(tmp_path: Path) -> None:
    engine = make_engine(make_url(f"sqlite:///{tmp_path / 'old.sqlite3'}"))
    try:
        _migrate_free_text_vendors(engine)
    finally:
        engine.dispose()
