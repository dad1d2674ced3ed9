"""What the bot says in Slack that is not built from data: refusals, failures, usage. One home, so
the same situation is always said the same way."""


def database_down(consequence: str, next_step: str = "Please try again in a minute.") -> str:
    return f"The ledger database could not be reached, so {consequence}. {next_step}"


# The database is away: the one situation, said for what was attempted.
NOTHING_SAVED = database_down("nothing was saved", "Press Post again in a minute.")
NOTHING_CHANGED = database_down("nothing changed")
PAYMENT_NOT_SAVED = database_down("no payment was recorded")
NOTHING_SHOWN = database_down("nothing can be shown")
FORM_CANNOT_OPEN = database_down("the form cannot open")
COMMIT_LOST = (
    "The connection to the ledger database broke while saving, so it is not certain the purchase was "
    "recorded. Press Post again: if it was recorded you will see its ID, and it is never recorded twice."
)
TOO_BUSY = "The ledger database was too busy to answer in time, so nothing was saved. Press Post again."
REFUSED = "The ledger database refused the purchase, so nothing was saved. Please tell your admin."
FAILED = "Something went wrong on our side, so nothing was saved. Press Post again, or tell your admin."


def no_purchase(tx: int) -> str:
    return f"There is no purchase #{tx}."


def form_not_opened(error: str | None, again: str) -> str:
    """A form Slack would not open (an expired trigger, Slack down): what to do instead."""
    return f"The form could not open ({error}); please {again} again."


def not_known_yet(seconds: float, what: str = "the purchase was saved") -> str:
    return (
        f":hourglass: The ledger database has not answered within {seconds:g} seconds, so it is not known yet "
        f"whether {what}. The outcome will appear here when it answers; trying again never records it twice."
    )


# Who may do what.
NOT_ALLOWED = (
    "You are not allowed to record purchases. Ask your Slack admin to add you to the bot's "
    "PURCHASE_ALLOWED_USERS."
)
NOT_APPROVER = "Only approvers can approve or reject purchases; you are not one of the bot's APPROVERS."
NOT_PAYER = (
    "Only the bot's PAYERS can record payments of bills (its APPROVERS when PAYERS is not set); "
    "you are not one of them."
)
NOT_VOIDER = "Only the person who recorded a purchase, or an approver, can void it."
NOT_READER = (
    "You are not allowed to see the team's purchases. Ask your Slack admin to add you to the bot's "
    "PURCHASE_ALLOWED_USERS."
)

# Usage.
USAGE = (
    "*Record a purchase*\n"
    "• `/purchase` opens the form.\n"
    "• `/purchase Office equipment: 2 Laptop @ 4000000, 4 Monitor @ 500000 from Bank` opens it filled in:"
    " a description, a colon, then items as `quantity name @ unit price` separated by commas,"
    " and optionally `at <vendor>` and `from <payment account>`;"
    " or, bought on account (a bill), `on account from <vendor> [due YYYY-MM-DD]`.\n"
    "• *Record as purchase* in a message's ⋯ menu opens the form filled in from that message, with its files.\n"
    "• `/purchase help` shows this."
)
LIFECYCLE_USAGE = (
    "*After recording*\n"
    "• `/purchase show ID` shows one purchase with its items, journal and history.\n"
    "• `/purchase list [mine|pending|this month]` lists purchases, newest first, 10 a page.\n"
    "• `/purchase attach ID` attaches receipts or invoices to a purchase; *Get documents* sends them to you.\n"
    "• `/purchase void ID reason...` voids a posted purchase by posting reversing entries"
    " (the person who recorded it, or an approver).\n"
    "• `/purchase pay ID [AMOUNT] from ACCOUNT [on YYYY-MM-DD]` records a payment of a bill (bought on"
    " account), by default of all that is still open; *Record payment* on a bill's message does the same.\n"
    "• Purchases above the approval threshold wait for an approver's Approve or Reject in the team channel."
)
CHOOSE_FILES_AGAIN = "Choose your files again before pressing Post: a form cannot keep them."
ATTACH_USAGE = "Say which purchase: `/purchase attach ID`, e.g. `/purchase attach 12`."
VOID_USAGE = (
    "Say which purchase and why: `/purchase void ID reason...`, e.g. `/purchase void 12 typed twice`."
)
LIST_USAGE = "`/purchase list` takes nothing, `mine`, `pending` or `this month`."
PAY_USAGE = (
    "Usage: `/purchase pay ID [AMOUNT] from ACCOUNT [on YYYY-MM-DD]`, e.g. `/purchase pay 42 150.00 from Bank`;"
    " without an amount, all that is still open is paid."
)
