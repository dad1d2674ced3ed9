"""Type-ahead answers (`block_suggestion`) for the purchase form's external selects: the vendor, and
every account field when the chart is too big for a static select (handlers/blocks/purchase_form.py).

Every element in the form has action_id "value", so one listener answers and the block says which
field asks. Answers hold at most 100 options (Slack's limit); a user who may not record gets none.
"""

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.models.blocks import Option

from handlers.blocks.purchase_form import CALLBACK_ID, account_option, is_account_field, vendor_option
from handlers.context import deps_of
from handlers.texts import NOT_ALLOWED
from handlers.usecases import suggestions
from handlers.usecases.access import may_record, refused

MAX_OPTIONS = 100  # "a maximum of 100 options or option groups" per answer
NEW_VENDOR = "New vendor: "


def register(app: Any) -> None:
    app.options("value")(suggest)


def suggest(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    view = body.get("view")
    block_id = str(body.get("block_id") or "")
    value = body.get("value")
    typed = value if isinstance(value, str) else ""
    user = str((body.get("user") or {}).get("id") or "")
    deps = deps_of(context)
    options: list[Option] = []
    if not isinstance(view, dict) or view.get("callback_id") != CALLBACK_ID:
        pass
    elif not may_record(deps, client, user):
        refused(user, "purchase form suggestions", NOT_ALLOWED)
    elif block_id == "vendor":
        options = vendor_options(suggestions.vendors(deps, typed, limit=MAX_OPTIONS))
    elif is_account_field(block_id):
        options = [account_option(a) for a in suggestions.accounts(deps, typed, limit=MAX_OPTIONS)]
    ack(options=[o.to_dict() for o in options])


def vendor_options(found: suggestions.VendorSuggestions) -> list[Option]:
    """The typed name first, as "New vendor: ...", then the known vendors; each value once."""
    options = [vendor_option(found.new, NEW_VENDOR + found.new)] if found.new else []
    options += [vendor_option(name) for name in found.known]
    unique: dict[str, Option] = {}
    for option in options:
        unique.setdefault(str(option.value), option)
    return list(unique.values())[:MAX_OPTIONS]
