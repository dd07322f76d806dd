"""An outlet's thermal receipt printer: how it is reached (network, serial, USB), its paper and
whether receipts print on settlement; and removing it. Every change is audited."""
from pyramid.view import view_config

from lps_core.errors import LpsError
from lps_core.operators.permissions import Permission
from lps_core.receipts.printers import CONNECTIONS, get_printer, remove_printer, save_printer
from lps_core.receipts.schemas import BAUDRATES, ReceiptPrinterIn
from lps_core.receipts.thermal import PAPERS
from lps_core.screens.config.forms import done, invalid, outlet_or_404, text
from lps_core.screens.shared import audit, dgettext
from lps_core.screens.shell.security import require_outlet
from lps_core.validation import validate

def audited(printer) -> dict | None:
    """The printer as the audit log keeps it: its address under `device`, since the log hides every
    value named `address` as a member's personal data."""
    if printer is None:
        return None
    shown = printer.as_json()
    shown["device"] = shown.pop("address")
    return shown


EMPTY = {"connection": "network", "address": "", "paper": "80mm", "baudrate": None, "auto_print": False}


@view_config(route_name="config.receipt_printer", renderer="lps_core.screens.config:templates/receipt_printer.pt",
             permission=Permission.CONFIG_MANAGE)
def receipt_printer(request):
    db = request.dbsession
    outlet = outlet_or_404(request, request.matchdict["code"])
    require_outlet(request, outlet.id)
    printer = get_printer(db, outlet.id)
    form, errors = printer.as_json() if printer is not None else dict(EMPTY), {}
    if request.method == "POST" and request.POST.get("action") == "remove":
        if remove_printer(db, outlet.id):
            audit(request, "outlet.receipt_printer", ("outlet", outlet.id), outlet_id=outlet.id,
                  before=audited(printer), after=None)
        return done(request, dgettext("lps_config", "Receipt printer removed."), "config.receipt_printer",
                    code=outlet.code)
    if request.method == "POST":
        form = {"connection": text(request, "connection"), "address": text(request, "address"),
                "paper": text(request, "paper"), "baudrate": text(request, "baudrate") or None,
                "auto_print": request.POST.get("auto_print") == "on"}
        try:
            saved = save_printer(db, outlet.id, validate(ReceiptPrinterIn, form).printer())
        except LpsError as exc:
            errors = invalid(request, exc.fields)
        else:
            audit(request, "outlet.receipt_printer", ("outlet", outlet.id), outlet_id=outlet.id,
                  before=audited(printer), after=audited(saved))
            return done(request, dgettext("lps_config", "Receipt printer saved."), "config.receipt_printer",
                        code=outlet.code)
    return {"outlet": outlet, "form": form, "errors": errors, "configured": printer is not None,
            "connections": CONNECTIONS, "papers": PAPERS, "baudrates": BAUDRATES}
