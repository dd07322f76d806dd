"""The plugin contract: the only part of LPS that a plugin imports.

    from lps_core.contract import hookimpl, IEarningFormula, EarningResult, format_cents

It holds the hook specifications, the interfaces that what a plugin provides must implement
(verified at start-up), the value types that cross the boundary, the settings declarations and the
shared parameter parsers. Everything else in lps_core may change between releases; this may not
without a note in the changelog. docs/plugins.md documents each hook.
"""
from lps_core.contract.drivers import CardRead, ICardReader, ICardReaderDriver, IDeviceSimulator, Misread, TagRead
from lps_core.contract.earning import BillInput, BillLine, BillPosted, BillRefunded, EarningResult, IEarningFormula
from lps_core.contract.exchange import (
    IN,
    OUT,
    ExchangeFailure,
    ExchangeSettings,
    IPointExchange,
    Mismatch,
    PermanentFailure,
    Quote,
    StatementLine,
    TemporaryFailure,
    Transfer,
    TransferReceipt,
    UnknownOutcome,
)
from lps_core.contract.hookspecs import hookimpl, hookspec
from lps_core.contract.messages import DELIVERED, PERMANENT, TEMPORARY, DeliveryResult, INotificationChannel, Message
from lps_core.contract.params import (
    format_cents,
    luhn_check_digit,
    luhn_valid,
    parse_amount,
    parse_positive_int,
    parse_rate,
)
from lps_core.contract.pinpad import IPinPad, IPinPadDriver, IPinPadSimulator, PinBlock, PinNotEntered
from lps_core.contract.promotions import IMemberFacts, IPromotion, IPromotionKind, MemberContext, PromotionContext
from lps_core.contract.settings import OutletSettings, ProgrammeSettings, SettingsDeclaration
from lps_core.contract.tenders import ITender, SettledTender, TakenTender, TenderContext, TenderLine, TenderRefused
from lps_core.contract.tiers import ISetBasedTierModel, ITierModel

__all__ = [
    "BillInput", "BillLine", "BillPosted", "BillRefunded", "CardRead", "DELIVERED", "DeliveryResult", "EarningResult",
    "ExchangeFailure", "ExchangeSettings", "IN", "ICardReader", "ICardReaderDriver", "IDeviceSimulator", "IEarningFormula",
    "IMemberFacts", "INotificationChannel", "IPinPad", "IPinPadDriver", "IPinPadSimulator", "IPointExchange",
    "IPromotion", "IPromotionKind", "ISetBasedTierModel",
    "ITender", "ITierModel", "MemberContext", "Message", "Misread", "Mismatch", "OUT", "OutletSettings", "PERMANENT",
    "PermanentFailure", "PinBlock", "PinNotEntered", "ProgrammeSettings",
    "PromotionContext", "Quote", "SettingsDeclaration", "SettledTender", "StatementLine", "TEMPORARY", "TakenTender",
    "TagRead", "TemporaryFailure", "TenderContext", "TenderLine", "TenderRefused", "Transfer", "TransferReceipt",
    "UnknownOutcome", "format_cents", "hookimpl", "hookspec", "luhn_check_digit", "luhn_valid", "parse_amount",
    "parse_positive_int", "parse_rate",
]
