"""Texts that the desk's Python code shows (flash messages, look-up answers), in the lps_cashier
domain. They are written as dgettext("lps_cashier", ...) so that lingua files them under this
domain only, while plain _() calls are extracted into every domain's catalog."""
from decimal import Decimal

from pyramid.i18n import TranslationString


def dgettext(domain, msgid) -> TranslationString:
    return TranslationString(msgid, domain=domain)


def cents_of(amount: str | None) -> int | None:
    """Cents from the decimal strings of the settlement document and look-up ("12.34")."""
    return None if amount is None else int(Decimal(amount) * 100)
