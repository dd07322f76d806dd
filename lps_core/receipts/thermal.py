"""Receipts for thermal printers: the settlement document laid out in columns for 58 or 80 mm paper
and turned into ESC/POS commands with python-escpos.

Chinese printers read text in GB18030: the receipt switches the printer to Chinese character mode
(FS &) once, then sends every line encoded in GB18030, which carries ASCII unchanged. A Chinese
character takes two columns, so lines are measured in columns, not in characters. The labels are
the HTML receipt's, from the same catalog (lps_receipts), in the language of whoever prints.

A bill that needs a signature (one charged to a credit account, which the guest signs for) ends with
a signature line when the layout shows signatures."""
import base64
import binascii
import io
import unicodedata
from dataclasses import dataclass

from escpos.printer import Dummy

from lps_core.receipts.services import Layout, local_time, mask_card_no

PAPERS = ("58mm", "80mm")
COLUMNS = {"58mm": 32, "80mm": 48}  # font A, 12 x 24 dots
LOGO_DOTS = {"58mm": 384, "80mm": 512}  # the printable width, in dots, that a logo is scaled to fit
CHINESE_MODE = b"\x1c\x26"  # FS &: the printer reads two-byte GB18030 characters from here on
ENCODING = "gb18030"
SIGNED_TENDERS = ("credit",)
TENDER_LABELS = {"stored_value": "Stored value", "credit": "Credit account", "uses": "Card use", "cash": "Cash",
                 "bank_card": "Bank card", "voucher": "Voucher", "other": "Other"}
BALANCE_LABELS = {"points": "Points", "stored_value": "Stored value", "bonus_value": "Bonus value",
                  "uses": "Uses left", "credit_used": "Credit used", "credit_limit": "Credit limit",
                  "credit_left": "Credit left"}


@dataclass(frozen=True)
class Line:
    text: str = ""
    align: str = "left"
    bold: bool = False
    large: bool = False  # double width and height: the amount to pay, the COPY mark


def columns_of(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def cut_to(text: str, columns: int) -> str:
    taken, used = [], 0
    for char in text:
        used += columns_of(char)
        if used > columns:
            break
        taken.append(char)
    return "".join(taken)


def wrapped(text: str, columns: int) -> list[str]:
    """`text` broken into lines of at most `columns` columns (a word longer than a line is cut)."""
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if columns_of(candidate) <= columns:
            line = candidate
            continue
        if line:
            lines.append(line)
        while columns_of(word) > columns:
            head = cut_to(word, columns)
            lines.append(head)
            word = word[len(head):]
        line = word
    if line or not lines:
        lines.append(line)
    return lines


def pair(label: str, value: str, columns: int) -> list[str]:
    """The label on the left and the value right-aligned on one line, or on two when they do not fit."""
    space = columns - columns_of(label) - columns_of(value)
    if space >= 1:
        return [label + " " * space + value]
    return wrapped(label, columns) + [" " * max(columns - columns_of(value), 0) + cut_to(value, columns)]


def receipt_lines(document, layout: Layout, *, paper, copy_no, time_zone, translate=None) -> list[Line]:
    """The receipt as lines of text for `paper` (58mm or 80mm): the parts and labels of the HTML
    receipt, in the same order."""
    width = COLUMNS[paper]
    show = set(layout.fields).__contains__

    def t(msgid, **mapping):
        if translate is None:
            text = msgid
        else:
            text = translate(msgid, domain="lps_receipts", mapping=mapping or None, default=msgid)
        for name, value in mapping.items():
            text = text.replace("${" + name + "}", str(value))
        return text

    def pairs(label, value, **style):
        return [Line(text, **style) for text in pair(label, value, width)]

    rule = Line("-" * width)
    lines = [Line(text, "center") for header in (layout.header_text or "").splitlines()
             for text in wrapped(header, width)]
    lines += [Line(text, "center", bold=True) for text in wrapped(document["outlet"]["name"], width)]
    lines += [Line(text, "center") for text in wrapped(document["property"]["name"], width)]
    if copy_no:
        lines += [Line(t("COPY"), "center", bold=True, large=True),
                  Line(t("(copy ${number})", number=copy_no), "center")]
    lines.append(rule)
    lines += pairs(t("Bill no."), document["bill_no"])
    lines += pairs(t("Time"), local_time(document["occurred_at"], time_zone))
    if document.get("operator"):
        lines += pairs(t("Cashier"), document["operator"])
    if show("member") and document.get("member"):
        lines += pairs(t("Member"), document["member"]["name"])
    if show("card") and document.get("card"):
        lines += pairs(t("Card"), mask_card_no(document["card"]["card_no"]))
    if show("tier") and document.get("tier"):
        lines += pairs(t("Tier"), document["tier"]["name"])
    if show("items") and document.get("items"):
        lines.append(rule)
        for item in document["items"]:
            name = item.get("sku") or item.get("category") or t("Item")
            lines += [Line(text) for text in wrapped(name, width)]
            lines += pairs("  " + t("Qty ${qty}", qty=item["qty"]), item["charged"])
    lines.append(rule)
    lines += pairs(t("Total"), document["gross"])
    if show("discount") and document["discount"] != "0.00":
        lines += pairs(t("Discount"), "-" + document["discount"])
    lines += [Line(text, bold=True, large=True) for text in pair(t("To pay"), document["charged"], width // 2)]
    if show("tenders") and document.get("tenders"):
        lines += [rule, Line(t("Paid with"), bold=True)]
        for tender in document["tenders"]:
            label = t(TENDER_LABELS[tender["kind"]]) if tender["kind"] in TENDER_LABELS else tender["kind"]
            if tender.get("reference"):
                label += " " + tender["reference"]
            lines += pairs(label, tender["amount"])
    if show("points") and document.get("member"):
        lines.append(Line(t("Points earned: ${points}", points=document["points"])))
    balances = [(kind, value) for kind, value in (document.get("balances") or {}).items() if value is not None]
    if show("balances") and balances:
        lines += [rule, Line(t("Balances after this bill"), bold=True)]
        for kind, value in balances:
            lines += pairs(t(BALANCE_LABELS[kind]) if kind in BALANCE_LABELS else kind, str(value))
    if show("refunds") and document.get("refunds"):
        lines += [rule, Line(t("Refunds"), bold=True)]
        for refund in document["refunds"]:
            lines += pairs(refund["refund_no"], "-" + refund["amount"])
    if show("signature") and any(tender["kind"] in SIGNED_TENDERS for tender in document.get("tenders") or ()):
        lines += [Line(), Line(), Line(cut_to(t("Signature:") + " " + "_" * width, width))]
    footer = [Line(text, "center") for text in (layout.footer_text or "").splitlines() for text in wrapped(text, width)]
    if footer:
        lines += [rule] + footer
    return lines


def document_lines(parts, layout: Layout, *, paper, copy_no, outlet, property_name, translate=None) -> list[Line]:
    """The receipt of a document other than a settlement (its lps_core.receipts.parts.Parts) as lines
    for `paper`: the settlement receipt's header, COPY mark and footer around the same parts, in the
    same order, as the HTML receipt."""
    width = COLUMNS[paper]
    rule = Line("-" * width)

    def pairs(label, value, **style):
        return [Line(text, **style) for text in pair(label, value, width)]

    lines = [Line(text, "center") for header in (layout.header_text or "").splitlines()
             for text in wrapped(header, width)]
    lines += [Line(text, "center", bold=True) for text in wrapped(outlet, width)]
    lines += [Line(text, "center") for text in wrapped(property_name, width)]
    if copy_no:
        t = translate or (lambda msgid, **kw: msgid)
        lines += [Line(t("COPY", domain="lps_receipts", default="COPY"), "center", bold=True, large=True),
                  Line(t("(copy ${number})", domain="lps_receipts", mapping={"number": copy_no},
                         default="(copy ${number})").replace("${number}", str(copy_no)), "center")]
    lines += [rule] + [Line(text, "center", bold=True) for text in wrapped(parts.title, width)] + [rule]
    for label, value in parts.reference:
        lines += pairs(label, value)
    for section in parts.sections:
        lines.append(rule)
        if section.caption:
            lines.append(Line(section.caption, bold=True))
        for label, value in section.rows:
            lines += pairs(label, value)
    if parts.total:
        lines += [rule] + [Line(text, bold=True, large=True) for text in pair(*parts.total, width // 2)]
    if parts.note:
        lines += [Line(text) for text in wrapped(parts.note, width)]
    footer = [Line(text, "center") for text in (layout.footer_text or "").splitlines() for text in wrapped(text, width)]
    if footer:
        lines += [rule] + footer
    return lines


def logo_image(logo: str | None, paper: str):
    """The layout's logo as a picture for the printer, if it is a data: URI of an image; a logo at
    an http(s) address is not fetched (the server does not reach out to print), so it is left out."""
    if not logo or not logo.startswith("data:image/") or ";base64," not in logo:
        return None
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(base64.b64decode(logo.split(",", 1)[1], validate=True)))
        image.load()
    except (binascii.Error, UnidentifiedImageError, OSError, ValueError):
        return None
    image = image.convert("L")
    if image.width > LOGO_DOTS[paper]:
        image = image.resize((LOGO_DOTS[paper], max(1, image.height * LOGO_DOTS[paper] // image.width)))
    return image


def escpos_bytes(lines: list[Line], *, paper: str, logo=None) -> bytes:
    """The ESC/POS command stream of a receipt: initialise, Chinese mode, the logo, the lines, feed and cut."""
    printer = Dummy()
    printer.hw("INIT")
    printer._raw(CHINESE_MODE)
    if logo is not None:
        printer.set(align="center")
        printer.image(logo, center=False)
    style = None
    for line in lines:
        if (line.align, line.bold, line.large) != style:  # a style is sent only when it changes
            style = (line.align, line.bold, line.large)
            printer.set(align=line.align, bold=line.bold, double_width=line.large, double_height=line.large,
                        normal_textsize=not line.large)
        printer._raw(line.text.encode(ENCODING) + b"\n")
    printer.set(align="left", bold=False, normal_textsize=True)
    printer.cut()
    return printer.output
