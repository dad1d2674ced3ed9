"""Reading the purchase modal back: view state -> form values -> the input the ledger validates,
and the ledger's field errors -> the modal's block IDs."""

from typing import Any

from db.errors import FieldError
from handlers.blocks.purchase_form import (
    ACCOUNT_GROUPS,
    ITEM_FIELDS,
    FormValues,
    ItemValues,
    ModalMeta,
    SlackFile,
    is_account_field,
    item_block,
)
from handlers.caches import AccountOption

_TYPE_OF_GROUP = {label: kind for kind, label in ACCOUNT_GROUPS.items()}
# The form's fields outside the items, each in the block of its name.
_FIELDS = ("description", "date", "vendor", "currency", "payment_account", "due_date", "invoice_number")


def _value(state: dict[str, Any], block_id: str) -> str | None:
    """The value of the one element in `block_id`, whatever its type; None when absent or empty."""
    block = state.get(block_id)
    if not isinstance(block, dict):
        return None
    element = block.get("value")
    if not isinstance(element, dict):
        return None
    if isinstance(element.get("selected_option"), dict):
        value = element["selected_option"].get("value")
    else:
        value = element.get("selected_date", element.get("value"))
    return value if isinstance(value, str) and value != "" else None


def _files(state: dict[str, Any], meta: ModalMeta) -> list[SlackFile]:
    """The files uploaded into the form's file input, then the message's files (each file once)."""
    block = state.get("documents")
    element = block.get("value") if isinstance(block, dict) else None
    given = element.get("files") if isinstance(element, dict) else None
    files: dict[str, SlackFile] = {}
    for data in given if isinstance(given, list) else []:
        file = SlackFile.from_slack(data)
        if file is not None:
            files.setdefault(file.id, file)
    for file in meta.message_files:
        files.setdefault(file.id, file)
    return list(files.values())


def read_form(view: dict[str, Any]) -> tuple[FormValues, ModalMeta]:
    meta = ModalMeta.load(view.get("private_metadata"))
    state = view.get("state")
    state = state.get("values") if isinstance(state, dict) else None
    if not isinstance(state, dict):
        state = {}
    items = [ItemValues(*(_value(state, item_block(row, f)) for f in ITEM_FIELDS)) for row in meta.rows]
    values = FormValues(
        description=_value(state, "description"),
        date=_value(state, "date"),
        vendor=_value(state, "vendor"),
        currency=_value(state, "currency"),
        payment_account=_value(state, "payment_account"),
        due_date=_value(state, "due_date"),
        invoice_number=_value(state, "invoice_number"),
        items=items,
        files=_files(state, meta),
    )
    return values, meta


def purchase_input(values: FormValues, *, key: str) -> dict[str, Any]:
    """The dict `db.schemas.parse_purchase` takes; absent fields are left out so they read as required."""
    data: dict[str, Any] = {"idempotency_key": key, "items": []}
    for name in _FIELDS:
        value = getattr(values, name)
        if value is not None:
            data[name] = value
    for item in values.items:
        data["items"].append({f: getattr(item, f) for f in ITEM_FIELDS if getattr(item, f) is not None})
    return data


def missing_selects(values: FormValues) -> list[FieldError]:
    """A select left empty would otherwise fall back to a default account the user did not choose."""
    errors = []
    if values.payment_account is None:
        errors.append(FieldError(("payment_account",), "Choose the account the purchase was paid from"))
    for i, item in enumerate(values.items):
        if item.account is None:
            errors.append(FieldError(("items", i, "account"), "Choose the account this item is booked to"))
    return errors


def block_errors(errors: list[FieldError], meta: ModalMeta) -> dict[str, str]:
    """`response_action: errors` wants {block_id: message}; several messages on one block are joined."""
    out: dict[str, str] = {}
    for error in errors:
        block = _block_for(error.loc, meta)
        message = error.message[0].upper() + error.message[1:]
        out[block] = f"{out[block]} {message}." if block in out else f"{message}."
    return {block: message[:300] for block, message in out.items()}


def _block_for(loc: tuple[str | int, ...], meta: ModalMeta) -> str:
    first_item = item_block(meta.rows[0], "name") if meta.rows else "description"
    if not loc:
        return "description"
    if loc[0] == "items":
        if len(loc) >= 2 and isinstance(loc[1], int) and loc[1] < len(meta.rows):
            row = meta.rows[loc[1]]
            name = str(loc[2]) if len(loc) >= 3 and loc[2] in ITEM_FIELDS else "name"
            return item_block(row, name)
        return first_item
    if loc[0] in (*_FIELDS, "documents"):
        return str(loc[0])
    if loc[0] == "total_amount" and meta.rows:
        return item_block(meta.rows[-1], "unit_price")
    return "description"


def accounts_in(view: dict[str, Any]) -> list[AccountOption]:
    """The chart of accounts as the modal already shows it, so redrawing needs no database.

    From static selects: the "Paid from" options, grouped by type (every account). From type-aheads
    (`ModalMeta.account_search`, which the redrawn form keeps): only the accounts the form shows or
    the user has chosen in any account field, enough to show those choices again."""
    blocks = [b for b in view.get("blocks") or [] if isinstance(b, dict)]
    for block in blocks:
        element = block.get("element")
        if block.get("block_id") != "payment_account" or not isinstance(element, dict):
            continue
        if element.get("type") != "external_select":
            return _static_options(element)
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    values = values if isinstance(values, dict) else {}
    chosen: dict[str, AccountOption] = {}
    for block in blocks:
        block_id = block.get("block_id")
        if not isinstance(block_id, str) or not is_account_field(block_id):
            continue
        element = block.get("element")
        initial = element.get("initial_option") if isinstance(element, dict) else None
        typed = values.get(block_id)
        typed = typed.get("value") if isinstance(typed, dict) else None
        selected = typed.get("selected_option") if isinstance(typed, dict) else None
        for option in (selected, initial):
            account = _account(option, "")
            if account is not None:
                chosen.setdefault(account.code, account)
    return list(chosen.values())


def _static_options(element: dict[str, Any]) -> list[AccountOption]:
    groups = element.get("option_groups")
    if isinstance(groups, list):
        accounts = []
        for group in groups:
            if not isinstance(group, dict):
                continue
            label = group.get("label")
            label = label.get("text") if isinstance(label, dict) else None
            kind = _TYPE_OF_GROUP.get(label, "") if isinstance(label, str) else ""
            options = group.get("options")
            for option in options if isinstance(options, list) else []:
                account = _account(option, kind)
                if account is not None:
                    accounts.append(account)
        return accounts
    options = element.get("options")
    found = [_account(o, "") for o in (options if isinstance(options, list) else [])]
    return [a for a in found if a is not None]


def _account(option: object, kind: str) -> AccountOption | None:
    """An account from a select option ("1000 Cash", value "1000")."""
    if not isinstance(option, dict):
        return None
    value, text = option.get("value"), option.get("text")
    if not isinstance(value, str) or not value or not isinstance(text, dict):
        return None
    return AccountOption(value, str(text.get("text", "")).removeprefix(value).strip(), kind)
