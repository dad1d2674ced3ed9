"""Reading the purchase modal back: view state -> form values -> the input the ledger validates,
and the ledger's field errors -> the modal's block IDs."""

from typing import Any

from db.errors import FieldError
from handlers.blocks.purchase_form import ITEM_FIELDS, FormValues, ItemValues, ModalMeta, item_block
from handlers.caches import AccountOption


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
        items=items,
    )
    return values, meta


def purchase_input(values: FormValues, *, key: str) -> dict[str, Any]:
    """The dict `db.schemas.parse_purchase` takes; absent fields are left out so they read as required."""
    data: dict[str, Any] = {"idempotency_key": key, "items": []}
    for name in ("description", "date", "vendor", "currency", "payment_account"):
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
    if loc[0] in ("description", "date", "vendor", "currency", "payment_account"):
        return str(loc[0])
    if loc[0] == "total_amount" and meta.rows:
        return item_block(meta.rows[-1], "unit_price")
    return "description"


def accounts_in(view: dict[str, Any]) -> list[AccountOption]:
    """The chart of accounts as the modal already shows it (its "Paid from" options)."""
    for block in view.get("blocks") or []:
        if isinstance(block, dict) and block.get("block_id") == "payment_account":
            options = (block.get("element") or {}).get("options") or []
            return [
                AccountOption(o["value"], str(o["text"]["text"]).removeprefix(o["value"]).strip(), "")
                for o in options
                if isinstance(o, dict) and isinstance(o.get("value"), str) and isinstance(o.get("text"), dict)
            ]
    return []
