"""The receipt made from what a posting wrote equals the one read back from the database."""

from sqlalchemy.orm import Session, sessionmaker

from db.posting import post_purchase
from db.reports import get_transaction
from handlers.receipt import Receipt
from tests.helpers import item, make_purchase


def test_receipt_from_the_written_rows_equals_the_stored_one(factory: sessionmaker[Session]) -> None:
    purchase = make_purchase(
        items=[
            item("Desk", 2, "199.99", "1500"),
            item("Paper", 3, "4.50", "6100"),
            item("Pens", 1, "2.25", "6100"),
        ]
    )
    with factory.begin() as session:
        posted = post_purchase(session, purchase)
        assert posted.written is not None
        fresh = Receipt.of_written(posted.written)
        session.expire_all()
        stored = Receipt.of(get_transaction(session, posted.id))
    assert fresh == stored
    assert [e.account for e in fresh.entries] == ["1500 Equipment", "6100 Office Supplies", "1000 Cash"]
    assert fresh.total == "USD 415.73"
