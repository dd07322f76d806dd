"""The indexes the reports read by (migration 0033 and later). Reports own no table: they read the
features' tables by time, so each table they range over gets an index on its time column, and
settlements one on bill_id, for "a bill no settlement carries". Declared here, on the features'
tables, so that the schema the migrations build equals the models' (tests/test_migrations.py)."""
from sqlalchemy import Index, text

from lps_core.cashier.models import Settlement, SettlementRefund
from lps_core.earning.models import Bill, BillRefund
from lps_core.ledger.models import LedgerEntry
from lps_core.members.models import Member
from lps_core.rewards.models import Redemption

REPORT_INDEXES = (
    Index("ix_settlements_occurred_at", Settlement.__table__.c.occurred_at),
    Index("ix_settlements_bill_id", Settlement.__table__.c.bill_id),
    Index("ix_settlement_refunds_created_at", SettlementRefund.__table__.c.created_at),
    Index("ix_bills_occurred_at", Bill.__table__.c.occurred_at),
    Index("ix_bill_refunds_created_at", BillRefund.__table__.c.created_at),
    # Covering (migration 0042): a period's entries of one account kind are an index-only scan.
    Index("ix_ledger_entries_occurred_at", LedgerEntry.__table__.c.occurred_at,
          postgresql_include=["account_kind", "kind", "amount", "outlet_id", "account_id"]),
    # The debits alone (migration 0049): the points report's breakage counts only them, over a year.
    Index("ix_ledger_entries_debits_occurred_at", LedgerEntry.__table__.c.occurred_at,
          postgresql_include=["account_kind", "kind", "amount"], postgresql_where=text("amount < 0"),
          sqlite_where=text("amount < 0")),
    Index("ix_redemptions_redeemed_at", Redemption.__table__.c.redeemed_at),
    # The members' tiers, ids and statuses (migration 0050): the points report's breakdown by tier
    # and every segment join a million members by them without reading the members' wide rows.
    Index("ix_members_tier_id_id", Member.__table__.c.tier_id, Member.__table__.c.id,
          postgresql_include=["status"]),
)
