"""Outlets: the list (search, sort, pages), creating one (HQ only) with its earning formula and
parameters, renaming or moving one, its earning rule versions (add a version), and its receipt
layout. An operator scoped to some outlets sees and edits only those."""
from pyramid.view import view_config
from sqlalchemy import or_, select

from lps_core.screens.config.forms import (
    done, from_local_input, invalid, json_field, optional, outlet_or_404, require_all_outlets,
    shown_json, text, whole_or_text,
)
from lps_core.screens.shared import audit, dgettext, form_errors

from lps_core.earning.rules import BAND_BASES, BAND_PERIODS, ROUNDINGS, add_rule_version, clean_rule, rules_of_outlet
from lps_core.errors import LpsError
from lps_core.members.schemas import filled
from lps_core.operators.permissions import Permission
from lps_core.outlets.models import Outlet, Property
from lps_core.outlets.schemas import NewOutletForm, OutletForm
from lps_core.outlets.services import save_outlet
from lps_core.receipts.schemas import ReceiptLayoutIn
from lps_core.receipts.services import FIELDS as RECEIPT_FIELDS
from lps_core.receipts.services import PAPERS, get_layout, save_layout
from lps_core.screens.shell.lists import paginate
from lps_core.screens.shell.security import require_outlet
from lps_core.validation import validate

SORTS = {"code": Outlet.code, "name": Outlet.name, "property": Property.code}
RECEIPT_FIELD_LABELS = {
    "member": dgettext("lps_config", "Member"), "card": dgettext("lps_config", "Card"),
    "tier": dgettext("lps_config", "Tier"), "items": dgettext("lps_config", "Items"),
    "discount": dgettext("lps_config", "Discount"), "tenders": dgettext("lps_config", "Tenders"),
    "points": dgettext("lps_config", "Points"), "balances": dgettext("lps_config", "Balances"),
    "refunds": dgettext("lps_config", "Refunds"), "signature": dgettext("lps_config", "Signature"),
}


@view_config(route_name="config.outlets", renderer="lps_core.screens.config:templates/outlets.pt",
             permission=Permission.CONFIG_MANAGE)
def list_outlets(request):
    search = {"q": request.params.get("q", "").strip()}
    query = select(Outlet.id, Outlet.code, Outlet.name, Outlet.active, Property.code.label("property")) \
        .join(Property, Property.id == Outlet.property_id)
    if search["q"]:
        pattern = f"%{search['q']}%"
        query = query.where(or_(Outlet.code.ilike(pattern), Outlet.name.ilike(pattern)))
    if not request.identity.all_outlets:
        query = query.where(Outlet.id.in_(sorted(request.identity.outlet_ids)))
    page = paginate(request.dbsession, request, query, SORTS, "code", params=search)
    rules = {row.id: (rules_of_outlet(request.dbsession, row.id) or [None])[-1] for row in page.items}
    return {"page": page, "search": search, "rules": rules}


@view_config(route_name="config.outlet_new", renderer="lps_core.screens.config:templates/outlet_form.pt",
             permission=Permission.CONFIG_MANAGE)
def new_outlet(request):
    require_all_outlets(request)
    form = {"code": "", "name": "", "property": "", "formula": "base_rate", "formula_params": ""}
    errors = {}
    if request.method == "POST":
        form = {name: text(request, name) for name in form}
        params = json_field(request, "formula_params", errors, {})
        try:
            given = validate(NewOutletForm, filled(request.POST, NewOutletForm.model_fields))
        except LpsError as exc:
            errors = {**form_errors(exc.fields), **errors}
        # A code of the right shape is looked up, so a taken one is named with the form's other errors.
        if "code" not in errors and \
                request.dbsession.scalar(select(Outlet.id).where(Outlet.code == form["code"])) is not None:
            errors["code"] = dgettext("lps_config", "is taken")
        if not errors:
            try:
                outlet_id = _save(request, given.model_dump(), params)
            except LpsError as exc:
                errors = form_errors(exc.fields)
            else:
                audit(request, "outlet.create", ("outlet", outlet_id), outlet_id=outlet_id,
                      after={"code": form["code"], "name": form["name"], "property": form["property"],
                             "formula": form["formula"], "formula_params": params})
                return done(request, dgettext("lps_config", "Outlet created."), "config.outlet", code=form["code"])
        invalid(request, errors)
    return _form_page(request, form, errors, outlet=None)


@view_config(route_name="config.outlet", renderer="lps_core.screens.config:templates/outlet_form.pt",
             permission=Permission.CONFIG_MANAGE)
def edit_outlet(request):
    """Rename an outlet or move it to another property; its rules change on the rules page."""
    db = request.dbsession
    outlet = outlet_or_404(request, request.matchdict["code"])
    require_outlet(request, outlet.id)
    current = rules_of_outlet(db, outlet.id)[-1]
    before = {"name": outlet.name, "property": outlet.property.code}
    form = {"code": outlet.code, **before}
    errors = {}
    if request.method == "POST":
        form = {"code": outlet.code, "name": text(request, "name"), "property": text(request, "property")}
        try:
            given = validate(OutletForm, filled(request.POST, OutletForm.model_fields))
            _save(request, {**given.model_dump(), "code": outlet.code, "formula": current.formula},
                  current.formula_params, current.as_json()["bands"])
        except LpsError as exc:
            errors = form_errors(exc.fields)
        if not errors:
            audit(request, "outlet.edit", ("outlet", outlet.id), outlet_id=outlet.id, before=before,
                  after={"name": form["name"], "property": form["property"]})
            return done(request, dgettext("lps_config", "Outlet saved."), "config.outlet", code=outlet.code)
        invalid(request, errors)
    return _form_page(request, form, errors, outlet=outlet, rule=current)


def _save(request, form, params, bands=None) -> int:
    plugins = request.plugins
    outlet_id = save_outlet(request.dbsession, plugins, code=form["code"], name=form["name"],
                            property_code=form["property"], formula=form["formula"], params=params, bands=bands)
    request.programme.rules.forget(outlet_id)
    return outlet_id


def _form_page(request, form, errors, *, outlet, rule=None):
    plugins = request.plugins
    properties = request.dbsession.execute(select(Property.code, Property.name).order_by(Property.code)).all()
    return {"form": form, "errors": errors, "outlet": outlet, "rule": rule, "properties": properties,
            "formulas": sorted(plugins.formulas), "plugins": plugins.plugin_names(), "shown_json": shown_json}


@view_config(route_name="config.rules", renderer="lps_core.screens.config:templates/rules.pt",
             permission=Permission.CONFIG_MANAGE)
def outlet_rules(request):
    """The outlet's rule versions, newest first, and a form for the next one (pre-filled with the
    current one: fields kept the same stay the same)."""
    db = request.dbsession
    outlet = outlet_or_404(request, request.matchdict["code"])
    require_outlet(request, outlet.id)
    versions = rules_of_outlet(db, outlet.id)
    current = versions[-1].as_json()
    form = {**current, "formula_params": shown_json(current["formula_params"]), "bands": shown_json(current["bands"]),
            "max_points_per_bill": current["max_points_per_bill"] or "", "effective_from": "", "note": "",
            "band_period": current["band_period"] or ""}
    errors = {}
    if request.method == "POST":
        form = {name: text(request, name) for name in form}
        timezone = request.programme.timezone
        body = {"formula": form["formula"], "formula_params": json_field(request, "formula_params", errors, {}),
                "bands": json_field(request, "bands", errors, []), "band_basis": form["band_basis"],
                "band_period": optional(request, "band_period"), "rounding": form["rounding"],
                "max_points_per_bill": whole_or_text(form["max_points_per_bill"]),
                "effective_from": from_local_input(form["effective_from"], timezone), "note": optional(request, "note")}
        try:
            clean = clean_rule(request.plugins, body)
        except LpsError as exc:
            errors.update(form_errors(exc.fields))
        if not errors:
            try:
                rule = add_rule_version(db, outlet.id, clean)
            except LpsError as exc:
                errors.update(exc.fields)
            else:
                request.programme.rules.forget(outlet.id)
                audit(request, "outlet.rule_version", ("outlet", outlet.id), outlet_id=outlet.id,
                      before=current, after=rule.as_json())
                return done(request, dgettext("lps_config", "New rule version added."), "config.rules",
                            code=outlet.code)
        invalid(request, errors)
    return {"outlet": outlet, "versions": list(reversed(versions)), "form": form, "errors": errors,
            "formulas": sorted(request.plugins.formulas), "roundings": ROUNDINGS,
            "band_bases": BAND_BASES, "band_periods": BAND_PERIODS, "shown_json": shown_json}


@view_config(route_name="config.receipt", renderer="lps_core.screens.config:templates/receipt_layout.pt",
             permission=Permission.CONFIG_MANAGE)
def receipt_layout(request):
    db = request.dbsession
    outlet = outlet_or_404(request, request.matchdict["code"])
    require_outlet(request, outlet.id)
    templates = request.receipt_templates
    layout = get_layout(db, outlet.id)
    form = layout.as_json()
    errors = {}
    if request.method == "POST":
        form = {"header_text": request.POST.get("header_text", ""), "footer_text": request.POST.get("footer_text", ""),
                "logo": text(request, "logo"), "paper": text(request, "paper"), "template": text(request, "template"),
                "fields": request.POST.getall("fields")}
        try:
            given = {name: value for name, value in form.items() if not isinstance(value, str) or value.strip()}
            saved = save_layout(db, outlet.id, validate(ReceiptLayoutIn, given).layout(templates))
        except LpsError as exc:
            errors = invalid(request, exc.fields)
        else:
            audit(request, "outlet.receipt_layout", ("outlet", outlet.id), outlet_id=outlet.id,
                  before=layout.as_json(), after=saved.as_json())
            return done(request, dgettext("lps_config", "Receipt layout saved."), "config.receipt", code=outlet.code)
    return {"outlet": outlet, "form": form, "errors": errors, "papers": PAPERS, "templates": sorted(templates),
            "receipt_fields": [(name, RECEIPT_FIELD_LABELS.get(name, name)) for name in RECEIPT_FIELDS]}
