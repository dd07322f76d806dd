"""Outlets' thermal receipt printers: their settings, and printing a settlement's receipt on one.

The printer is reached through python-escpos: over the network (the printer's raw port), a serial
line, or USB (which needs pyusb and a device on the server; the tests cannot reach one, so USB is
the one connection they do not exercise). A print is recorded only once the printer has taken the
whole receipt, so a printer that is off or out of reach leaves no original behind that never came
out: the cashier fixes the printer and prints again, and that print is still the original."""
import logging
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, update

from lps_core.errors import NotFound, ServiceUnavailable
from lps_core.receipts.models import ReceiptPrint, ReceiptPrinter
from lps_core.receipts.services import get_layout, settlement_outlet
from lps_core.receipts.thermal import escpos_bytes, logo_image, receipt_lines
from lps_core.timeutil import utcnow

log = logging.getLogger(__name__)

CONNECTIONS = ("network", "serial", "usb")
TEMPLATE = "escpos"  # the template name recorded for a thermal print
TIMEOUT_SECONDS = 5  # how long a print waits for the printer; the settlement row stays locked meanwhile


@dataclass(frozen=True)
class PrinterSettings:
    connection: str
    address: str
    paper: str = "80mm"
    baudrate: int | None = None
    auto_print: bool = False

    def as_json(self) -> dict:
        return {"connection": self.connection, "address": self.address, "paper": self.paper,
                "baudrate": self.baudrate, "auto_print": self.auto_print}


@dataclass(frozen=True)
class ThermalPrint:
    copy_no: int
    paper: str
    size: int  # bytes sent


def get_printer(db, outlet_id) -> PrinterSettings | None:
    row = db.scalar(select(ReceiptPrinter).where(ReceiptPrinter.outlet_id == outlet_id))
    if row is None:
        return None
    return PrinterSettings(row.connection, row.address, row.paper, row.baudrate, row.auto_print)


def save_printer(db, outlet_id, printer: PrinterSettings) -> PrinterSettings:
    values = {"connection": printer.connection, "address": printer.address, "paper": printer.paper,
              "baudrate": printer.baudrate, "auto_print": printer.auto_print, "updated_at": utcnow()}
    if db.scalar(select(ReceiptPrinter.id).where(ReceiptPrinter.outlet_id == outlet_id)) is None:
        db.execute(insert(ReceiptPrinter).values(outlet_id=outlet_id, **values))
    else:
        db.execute(update(ReceiptPrinter).where(ReceiptPrinter.outlet_id == outlet_id).values(**values))
    return printer


def remove_printer(db, outlet_id) -> bool:
    return db.execute(delete(ReceiptPrinter).where(ReceiptPrinter.outlet_id == outlet_id)).rowcount > 0


def open_printer(printer: PrinterSettings, timeout=TIMEOUT_SECONDS):
    """A python-escpos printer for the settings, opened."""
    if printer.connection == "network":
        from escpos.printer import Network

        host, _, port = printer.address.rpartition(":")
        device = Network(host, int(port), timeout=timeout)
    elif printer.connection == "serial":
        from escpos.printer import Serial

        device = Serial(printer.address, baudrate=printer.baudrate or 9600, timeout=timeout)
    else:
        from escpos.printer import Usb

        vendor, product = (int(part, 16) for part in printer.address.split(":"))
        device = Usb(vendor, product, timeout=int(timeout * 1000))
    device.open()
    return device


def send(printer: PrinterSettings, data: bytes, timeout=TIMEOUT_SECONDS) -> None:
    """Send the whole command stream to the printer, or raise ServiceUnavailable (503) naming it."""
    device = None
    try:
        device = open_printer(printer, timeout)
        device._raw(data)
    except Exception as exc:  # python-escpos, pyserial, pyusb and sockets each raise their own
        log.warning("receipt printer %s %s failed: %s", printer.connection, printer.address, exc)
        raise ServiceUnavailable(f"the receipt printer ({printer.connection} {printer.address}) cannot be reached: "
                                 f"check that it is on and connected, then print again",
                                 {"printer": "unreachable"}) from exc
    finally:
        if device is not None:
            try:
                device.close()
            except Exception:  # closing a connection that broke while printing
                log.debug("closing the receipt printer failed", exc_info=True)


def print_on_printer(db, settlement_id, outlet, *, time_zone, translate=None) -> ThermalPrint:
    """Print the settlement's receipt on its outlet's printer, and record the print (the first is
    the original, later ones are marked COPY), in the caller's transaction. The settlement row is
    locked first, so two tills never both print an original."""
    from lps_core.cashier.documents import settlement_document

    outlet_id = settlement_outlet(db, settlement_id, outlet, lock=True)
    printer = get_printer(db, outlet_id)
    if printer is None:
        raise NotFound(f"outlet {outlet.code} has no receipt printer", {"printer": "none configured for the outlet"})
    layout = get_layout(db, outlet_id)
    copy_no = db.scalar(select(func.count()).select_from(ReceiptPrint)
                        .where(ReceiptPrint.settlement_id == settlement_id))
    lines = receipt_lines(settlement_document(db, settlement_id), layout, paper=printer.paper, copy_no=copy_no,
                          time_zone=time_zone, translate=translate)
    data = escpos_bytes(lines, paper=printer.paper, logo=logo_image(layout.logo, printer.paper))
    send(printer, data)
    db.execute(insert(ReceiptPrint).values(document="settlement", document_id=settlement_id,
                                           settlement_id=settlement_id, copy_no=copy_no, paper=printer.paper,
                                           template=TEMPLATE, printed_at=utcnow()))
    return ThermalPrint(copy_no, printer.paper, len(data))
