"""After recording: void by reversal (once), and approval or rejection of pending purchases (once)."""

import datetime as dt

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from db.errors import AlreadyDecided, LedgerError, NotFound
from db.lifecycle import approve, reject, void
from db.models import Status
from db.posting import Origin
from db.reports import count_rows, get_transaction, trial_balance, verify
from db.session import make_session_factory
from tests.clock import CLOCK
from tests.helpers import in_session, item, make_purchase, post

ALICE = Origin(source="slack", user="U0ALICE")
BOB = Origin(source="slack", user="U0BOB")


def _entries(factory: sessionmaker[Session], tx: int) -> list[tuple[str, int, int]]:
    with factory.begin() as session:
        return sorted((e.account.code, e.debit, e.credit) for e in get_transaction(session, tx).entries)


# --- Void ---------------------------------------------------------------------------------------


def test_void_posts_the_reversal_and_marks_the_original(factory: sessionmaker[Session]) -> None:
    purchase = make_purchase(items=[item("Desk", 1, "350.00", "1500"), item("Paper", 2, "5.00", "6100")])
    original = post(factory, purchase, ALICE).id
    with factory.begin() as session:
        before = count_rows(session)
        reversal = void(session, original, reason="  Entered   twice ", origin=BOB, clock=CLOCK)
    assert reversal.status is Status.POSTED
    assert reversal.id != original

    with factory.begin() as session:
        header = get_transaction(session, original)
        assert header.status is Status.VOIDED
        assert header.voided_by == "U0BOB"
        assert header.void_reason == "Entered twice"
        assert header.voided_at is not None
        # The original's own rows are untouched.
        assert len(header.details) == 2
        assert len(header.entries) == 3

        rev = get_transaction(session, reversal.id)
        assert rev.reverses_id == original
        assert rev.status is Status.POSTED
        assert rev.total == header.total
        assert rev.currency == header.currency
        assert rev.description == f"Void of transaction {original}: Entered twice"
        assert (rev.source, rev.created_by) == ("slack", "U0BOB")
        assert rev.details == []
        assert count_rows(session) == {
            "transaction_headers": before["transaction_headers"] + 1,
            "transaction_details": before["transaction_details"],
            "journal_entries": before["journal_entries"] + 3,
        }
    # Debits and credits swapped, account by account.
    assert _entries(factory, reversal.id) == [("1000", 36000, 0), ("1500", 0, 35000), ("6100", 0, 1000)]
    assert _entries(factory, original) == [("1000", 0, 36000), ("1500", 35000, 0), ("6100", 1000, 0)]

    with factory.begin() as session:
        # Every account is back where it was; the books still verify.
        assert all(row.balance == 0 for row in trial_balance(session).rows)
        assert trial_balance(session).balanced
        assert verify(session) == []


def test_second_void_is_refused_naming_who_when_and_why(factory: sessionmaker[Session]) -> None:
    original = post(factory, make_purchase()).id
    with factory.begin() as session:
        void(session, original, reason="duplicate", origin=BOB, clock=CLOCK)
    with factory.begin() as session:
        rows = count_rows(session)
        voided_at = get_transaction(session, original).voided_at
    assert voided_at is not None
    with pytest.raises(AlreadyDecided) as info, factory.begin() as session:
        void(session, original, reason="again", origin=ALICE, clock=CLOCK)
    assert str(info.value) == (
        f"Transaction {original} was already voided by U0BOB on {voided_at:%Y-%m-%d %H:%M} UTC: duplicate"
    )
    assert abs(voided_at.replace(tzinfo=None) - CLOCK.now().replace(tzinfo=None)) < dt.timedelta(minutes=5)
    with factory.begin() as session:
        assert count_rows(session) == rows


def test_void_without_a_user_records_the_source(factory: sessionmaker[Session]) -> None:
    original = post(factory, make_purchase()).id
    with factory.begin() as session:
        void(session, original, reason="test", origin=Origin(source="cli"), clock=CLOCK)
    with factory.begin() as session:
        assert get_transaction(session, original).voided_by == "cli"


def test_a_reversal_cannot_itself_be_voided(factory: sessionmaker[Session]) -> None:
    original = post(factory, make_purchase()).id
    with factory.begin() as session:
        reversal = void(session, original, reason="wrong", origin=BOB, clock=CLOCK).id
    with pytest.raises(LedgerError, match=f"Transaction {reversal} is itself the void of {original}"):
        in_session(factory, lambda session: void(session, reversal, reason="undo", origin=BOB, clock=CLOCK))


def test_pending_cannot_be_voided(factory: sessionmaker[Session]) -> None:
    pending = post(factory, make_purchase(), ALICE, pending=True).id
    with pytest.raises(LedgerError) as info, factory.begin() as session:
        void(session, pending, reason="no", origin=BOB, clock=CLOCK)
    assert (
        str(info.value) == f"Transaction {pending} is waiting for approval; reject it instead of voiding it"
    )
    with factory.begin() as session:
        assert get_transaction(session, pending).status is Status.PENDING


def test_rejected_cannot_be_voided(factory: sessionmaker[Session]) -> None:
    pending = post(factory, make_purchase(), ALICE, pending=True).id
    with factory.begin() as session:
        reject(session, pending, by="U0BOB", reason="too expensive", clock=CLOCK)
    with pytest.raises(LedgerError, match="was rejected and never posted; there is nothing to void"):
        in_session(factory, lambda session: void(session, pending, reason="no", origin=BOB, clock=CLOCK))


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "Say why the transaction is voided"),
        ("  \n ", "Say why the transaction is voided"),
        ("x" * 501, "The reason is too long; at most 500 characters"),
    ],
    ids=["empty", "blank", "too-long"],
)
def test_void_needs_a_reason(factory: sessionmaker[Session], reason: str, message: str) -> None:
    original = post(factory, make_purchase()).id
    with pytest.raises(LedgerError) as info, factory.begin() as session:
        void(session, original, reason=reason, origin=BOB, clock=CLOCK)
    assert str(info.value) == message
    with factory.begin() as session:
        assert get_transaction(session, original).status is Status.POSTED


def test_void_of_unknown_transaction(factory: sessionmaker[Session]) -> None:
    with pytest.raises(NotFound, match="There is no transaction 424242"), factory.begin() as session:
        void(session, 424242, reason="x", origin=BOB, clock=CLOCK)


def test_long_reason_is_kept_whole_and_the_reversal_description_fits(factory: sessionmaker[Session]) -> None:
    original = post(factory, make_purchase()).id
    reason = "r" * 500
    with factory.begin() as session:
        reversal = void(session, original, reason=reason, origin=BOB, clock=CLOCK).id
    with factory.begin() as session:
        assert get_transaction(session, original).void_reason == reason
        assert len(get_transaction(session, reversal).description) == 200


# --- Approve and reject -------------------------------------------------------------------------


def test_approval_posts_the_entries_and_records_the_approver(factory: sessionmaker[Session]) -> None:
    pending = post(factory, make_purchase(), ALICE, pending=True).id
    assert _entries(factory, pending) == []
    with factory.begin() as session:
        result = approve(session, pending, by="U0BOB", clock=CLOCK)
    assert (result.id, result.status) == (pending, Status.POSTED)
    with factory.begin() as session:
        header = get_transaction(session, pending)
        assert header.status is Status.POSTED
        assert header.decided_by == "U0BOB"
        assert header.decided_at is not None
        assert verify(session) == []
    assert _entries(factory, pending) == [("1000", 0, 16890), ("6100", 16890, 0)]


def test_self_approval_is_refused(factory: sessionmaker[Session]) -> None:
    pending = post(factory, make_purchase(), ALICE, pending=True).id
    with pytest.raises(LedgerError) as info, factory.begin() as session:
        approve(session, pending, by="U0ALICE", clock=CLOCK)
    assert str(info.value) == "You cannot approve your own purchase; another approver has to"
    with factory.begin() as session:
        assert get_transaction(session, pending).status is Status.PENDING
    assert _entries(factory, pending) == []


def test_double_approval_is_refused_naming_who(factory: sessionmaker[Session]) -> None:
    pending = post(factory, make_purchase(), ALICE, pending=True).id
    with factory.begin() as session:
        approve(session, pending, by="U0BOB", clock=CLOCK)
    with factory.begin() as session:
        rows = count_rows(session)
    for act in (
        lambda s: approve(s, pending, by="U0CAROL", clock=CLOCK),
        lambda s: reject(s, pending, by="U0CAROL", reason="late", clock=CLOCK),
    ):
        with pytest.raises(AlreadyDecided, match=rf"Transaction {pending} was already posted by U0BOB on "):
            in_session(factory, act)
    with factory.begin() as session:
        assert count_rows(session) == rows


def test_rejection_is_final(factory: sessionmaker[Session]) -> None:
    pending = post(factory, make_purchase(), ALICE, pending=True).id
    with factory.begin() as session:
        result = reject(session, pending, by="U0BOB", reason="  not in budget ", clock=CLOCK)
    assert result.status is Status.REJECTED
    with factory.begin() as session:
        header = get_transaction(session, pending)
        assert (header.status, header.decided_by, header.decision_note) == (
            Status.REJECTED,
            "U0BOB",
            "not in budget",
        )
        assert header.entries == []
    for act in (
        lambda s: approve(s, pending, by="U0CAROL", clock=CLOCK),
        lambda s: reject(s, pending, by="U0CAROL", reason="again", clock=CLOCK),
    ):
        with pytest.raises(AlreadyDecided, match=rf"Transaction {pending} was already rejected by U0BOB"):
            in_session(factory, act)
    with factory.begin() as session:
        assert verify(session) == []


def test_reject_needs_a_reason(factory: sessionmaker[Session]) -> None:
    pending = post(factory, make_purchase(), ALICE, pending=True).id
    with pytest.raises(LedgerError, match="Say why the transaction is rejected"), factory.begin() as session:
        reject(session, pending, by="U0BOB", reason=" ", clock=CLOCK)


def test_approving_a_posted_purchase_is_refused(factory: sessionmaker[Session]) -> None:
    posted = post(factory, make_purchase(), ALICE).id
    with pytest.raises(AlreadyDecided, match=f"Transaction {posted} was already posted$"):
        in_session(factory, lambda session: approve(session, posted, by="U0BOB", clock=CLOCK))


def test_approve_unknown(factory: sessionmaker[Session]) -> None:
    with pytest.raises(NotFound), factory.begin() as session:
        approve(session, 999999, by="U0BOB", clock=CLOCK)


def test_whole_lifecycle_commits_through_the_database_guards(engine: Engine) -> None:
    """On committing databases, so PostgreSQL's deferred trigger checks every step at COMMIT."""
    factory = make_session_factory(engine)
    to_approve = post(factory, make_purchase(), ALICE, pending=True).id
    to_reject = post(factory, make_purchase(), ALICE, pending=True).id
    with factory.begin() as session:
        approve(session, to_approve, by="U0BOB", clock=CLOCK)
    with factory.begin() as session:
        reject(session, to_reject, by="U0BOB", reason="no", clock=CLOCK)
    with factory.begin() as session:
        reversal = void(session, to_approve, reason="returned", origin=BOB, clock=CLOCK).id
    with factory.begin() as session:
        statuses = {tx: get_transaction(session, tx).status for tx in (to_approve, to_reject, reversal)}
        assert statuses == {to_approve: Status.VOIDED, to_reject: Status.REJECTED, reversal: Status.POSTED}
        approved = get_transaction(session, to_approve)
        assert (approved.decided_by, approved.voided_by) == ("U0BOB", "U0BOB")
        assert verify(session) == []
        assert trial_balance(session).balanced
