"""Imports every feature's models so that the metadata (for Alembic and the ledger check) is complete."""
from lps_core.apikeys.models import ApiKey  # noqa: F401
from lps_core.audit.models import AuditEntry  # noqa: F401
from lps_core.cards.models import Card, CardNumberCounter, CardType  # noqa: F401
from lps_core.cashier.models import Settlement, SettlementRefund, SettlementTender  # noqa: F401
from lps_core.db.meta import Base  # noqa: F401
from lps_core.earning.models import Bill, BillRefund, EarningRule, Promotion, PromotionAward  # noqa: F401
from lps_core.exchange.models import PointTransfer  # noqa: F401
from lps_core.expiry.models import ExpiryRun, ExpiryWarning  # noqa: F401
from lps_core.ledger.models import Account, LedgerEntry, LotAllocation, PointLot  # noqa: F401
from lps_core.members.models import ContactLogEntry, FamilyMember, Member, MemberPreference, Tier  # noqa: F401
from lps_core.messages.models import MessageConsent, MessageTemplate, OutboxMessage  # noqa: F401
from lps_core.operators.models import LoginFailure, Operator, OperatorScope  # noqa: F401
from lps_core.outlets.models import Outlet, Property  # noqa: F401
from lps_core.receipts.models import ReceiptLayout, ReceiptPrint, ReceiptPrinter  # noqa: F401
from lps_core.rewards.models import Redemption, Reward  # noqa: F401
from lps_core.tiers.models import MemberActivity, TierChange, TierEvaluation  # noqa: F401
from lps_core.vouchers.models import Voucher  # noqa: F401
from lps_core.plugins.models import PluginSwitch  # noqa: F401
from lps_core.appeals.models import Appeal  # noqa: F401
from lps_core.portal.models import MemberCredential, PortalCode, PortalFailure, PortalSession  # noqa: F401
from lps_core.sms.models import SmsInbound  # noqa: F401
from lps_core.birthdays.models import BirthdayGreeting  # noqa: F401
from lps_core.partners.models import PartnerBenefitCost, PartnerContract  # noqa: F401
from lps_core.bulk.models import ImportBatch, ImportRow  # noqa: F401
from lps_core.webhooks.models import WebhookDelivery, WebhookEndpoint  # noqa: F401
from lps_core.website.models import PortalHandover, WebsiteSignUp  # noqa: F401
from lps_core.reports.models import REPORT_INDEXES  # noqa: F401
from lps_core.terminals.models import Terminal, TerminalOperator, TerminalSwipe  # noqa: F401
from lps_core.analytics.regions import MemberRegion  # noqa: F401  (with the listener that keeps it current)
from lps_core.analytics.models import RfmScore, RfmScoring  # noqa: F401
from lps_core.marketing.models import Campaign, CampaignMember, Segment  # noqa: F401
from lps_core.coupons.models import Coupon, CouponRedemption, CouponType  # noqa: F401
