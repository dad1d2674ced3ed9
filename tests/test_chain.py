"""The hash chain: one chain under concurrent posters, every change linked, and tampering found."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, select, text

from db import chain
from db.documents import IncomingDocument, attach_documents
from db.lifecycle import approve, void
from db.models import ChainLink
from db.posting import Origin, post_purchase
from db.reports import verify
from db.session import make_session_factory
from tests.clock import CLOCK
from tests.helpers import make_purchase

PDF = b"%PDF-1.4\n% a receipt\n%%EOF\n"


def _links(engine: Engine) -> list[tuple[int, int, str, str]]:
    query = select(ChainLink.seq, ChainLink.transaction_id, ChainLink.content_hash, ChainLink.hash)
    with engine.connect() as conn:
        return [
            (r.seq, r.transaction_id, r.content_hash, r.hash)
            for r in conn.execute(query.order_by(ChainLink.seq))
        ]


def test_every_change_is_linked_and_verifies(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with factory.begin() as session:
        posted = post_purchase(session, make_purchase())
        waiting = post_purchase(session, make_purchase(description="Chairs"), Origin(user="U1"), pending=True)
    with factory.begin() as session:
        approve(session, waiting.id, by="U2", clock=CLOCK)
    with factory.begin() as session:
        reversal = void(session, posted.id, reason="typo", origin=Origin(user="U1"), clock=CLOCK)
    with factory.begin() as session:
        attach_documents(
            session, waiting.id, [IncomingDocument("r.pdf", PDF)], by="U1", clock=CLOCK, max_bytes=10**6
        )
    linked = [tx for _, tx, _, _ in _links(engine)]
    assert linked == [posted.id, waiting.id, waiting.id, posted.id, reversal.id, waiting.id]
    with factory.begin() as session:
        assert verify(session) == []
        head = chain.head(session)
        assert head is not None
        assert head.transaction_id == waiting.id
        assert chain.verify(session, expected_head=head.hash) == []
        with pytest.raises(chain.NotInChain, match="is not in the chain"):
            chain.verify(session, expected_head="0" * 64)


def test_eight_concurrent_posters_make_one_chain(pg_engine: Engine) -> None:
    factory = make_session_factory(pg_engine)

    def poster(n: int) -> list[int]:
        ids = []
        for i in range(10):
            with factory.begin() as session:
                ids.append(post_purchase(session, make_purchase(description=f"P{n}-{i}")).id)
        return ids

    with ThreadPoolExecutor(8) as pool:
        posted = [tx for ids in pool.map(poster, range(8)) for tx in ids]
    links = _links(pg_engine)
    assert sorted(tx for _, tx, _, _ in links) == sorted(posted)
    previous = ""
    for _, _, content_hash, stored in links:  # each link follows the one before: no fork
        assert stored == chain.next_hash(previous, content_hash)
        previous = stored
    with factory.begin() as session:
        assert verify(session) == []


def test_edits_made_with_the_triggers_off_are_found(pg_engine: Engine) -> None:
    factory = make_session_factory(pg_engine)
    with factory.begin() as session:
        ids = [post_purchase(session, make_purchase(description=f"Paper {i}")).id for i in range(4)]
    with factory.begin() as session:
        head = chain.head(session)
    assert head is not None
    with pg_engine.begin() as conn:  # a superuser's edit, with every trigger switched off
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(
            text("UPDATE transaction_headers SET description = 'Gold' WHERE id = :id"), {"id": ids[1]}
        )
        # An amount, still balanced: the item, the total and both sides of the journal.
        conn.execute(
            text("UPDATE transaction_headers SET total = total + 100 WHERE id = :id"), {"id": ids[2]}
        )
        conn.execute(
            text(
                "UPDATE transaction_details SET unit_price = unit_price + 50, subtotal = subtotal + 100 "
                "WHERE transaction_id = :id AND line = 2"
            ),
            {"id": ids[2]},
        )
        conn.execute(
            text("UPDATE journal_entries SET debit = debit + 100 WHERE transaction_id = :id AND debit > 0"),
            {"id": ids[2]},
        )
        conn.execute(
            text(
                "UPDATE journal_entries SET credit = credit + 100 WHERE transaction_id = :id AND credit > 0"
            ),
            {"id": ids[2]},
        )
    with factory.begin() as session:
        # (The maintained balances no longer match either; those are accounts' problems.)
        problems = [p for p in verify(session) if p.transaction_id is not None]
        assert [(p.transaction_id, "no longer match" in p.message) for p in problems] == [
            (ids[1], True),
            (ids[2], True),
        ]
        assert [tx for tx, _ in chain.verify(session, since=ids[2])] == [ids[2]]
        assert chain.verify(session, since=ids[3]) == []
        # Rewriting the chain to match hides the edit from verify, but not from the head kept outside.
        assert chain.verify(session, expected_head=head.hash) != []
