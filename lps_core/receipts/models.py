"""Receipt layouts (one per outlet, optional) and the record of every receipt printed."""
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lps_core.db.meta import Base


class ReceiptLayout(Base):
    """How an outlet's receipts look. Staff choose among registered templates and fill in plain
    text; they never write template code. An outlet without a row uses the defaults."""

    __tablename__ = "receipt_layouts"
    __table_args__ = (CheckConstraint("paper IN ('80mm', 'a4')", name="paper"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), unique=True)
    header_text: Mapped[str | None] = mapped_column(Text)
    footer_text: Mapped[str | None] = mapped_column(Text)
    logo: Mapped[str | None] = mapped_column(Text)  # an http(s) URL or a data: URI of an image
    paper: Mapped[str] = mapped_column(String(8))
    template: Mapped[str] = mapped_column(String(64))
    fields: Mapped[list] = mapped_column(JSON)  # the parts shown, e.g. ["member", "card", "items"]
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReceiptPrint(Base):
    """One receipt handed out: copy_no 0 is the original, 1, 2... the reprints marked COPY.

    A print belongs to one document: `document` names its kind (lps_core.receipts.documents.KINDS:
    a settlement, an earn-only bill, a card movement, a redemption or a refund) and `document_id`
    its row. A settlement's print also keeps settlement_id, the foreign key it always had."""

    __tablename__ = "receipt_prints"
    __table_args__ = (
        UniqueConstraint("document", "document_id", "copy_no", name="uq_receipt_prints_document_copy_no"),
        CheckConstraint("copy_no >= 0", name="copy_no"),
        CheckConstraint("(document = 'settlement') = (settlement_id IS NOT NULL)", name="settlement_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document: Mapped[str] = mapped_column(String(24), server_default="settlement")
    document_id: Mapped[int]
    settlement_id: Mapped[int | None] = mapped_column(ForeignKey("settlements.id"))
    copy_no: Mapped[int]
    paper: Mapped[str] = mapped_column(String(8))
    template: Mapped[str] = mapped_column(String(64))
    printed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    @property
    def is_copy(self) -> bool:
        return self.copy_no > 0


class ReceiptPrinter(Base):
    """An outlet's thermal receipt printer (ESC/POS): how it is reached and on what paper.

    connection 'network': `address` is host:port (a printer's raw port is usually 9100); 'serial':
    a device (/dev/ttyUSB0, COM3) or a pyserial URL, at `baudrate`; 'usb': vendor:product in hex
    (04b8:0202). With `auto_print`, the cashier's screen prints the receipt as soon as a bill is settled."""

    __tablename__ = "receipt_printers"
    __table_args__ = (
        CheckConstraint("connection IN ('network', 'serial', 'usb')", name="connection"),
        CheckConstraint("paper IN ('58mm', '80mm')", name="paper"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), unique=True)
    connection: Mapped[str] = mapped_column(String(8))
    address: Mapped[str] = mapped_column(String(200))
    baudrate: Mapped[int | None]
    paper: Mapped[str] = mapped_column(String(8))
    auto_print: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
