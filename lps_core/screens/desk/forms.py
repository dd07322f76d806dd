"""Turning the desk's HTML forms into the bodies the cashier and rewards services check, so the
screens and the API share one set of rules. Blank form lines are left out; numbers the services
expect as integers are converted when they are whole numbers and passed on as text otherwise, so
the services name the bad field."""
import re
import secrets

from lps_core.timeutil import utcnow

ITEM_FIELDS = ("sku", "category", "qty", "amount")
TENDER_FIELDS = ("kind", "amount", "uses", "reference")
# Lines the form shows without JavaScript; cashier.js adds more.
ITEM_LINES = 5
TENDER_LINES = 3


def new_reference(prefix, timezone) -> str:
    """A fresh number for a bill, deposit or redemption request: readable, unique in practice
    (time to the second plus random), and editable by the cashier before submitting. The time is
    the programme's local time (lps.timezone), so a bill made at 07:00 in Shanghai carries that
    day's date, not yesterday's in UTC."""
    return f"{prefix}{utcnow().astimezone(timezone):%Y%m%d%H%M%S}-{secrets.token_hex(2).upper()}"


def whole_number(value):
    value = (value or "").strip()
    if not value:
        return None
    return int(value) if value.isdigit() else value


def text_or_none(value):
    value = (value or "").strip()
    return value or None


def form_lines(params, prefix, names) -> list[dict]:
    """The non-blank lines prefix-N-name of a form, in order of N."""
    numbers = sorted({int(key.split("-")[1]) for key in params
                      if key.startswith(prefix + "-") and key.count("-") == 2 and key.split("-")[1].isdigit()})
    lines = []
    for number in numbers:
        line = {name: (params.get(f"{prefix}-{number}-{name}") or "").strip() for name in names}
        if any(value for name, value in line.items() if name != "kind"):
            lines.append(line)
    return lines


def padded(lines, minimum, names) -> list[dict]:
    return lines + [dict.fromkeys(names, "") for _ in range(max(minimum - len(lines), 1 if not lines else 0))]


def settle_body(params, operator) -> tuple[dict, dict]:
    """The API body of a settlement from the cashier's form, and the form's lines to show again.
    The quick bill is its amount alone (one line without a category); with item lines as well, the
    amount must be their sum (cashier.js keeps it so), else the service names the amount."""
    items = form_lines(params, "item", ITEM_FIELDS)
    tenders = form_lines(params, "tender", TENDER_FIELDS)
    body = {
        "card_no": text_or_none(params.get("card_no")),
        "bill_no": text_or_none(params.get("bill_no")),
        "amount": text_or_none(params.get("amount")),
        "items": [{key: value for key, value in (("sku", line["sku"]), ("category", line["category"]),
                                                 ("qty", line["qty"] or "1"), ("amount", line["amount"])) if value}
                  for line in items] or None,
        "tenders": [{key: value for key, value in (("kind", line["kind"]), ("amount", line["amount"] or "0"),
                                                   ("uses", whole_number(line["uses"])),
                                                   ("reference", line["reference"] or None))
                     if value is not None} for line in tenders] or None,
        "pin": text_or_none(params.get("pin")),
        "operator": operator,
    }
    shown = {"bill_no": params.get("bill_no", ""), "amount": params.get("amount", ""), "items": padded(items, ITEM_LINES, ITEM_FIELDS),
             "tenders": padded(tenders, TENDER_LINES, TENDER_FIELDS)}
    return {name: value for name, value in body.items() if value is not None}, shown


def settle_form_fields(fields) -> dict:
    """The settlement schema's errors named as the form shows them: a tender's beside its row
    ("tenders[1]": "amount must be greater than 0"), an item's under the items ("line 2: qty ...")."""
    shown = {}
    for name, message in (fields or {}).items():
        line = re.fullmatch(r"(items|tenders)\[([0-9]+)\]\.?(.*)", name)
        if line is None:
            shown.setdefault(name, message)
            continue
        lines, index, part = line.groups()
        about = f"{part} {message}" if part else message
        if lines == "tenders":
            shown.setdefault(f"tenders[{index}]", about)
        else:
            shown.setdefault("items", f"line {int(index) + 1}: {about}")
    return shown


def refund_body(params, operator) -> dict:
    body = {"refund_no": text_or_none(params.get("refund_no")), "reason": text_or_none(params.get("reason")),
            "operator": operator}
    if params.get("scope") != "all":
        body["amount"] = text_or_none(params.get("amount")) or ""
    return {name: value for name, value in body.items() if value is not None}


def movement_body(params, number_field, *, uses=False) -> dict:
    body = {number_field: text_or_none(params.get(number_field)), "amount": text_or_none(params.get("amount")),
            "tender": text_or_none(params.get("tender")), "reference": text_or_none(params.get("reference"))}
    if uses:
        body["uses"] = whole_number(params.get("uses"))
        body["amount"] = body["amount"] or "0"
    return {name: value for name, value in body.items() if value is not None}


def reward_body(params, *, creating) -> dict:
    """The rewards API's body from the catalogue form: empty optional fields clear the value."""
    body = {"name": text_or_none(params.get("name")), "category": text_or_none(params.get("category")),
            "cost": text_or_none(params.get("cost")), "active": params.get("active") == "on"}
    for name in ("points_price", "stock", "voucher_valid_days"):
        body[name] = whole_number(params.get(name))
    for name in ("available_from", "available_to"):
        body[name] = text_or_none(params.get(name))
    tiers = [code.strip() for code in (params.get("allowed_tiers") or "").split(",") if code.strip()]
    body["allowed_tiers"] = tiers or None
    if creating:
        body["code"] = text_or_none(params.get("code"))
    # Left out rather than null, so a missing one is "required" when creating and unchanged when editing.
    return {name: value for name, value in body.items()
            if value is not None or name not in ("code", "name", "category", "cost")}
