"""The database's own guard of the books, installed by migration 0001.

PostgreSQL: a deferred constraint trigger checks at COMMIT that every touched transaction's
entries balance, that a posted transaction's debits equal its total (so no header is ever
committed without its entries), and that a pending or rejected one has none. Other triggers make
entries and line items append-only, headers undeletable, and let a header change only by the
allowed status transitions (pending -> posted | rejected, posted -> voided).

SQLite (the embedded default) has no deferred triggers; it gets the append-only rules, and the
balance is checked in Python and by `purchase-bot verify`.
"""

_HEADER_FIXED = (
    "id, effective_date, description, vendor, currency, exponent, total, payment_account_id, "
    "idempotency_key, "
    "request_hash, reverses_id, source, created_by, team_id, channel_id, created_at"
)
_DECISION = "decided_by, decided_at, decision_note"
_VOID = "voided_by, voided_at, void_reason"


def _changed(columns: str) -> str:
    """SQL that is true when any of `columns` differs between OLD and NEW (NULL-safe)."""
    names = columns.split(", ")
    old = ", ".join(f"OLD.{c}" for c in names)
    new = ", ".join(f"NEW.{c}" for c in names)
    return f"ROW({old}) IS DISTINCT FROM ROW({new})"


POSTGRESQL = [
    """
CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tx_id bigint;
    tx_status text;
    tx_total bigint;
    debits bigint;
    credits bigint;
    lines integer;
BEGIN
    IF TG_TABLE_NAME = 'journal_entries' THEN
        tx_id := NEW.transaction_id;
    ELSE
        tx_id := NEW.id;
    END IF;
    SELECT status, total INTO tx_status, tx_total FROM transaction_headers WHERE id = tx_id;
    SELECT coalesce(sum(debit), 0), coalesce(sum(credit), 0), count(*)
      INTO debits, credits, lines
      FROM journal_entries WHERE transaction_id = tx_id;
    IF debits <> credits THEN
        RAISE EXCEPTION 'transaction % does not balance: debits % <> credits %', tx_id, debits, credits
            USING ERRCODE = 'check_violation';
    END IF;
    IF tx_status IN ('posted', 'voided') AND debits <> tx_total THEN
        RAISE EXCEPTION 'transaction % is posted but its entries (%) do not equal its total (%)',
            tx_id, debits, tx_total USING ERRCODE = 'check_violation';
    END IF;
    IF tx_status IN ('pending', 'rejected') AND lines > 0 THEN
        RAISE EXCEPTION 'transaction % is % and must have no journal entries', tx_id, tx_status
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$
""",
    """
CREATE CONSTRAINT TRIGGER journal_entries_balanced
    AFTER INSERT ON journal_entries DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced()
""",
    """
CREATE CONSTRAINT TRIGGER transaction_headers_balanced
    AFTER INSERT OR UPDATE OF status ON transaction_headers DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced()
""",
    """
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: posted entries are never edited or deleted; post a reversal instead',
        TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END $$
""",
    f"""
CREATE FUNCTION ledger_guard_header() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {_changed(_HEADER_FIXED)} THEN
        RAISE EXCEPTION 'transaction % is recorded and cannot be edited; void it and post a new one', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
        (OLD.status = 'pending' AND NEW.status IN ('posted', 'rejected'))
        OR (OLD.status = 'posted' AND NEW.status = 'voided')
    ) THEN
        RAISE EXCEPTION 'transaction % cannot go from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.status <> 'pending' AND {_changed(_DECISION)} THEN
        RAISE EXCEPTION 'the decision on transaction % is already recorded', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NOT (OLD.status = 'posted' AND NEW.status = 'voided') AND {_changed(_VOID)} THEN
        RAISE EXCEPTION 'the void of transaction % can only be recorded when it is voided', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$
""",
    """
CREATE TRIGGER transaction_headers_guard BEFORE UPDATE ON transaction_headers
    FOR EACH ROW EXECUTE FUNCTION ledger_guard_header()
""",
]

_APPEND_ONLY_TABLES = ("journal_entries", "transaction_details", "transaction_headers")

for _table in _APPEND_ONLY_TABLES:
    _events = "DELETE" if _table == "transaction_headers" else "UPDATE OR DELETE"
    POSTGRESQL.append(
        f"CREATE TRIGGER {_table}_append_only BEFORE {_events} ON {_table} "
        "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()"
    )
    POSTGRESQL.append(
        f"CREATE TRIGGER {_table}_no_truncate BEFORE TRUNCATE ON {_table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()"
    )

_SQLITE_MESSAGE = "is append-only: posted entries are never edited or deleted; post a reversal instead"

SQLITE = [
    f"CREATE TRIGGER journal_entries_no_update BEFORE UPDATE ON journal_entries "
    f"BEGIN SELECT RAISE(ABORT, 'journal_entries {_SQLITE_MESSAGE}'); END",
    f"CREATE TRIGGER journal_entries_no_delete BEFORE DELETE ON journal_entries "
    f"BEGIN SELECT RAISE(ABORT, 'journal_entries {_SQLITE_MESSAGE}'); END",
    f"CREATE TRIGGER transaction_details_no_update BEFORE UPDATE ON transaction_details "
    f"BEGIN SELECT RAISE(ABORT, 'transaction_details {_SQLITE_MESSAGE}'); END",
    f"CREATE TRIGGER transaction_details_no_delete BEFORE DELETE ON transaction_details "
    f"BEGIN SELECT RAISE(ABORT, 'transaction_details {_SQLITE_MESSAGE}'); END",
    f"CREATE TRIGGER transaction_headers_no_delete BEFORE DELETE ON transaction_headers "
    f"BEGIN SELECT RAISE(ABORT, 'transaction_headers {_SQLITE_MESSAGE}'); END",
    f"CREATE TRIGGER transaction_headers_fixed BEFORE UPDATE OF {_HEADER_FIXED} ON transaction_headers "
    "BEGIN SELECT RAISE(ABORT, 'a recorded transaction cannot be edited; void it and post a new one'); END",
    """CREATE TRIGGER transaction_headers_status BEFORE UPDATE OF status ON transaction_headers
    WHEN NEW.status <> OLD.status AND NOT (
        (OLD.status = 'pending' AND NEW.status IN ('posted', 'rejected'))
        OR (OLD.status = 'posted' AND NEW.status = 'voided'))
    BEGIN SELECT RAISE(ABORT, 'this status change is not allowed'); END""",
]


def install(dialect: str) -> list[str]:
    return {"postgresql": POSTGRESQL, "sqlite": SQLITE}.get(dialect, [])


def uninstall(dialect: str) -> list[str]:
    if dialect == "postgresql":
        drops = [
            "DROP TRIGGER IF EXISTS journal_entries_balanced ON journal_entries",
            "DROP TRIGGER IF EXISTS transaction_headers_balanced ON transaction_headers",
            "DROP TRIGGER IF EXISTS transaction_headers_guard ON transaction_headers",
        ]
        for table in _APPEND_ONLY_TABLES:
            drops.append(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            drops.append(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        return [
            *drops,
            "DROP FUNCTION IF EXISTS ledger_check_balanced()",
            "DROP FUNCTION IF EXISTS ledger_append_only()",
            "DROP FUNCTION IF EXISTS ledger_guard_header()",
        ]
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {s.split()[2]}" for s in SQLITE]
    return []


# --- Migration 0002: balances maintained by the database, and idempotency key claims ------------
#
# `account_balances` holds, per account, currency and exponent, running debit and credit sums of
# journal_entries, spread over BALANCE_SLOTS rows ("slots") so that concurrent postings to a hot
# account (Cash) update different rows instead of queueing on one row lock. A reader sums the
# slots. On PostgreSQL one statement-level trigger per INSERT statement upserts one row per
# account touched, in (account, currency, exponent) order, into the slot of the current backend:
# two connections only wait for each other when their backends share a slot, and since every
# statement locks in the same order they cannot deadlock within a statement. Entries are
# append-only (0001), so inserts are the only change there is to follow. SQLite serialises
# writers already; it uses slot 0 and a row-level trigger.

BALANCE_SLOTS = 16  # written out in ledger_add_to_balances below

BALANCES_POSTGRESQL = [
    """
CREATE FUNCTION ledger_add_to_balances() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO account_balances AS b (account_id, currency, exponent, slot, debit, credit)
    SELECT n.account_id, h.currency, h.exponent, pg_backend_pid() % 16, sum(n.debit), sum(n.credit)
      FROM new_entries n JOIN transaction_headers h ON h.id = n.transaction_id
     GROUP BY n.account_id, h.currency, h.exponent
     ORDER BY n.account_id, h.currency, h.exponent
    ON CONFLICT (account_id, currency, exponent, slot)
    DO UPDATE SET debit = b.debit + EXCLUDED.debit, credit = b.credit + EXCLUDED.credit;
    RETURN NULL;
END $$
""",
    """
CREATE TRIGGER journal_entries_balances AFTER INSERT ON journal_entries
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_add_to_balances()
""",
]

BALANCES_SQLITE = [
    """CREATE TRIGGER journal_entries_balances AFTER INSERT ON journal_entries
    BEGIN
        INSERT INTO account_balances (account_id, currency, exponent, slot, debit, credit)
        SELECT NEW.account_id, h.currency, h.exponent, 0, NEW.debit, NEW.credit
          FROM transaction_headers h WHERE h.id = NEW.transaction_id
        ON CONFLICT (account_id, currency, exponent, slot)
        DO UPDATE SET debit = debit + excluded.debit, credit = credit + excluded.credit;
    END""",
]

# Run after the trigger exists: on PostgreSQL, creating it locks out concurrent inserts until the
# migration commits, so no entry is counted twice or missed.
BALANCES_BACKFILL = """
INSERT INTO account_balances (account_id, currency, exponent, slot, debit, credit)
SELECT e.account_id, h.currency, h.exponent, 0, sum(e.debit), sum(e.credit)
  FROM journal_entries e JOIN transaction_headers h ON h.id = e.transaction_id
 GROUP BY e.account_id, h.currency, h.exponent
"""


# Posting with an idempotency key on PostgreSQL: take a transaction-long advisory lock on the key,
# then look for a header that already has it. The function is VOLATILE, so its query runs on a
# fresh snapshot taken after the lock (READ COMMITTED, the default): a concurrent poster of the
# same key has either committed (its header is seen: replay) or rolled back (the key is free), so
# the header INSERT that follows cannot hit the unique index and needs no savepoint around it. It
# is called inside the query that looks the accounts up: no extra round trip. post_purchase is the
# only writer of keyed headers; the unique constraint stays as the last line of defence.
CLAIM_KEY_POSTGRESQL = [
    """
CREATE FUNCTION ledger_claim_idempotency_key(key text) RETURNS bigint
    LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('ledger_idempotency_key:' || key, 0));
    RETURN (SELECT id FROM transaction_headers WHERE idempotency_key = key);
END $$
""",
]


def install_balances(dialect: str) -> list[str]:
    """Migration 0002: the balance triggers and backfill, and on PostgreSQL the key claim."""
    if dialect == "postgresql":
        return [*BALANCES_POSTGRESQL, BALANCES_BACKFILL, *CLAIM_KEY_POSTGRESQL]
    if dialect == "sqlite":
        return [*BALANCES_SQLITE, BALANCES_BACKFILL]
    return [BALANCES_BACKFILL]


def uninstall_balances(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [
            "DROP FUNCTION IF EXISTS ledger_claim_idempotency_key(text)",
            "DROP TRIGGER IF EXISTS journal_entries_balances ON journal_entries",
            "DROP FUNCTION IF EXISTS ledger_add_to_balances()",
        ]
    if dialect == "sqlite":
        return ["DROP TRIGGER IF EXISTS journal_entries_balances"]
    return []


# --- Migration 0004: vendors linked to headers, and documents ------------------------------------
#
# A header's free-text `vendor` becomes `vendor_id`, a link to a vendors row. The link is the one
# part of a recorded header that may change, and only one way: when its vendor is merged into
# another (db.vendors.merge_vendors sets the old vendor's `merged_into_id` first), the header may
# point at the vendor it was merged into; nothing else about it changes. Documents (the bytes,
# content-addressed) and their links to transactions are append-only, like journal entries.

_HEADER_FIXED_0004 = _HEADER_FIXED.replace(" vendor,", "") + ", source_link"

_VENDOR_MOVE_ONLY_BY_MERGE = (
    "NEW.vendor_id IS DISTINCT FROM OLD.vendor_id AND (OLD.vendor_id IS NULL OR NEW.vendor_id IS NULL "
    "OR NEW.vendor_id IS DISTINCT FROM (SELECT merged_into_id FROM vendors WHERE id = OLD.vendor_id))"
)
_VENDOR_MESSAGE = "the vendor of a recorded transaction changes only when its vendor is merged into another"

GUARD_HEADER_0004_POSTGRESQL = f"""
CREATE OR REPLACE FUNCTION ledger_guard_header() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {_changed(_HEADER_FIXED_0004)} THEN
        RAISE EXCEPTION 'transaction % is recorded and cannot be edited; void it and post a new one', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF {_VENDOR_MOVE_ONLY_BY_MERGE} THEN
        RAISE EXCEPTION 'transaction %: {_VENDOR_MESSAGE}', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
        (OLD.status = 'pending' AND NEW.status IN ('posted', 'rejected'))
        OR (OLD.status = 'posted' AND NEW.status = 'voided')
    ) THEN
        RAISE EXCEPTION 'transaction % cannot go from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.status <> 'pending' AND {_changed(_DECISION)} THEN
        RAISE EXCEPTION 'the decision on transaction % is already recorded', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NOT (OLD.status = 'posted' AND NEW.status = 'voided') AND {_changed(_VOID)} THEN
        RAISE EXCEPTION 'the void of transaction % can only be recorded when it is voided', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$
"""

# The guard as migration 0001 made it (for 0004's downgrade, once the `vendor` column is back).
GUARD_HEADER_0001_POSTGRESQL = next(s for s in POSTGRESQL if "ledger_guard_header()" in s).replace(
    "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1
)

DOCUMENT_TABLES = ("documents", "transaction_documents")
_DOCUMENT_MESSAGE = "is append-only: an attached document is never changed or removed"

DOCUMENTS_POSTGRESQL = [
    f"""
CREATE FUNCTION ledger_document_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% {_DOCUMENT_MESSAGE}', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END $$
""",
    *(
        statement
        for table in DOCUMENT_TABLES
        for statement in (
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ledger_document_append_only()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_document_append_only()",
        )
    ),
]

_SQLITE_HEADERS_FIXED_0001 = next(s for s in SQLITE if "transaction_headers_fixed" in s)

HEADERS_SQLITE_0004 = [
    f"CREATE TRIGGER transaction_headers_fixed BEFORE UPDATE OF {_HEADER_FIXED_0004} ON transaction_headers "
    "BEGIN SELECT RAISE(ABORT, 'a recorded transaction cannot be edited; void it and post a new one'); END",
    f"""CREATE TRIGGER transaction_headers_vendor BEFORE UPDATE OF vendor_id ON transaction_headers
    WHEN {_VENDOR_MOVE_ONLY_BY_MERGE.replace("IS DISTINCT FROM", "IS NOT")}
    BEGIN SELECT RAISE(ABORT, '{_VENDOR_MESSAGE}'); END""",
]

DOCUMENTS_SQLITE = [
    f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, '{table} {_DOCUMENT_MESSAGE}'); END"
    for table in DOCUMENT_TABLES
    for event in ("UPDATE", "DELETE")
]


def install_vendor_guard(dialect: str) -> list[str]:
    """Migration 0004, after the headers are linked to vendors and before `vendor` is dropped."""
    if dialect == "postgresql":
        return [GUARD_HEADER_0004_POSTGRESQL]
    if dialect == "sqlite":
        # The 0001 trigger names the `vendor` column, which SQLite will not drop while it does.
        return ["DROP TRIGGER IF EXISTS transaction_headers_fixed"]
    return []


def install_documents(dialect: str) -> list[str]:
    """Migration 0004, once `vendor` is gone: the header triggers (SQLite) and the document guards."""
    if dialect == "postgresql":
        return DOCUMENTS_POSTGRESQL
    if dialect == "sqlite":
        return [*HEADERS_SQLITE_0004, *DOCUMENTS_SQLITE]
    return []


def uninstall_documents(dialect: str) -> list[str]:
    """Migration 0004's downgrade, first step: the header's vendor rule stays until `vendor` is back."""
    if dialect == "postgresql":
        drops = [
            f"DROP TRIGGER IF EXISTS {table}_{kind} ON {table}"
            for table in DOCUMENT_TABLES
            for kind in ("append_only", "no_truncate")
        ]
        return [*drops, "DROP FUNCTION IF EXISTS ledger_document_append_only()"]
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {s.split()[2]}" for s in (*HEADERS_SQLITE_0004, *DOCUMENTS_SQLITE)]
    return []


def restore_header_guard(dialect: str) -> list[str]:
    """Migration 0004's downgrade, once `vendor` is back and `vendor_id` gone: the 0001 header guard."""
    if dialect == "postgresql":
        return [GUARD_HEADER_0001_POSTGRESQL]
    if dialect == "sqlite":
        return [_SQLITE_HEADERS_FIXED_0001]
    return []


# --- Migration 0005: bills and payments -----------------------------------------------------------
#
# A payment is a header of its own whose `pays_id` names the bill it pays. Inserting it adds its
# total to the bill's `paid` (and voiding it takes it off again) with one UPDATE of the bill row,
# which CHECK (paid <= total) guards: two payments racing for a bill's last 100 queue on that row
# lock, and the second one's UPDATE, re-evaluated on the row the first committed, violates the
# CHECK. So a bill can never be taken past zero, whatever the application does. `paid` changes
# only through these triggers, a bill with payments cannot be voided, and a header's bill fields
# are as fixed as the rest of it.

_BILL_FIXED = "due_date, invoice_number, pays_id"
_BILL_HAS_PAYMENTS = "a bill with payments cannot be voided; void its payments first"

BILLS_POSTGRESQL = [
    """
CREATE FUNCTION ledger_bill_paid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE transaction_headers SET paid = paid + NEW.total
         WHERE id = NEW.pays_id AND status = 'posted' AND due_date IS NOT NULL
           AND currency = NEW.currency AND NEW.status = 'posted';
        IF NOT FOUND THEN
            RAISE EXCEPTION 'transaction % pays transaction %: a payment must pay a posted bill in its own currency', NEW.id, NEW.pays_id
                USING ERRCODE = 'check_violation';
        END IF;
    ELSE
        UPDATE transaction_headers SET paid = paid - NEW.total WHERE id = NEW.pays_id;
    END IF;
    RETURN NULL;
END $$
""",
    """
CREATE TRIGGER transaction_headers_payment_added AFTER INSERT ON transaction_headers
    FOR EACH ROW WHEN (NEW.pays_id IS NOT NULL) EXECUTE FUNCTION ledger_bill_paid()
""",
    """
CREATE TRIGGER transaction_headers_payment_voided AFTER UPDATE OF status ON transaction_headers
    FOR EACH ROW WHEN (NEW.pays_id IS NOT NULL AND OLD.status = 'posted' AND NEW.status = 'voided')
    EXECUTE FUNCTION ledger_bill_paid()
""",
    f"""
CREATE FUNCTION ledger_guard_bill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {_changed(_BILL_FIXED)} THEN
        RAISE EXCEPTION 'transaction % is recorded and cannot be edited; void it and post a new one', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    -- Depth 1: an UPDATE from outside; ledger_bill_paid's own UPDATE runs at depth 2.
    IF NEW.paid IS DISTINCT FROM OLD.paid AND pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'what bill % has paid is kept by its payments and cannot be set', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.status = 'voided' AND OLD.status <> 'voided' AND NEW.paid > 0 THEN
        RAISE EXCEPTION 'transaction %: {_BILL_HAS_PAYMENTS}', OLD.id USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$
""",
    """
CREATE TRIGGER transaction_headers_bill_guard BEFORE UPDATE ON transaction_headers
    FOR EACH ROW EXECUTE FUNCTION ledger_guard_bill()
""",
]

BILLS_SQLITE = [
    """CREATE TRIGGER transaction_headers_payment_added AFTER INSERT ON transaction_headers
    WHEN NEW.pays_id IS NOT NULL
    BEGIN
        SELECT RAISE(ABORT, 'a payment must pay a posted bill in its own currency') WHERE NEW.status <> 'posted' OR NOT EXISTS (
            SELECT 1 FROM transaction_headers WHERE id = NEW.pays_id AND status = 'posted'
               AND due_date IS NOT NULL AND currency = NEW.currency);
        UPDATE transaction_headers SET paid = paid + NEW.total WHERE id = NEW.pays_id;
    END""",
    """CREATE TRIGGER transaction_headers_payment_voided AFTER UPDATE OF status ON transaction_headers
    WHEN NEW.pays_id IS NOT NULL AND OLD.status = 'posted' AND NEW.status = 'voided'
    BEGIN
        UPDATE transaction_headers SET paid = paid - NEW.total WHERE id = NEW.pays_id;
    END""",
    f"CREATE TRIGGER transaction_headers_bill_fixed BEFORE UPDATE OF {_BILL_FIXED} ON transaction_headers "
    "BEGIN SELECT RAISE(ABORT, 'a recorded transaction cannot be edited; void it and post a new one'); END",
    f"""CREATE TRIGGER transaction_headers_bill_void BEFORE UPDATE OF status ON transaction_headers
    WHEN NEW.status = 'voided' AND OLD.status <> 'voided' AND OLD.paid > 0
    BEGIN SELECT RAISE(ABORT, '{_BILL_HAS_PAYMENTS}'); END""",
]


def install_bills(dialect: str) -> list[str]:
    """Migration 0005: what keeps bills' `paid` right and never past their total."""
    return {"postgresql": BILLS_POSTGRESQL, "sqlite": BILLS_SQLITE}.get(dialect, [])


def uninstall_bills(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [
            "DROP TRIGGER IF EXISTS transaction_headers_bill_guard ON transaction_headers",
            "DROP TRIGGER IF EXISTS transaction_headers_payment_voided ON transaction_headers",
            "DROP TRIGGER IF EXISTS transaction_headers_payment_added ON transaction_headers",
            "DROP FUNCTION IF EXISTS ledger_guard_bill()",
            "DROP FUNCTION IF EXISTS ledger_bill_paid()",
        ]
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {s.split()[2]}" for s in BILLS_SQLITE]
    return []


# --- Migration 0006: closed periods and the hash chain ------------------------------------------
#
# A transaction header may not be inserted (posted, recorded for approval, a payment, a void's
# reversal) with an effective date in a closed period or before the books' first period (the
# earliest `periods` row), nor approved (pending -> posted) or rejected in a closed period. Voiding
# (posted -> voided) is allowed: the reversal, a header of its own, is dated in an open period.
# Messages start with a marker (CLOSED_MARK, BEFORE_FIRST_MARK) that db.periods turns into one that
# names the period; SQLite's RAISE takes only a constant, and PostgreSQL's names it already.

CLOSED_MARK = "closed period"
BEFORE_FIRST_MARK = "before the books' first period"
_BEFORE_FIRST_SQL = BEFORE_FIRST_MARK.replace("'", "''")

_IN_CLOSED = "SELECT month FROM periods WHERE closed AND {date} BETWEEN first_day AND last_day"
_DECIDED = "NEW.status IS DISTINCT FROM OLD.status AND NEW.status IN ('posted', 'rejected')"

PERIODS_POSTGRESQL = [
    f"""
CREATE FUNCTION ledger_refuse_closed_period() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    closed_month text;
    first date;
BEGIN
    IF TG_OP = 'UPDATE' AND NOT ({_DECIDED}) THEN
        RETURN NEW;
    END IF;
    {_IN_CLOSED.format(date="NEW.effective_date")} INTO closed_month;
    IF closed_month IS NOT NULL THEN
        RAISE EXCEPTION '{CLOSED_MARK} %: nothing dated % can be posted, approved or paid; date it in an '
            'open period, or reopen % (purchase-bot period reopen % --reason ...)',
            closed_month, NEW.effective_date, closed_month, closed_month USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'INSERT' THEN
        SELECT min(first_day) INTO first FROM periods;
        IF NEW.effective_date < first THEN
            RAISE EXCEPTION '{_BEFORE_FIRST_SQL} (%): % is before it; date it on or after %',
                to_char(first, 'YYYY-MM'), NEW.effective_date, first USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NEW;
END $$
""",  # noqa: S608
    """
CREATE TRIGGER transaction_headers_open_period BEFORE INSERT OR UPDATE OF status ON transaction_headers
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_closed_period()
""",
]

PERIODS_SQLITE = [
    f"""CREATE TRIGGER transaction_headers_closed_period BEFORE INSERT ON transaction_headers
    WHEN EXISTS ({_IN_CLOSED.format(date="NEW.effective_date")})
    BEGIN SELECT RAISE(ABORT, '{CLOSED_MARK}'); END""",
    f"""CREATE TRIGGER transaction_headers_first_period BEFORE INSERT ON transaction_headers
    WHEN NEW.effective_date < (SELECT min(first_day) FROM periods)
    BEGIN SELECT RAISE(ABORT, '{_BEFORE_FIRST_SQL}'); END""",  # noqa: S608
    f"""CREATE TRIGGER transaction_headers_closed_decision BEFORE UPDATE OF status ON transaction_headers
    WHEN {_DECIDED.replace("IS DISTINCT FROM", "IS NOT")}
        AND EXISTS ({_IN_CLOSED.format(date="NEW.effective_date")})
    BEGIN SELECT RAISE(ABORT, '{CLOSED_MARK}'); END""",
]

# Appending to the chain (db/chain.py), in the statement that appends: a transaction-long advisory
# lock serialises appenders from here to COMMIT, so each reads the head its predecessor committed
# (a VOLATILE function's statements each take a fresh snapshot) and the chain never forks. The lock
# is taken last thing before COMMIT, so posters queue only for this statement and the commit.
CHAIN_POSTGRESQL = [
    """
CREATE FUNCTION ledger_chain_append(tx_ids bigint[], content_hashes text[]) RETURNS text
    LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    head text;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('ledger_chain', 0));
    head := coalesce((SELECT hash FROM chain_links ORDER BY seq DESC LIMIT 1), '');
    FOR i IN 1 .. coalesce(array_length(tx_ids, 1), 0) LOOP
        head := encode(sha256(convert_to(head || content_hashes[i], 'UTF8')), 'hex');
        INSERT INTO chain_links (transaction_id, content_hash, hash) VALUES (tx_ids[i], content_hashes[i], head);
    END LOOP;
    RETURN head;
END $$
""",
]

_PERIOD_TABLES = ("period_events", "chain_links")
_CHAIN_MESSAGE = "is append-only: the record of the books is never changed"

CHAIN_GUARDS_POSTGRESQL = [
    f"""
CREATE FUNCTION ledger_record_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% {_CHAIN_MESSAGE}', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END $$
""",
    *(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION ledger_record_append_only()"
        for table in _PERIOD_TABLES
    ),
]

CHAIN_GUARDS_SQLITE = [
    f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, '{table} {_CHAIN_MESSAGE}'); END"
    for table in _PERIOD_TABLES
    for event in ("UPDATE", "DELETE")
]


# A header's base currency and rate (db/rates.py) are recorded with it, like its other fields.
# Migration 0005 left ledger_guard_header() as 0004 made it (a bill's fixed fields, its `paid` and
# the void of a bill with payments are ledger_guard_bill()'s, and the SQLite triggers of 0005), so
# 0006 builds on that guard, and its downgrade puts that guard back; 0005's rules stay in force.
GUARD_HEADER_0005_POSTGRESQL = GUARD_HEADER_0004_POSTGRESQL
_HEADER_FIXED_0006 = _HEADER_FIXED_0004 + ", base_currency, rate"
GUARD_HEADER_0006_POSTGRESQL = GUARD_HEADER_0005_POSTGRESQL.replace(
    _changed(_HEADER_FIXED_0004), _changed(_HEADER_FIXED_0006)
)
RATE_FIXED_SQLITE = (
    "CREATE TRIGGER transaction_headers_rate_fixed BEFORE UPDATE OF base_currency, rate ON transaction_headers "
    "BEGIN SELECT RAISE(ABORT, 'a recorded transaction cannot be edited; void it and post a new one'); END"
)


def install_periods_and_chain(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [
            *PERIODS_POSTGRESQL,
            *CHAIN_POSTGRESQL,
            *CHAIN_GUARDS_POSTGRESQL,
            GUARD_HEADER_0006_POSTGRESQL,
        ]
    if dialect == "sqlite":
        return [*PERIODS_SQLITE, *CHAIN_GUARDS_SQLITE, RATE_FIXED_SQLITE]
    return []


def uninstall_periods_and_chain(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [
            GUARD_HEADER_0005_POSTGRESQL,
            "DROP TRIGGER IF EXISTS transaction_headers_open_period ON transaction_headers",
            *(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}" for table in _PERIOD_TABLES),
            "DROP FUNCTION IF EXISTS ledger_refuse_closed_period()",
            "DROP FUNCTION IF EXISTS ledger_chain_append(bigint[], text[])",
            "DROP FUNCTION IF EXISTS ledger_record_append_only()",
        ]
    if dialect == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {s.split()[2]}"
            for s in (*PERIODS_SQLITE, *CHAIN_GUARDS_SQLITE, RATE_FIXED_SQLITE)
        ]
    return []
