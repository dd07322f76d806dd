"""Marketing screens. Views read the form into lps_core.marketing.schemas, call lps_core.marketing
and redirect; a refused form is shown again with the message beside each field and the error's
HTTP status. Every save is audited. A segment is counted when its page opens (set-based SQL)."""
from datetime import datetime

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select

from lps_core.analytics.schemas import QUADRANTS
from lps_core.cards.models import CardType
from lps_core.components import ISettings
from lps_core.errors import Conflict, LpsError
from lps_core.exports import DATE, INTEGER, Column, Table, download, to_csv, to_xlsx
from lps_core.marketing import campaigns as campaign_services
from lps_core.marketing import segments
from lps_core.marketing.models import Campaign, Segment
from lps_core.marketing.results import campaign_results
from lps_core.marketing.schemas import CONSENT_CHANNELS, CampaignIn, SegmentDefinition, SegmentIn
from lps_core.members.models import GENDERS, Tier
from lps_core.operators.permissions import Permission
from lps_core.outlets.models import Outlet
from lps_core.screens.shared import audit, dgettext, flash, form_errors
from lps_core.timeutil import utcnow
from lps_core.validation import validate

TEMPLATES = "lps_core.screens.marketing:templates/"
LIST_FIELDS = ("statuses", "tiers", "card_types", "enrolment_outlets", "birthday_months", "genders",
               "visited_outlets", "rfm_quadrants", "consent")
TEXT_LIST_FIELDS = ("enrolment_channels", "categories")
NUMBER_FIELDS = ("visited_within_days", "absent_days", "window_months", "visits_min", "visits_max")
MONEY_FIELDS = ("spend_min", "spend_max")
EXPORT_LIMIT = 100_000
MANAGE = Permission.PROMOTIONS_MANAGE


def _tz(request):
    return request.registry.getUtility(ISettings).timezone


def _number(value):
    try:
        return int(value)
    except ValueError:
        return value  # the schema names the field


def definition_from_form(params) -> dict:
    """The form's conditions as a definition (blank ones left out)."""
    raw = {}
    for name in LIST_FIELDS:
        values = [value for value in params.getall(name) if value]
        if values:
            raw[name] = [_number(v) for v in values] if name == "birthday_months" else values
    for name in TEXT_LIST_FIELDS:
        values = [part.strip() for part in params.get(name, "").split(",") if part.strip()]
        if values:
            raw[name] = values
    for name in NUMBER_FIELDS:
        if params.get(name, "").strip():
            raw[name] = _number(params[name].strip())
    for name in MONEY_FIELDS:
        if params.get(name, "").strip():
            raw[name] = params[name].strip()
    churn = params.get("churn_risk", "").strip()
    if churn:
        raw["churn_risk"] = {"true": True, "false": False}.get(churn, churn)  # another value: the schema names it
    return raw


def _choices(request) -> dict:
    db = request.dbsession
    return {"tiers": db.scalars(select(Tier).where(Tier.retired_at.is_(None)).order_by(Tier.rank)).all(),
            "card_types": db.scalars(select(CardType).order_by(CardType.code)).all(),
            "outlets": db.scalars(select(Outlet).order_by(Outlet.code)).all(),
            "months": list(range(1, 13)), "genders": GENDERS, "quadrants": QUADRANTS,
            "consent_channels": CONSENT_CHANNELS, "statuses": ("active", "dormant", "suspended")}


def _segment(request) -> Segment:
    segment = request.dbsession.get(Segment, int(request.matchdict["id"]))
    if segment is None:
        raise HTTPNotFound()
    return segment


def _errors(exc: LpsError) -> dict:
    fields = {name.removeprefix("definition."): message for name, message in (exc.fields or {}).items()}
    return form_errors(fields) or {"form": exc.message}


# --- The overview -------------------------------------------------------------------------------

@view_config(route_name="marketing", renderer=TEMPLATES + "overview.pt", permission=MANAGE)
def overview(request):
    db = request.dbsession
    return {"segments": db.scalars(select(Segment).order_by(Segment.name)).all(),
            "campaigns": db.scalars(select(Campaign).order_by(Campaign.id.desc()).limit(100)).all(),
            "segment_names": dict(db.execute(select(Segment.id, Segment.name)).all())}


# --- Segments -----------------------------------------------------------------------------------

def _segment_page(request, segment, form, errors):
    page = {"segment": segment, "form": form, "errors": errors, **_choices(request), "count": None, "preview": []}
    if segment is not None and not errors:
        definition = SegmentDefinition.model_validate(segment.definition)
        now = utcnow()
        page["count"] = segments.count(request.dbsession, definition, now, _tz(request))
        page["preview"] = segments.preview(request.dbsession, definition, now, _tz(request), limit=20)
    return page


def _form_of(segment) -> dict:
    if segment is None:
        return {"statuses": ["active", "dormant"]}
    return {"name": segment.name, "description": segment.description or "", **segment.definition}


@view_config(route_name="marketing.segment_new", renderer=TEMPLATES + "segment.pt", permission=MANAGE)
@view_config(route_name="marketing.segment", renderer=TEMPLATES + "segment.pt", permission=MANAGE)
def segment_page(request):
    segment = _segment(request) if "id" in request.matchdict else None
    if request.method != "POST":
        return _segment_page(request, segment, _form_of(segment), {})
    definition = definition_from_form(request.POST)
    form = {"name": request.POST.get("name", ""), "description": request.POST.get("description", ""), **definition}
    db = request.dbsession
    try:
        body = validate(SegmentIn, {"name": form["name"].strip(), "description": form["description"].strip() or None,
                                    "definition": definition}, message="the form has invalid fields")
        segments.check_definition(db, body.definition)
        taken = db.scalar(select(Segment.id).where(Segment.name == body.name))
        if taken is not None and (segment is None or taken != segment.id):
            raise Conflict("a segment of that name exists", {"name": "is taken"})
    except LpsError as exc:
        request.response.status = exc.status
        return _segment_page(request, segment, form, _errors(exc))
    saved = body.definition.stored()
    before = None if segment is None else {"name": segment.name, "definition": segment.definition}
    if segment is None:
        segment = Segment(created_by=request.identity.username, created_at=utcnow())
        db.add(segment)
    segment.name, segment.description, segment.definition, segment.updated_at = (
        body.name, body.description, saved, utcnow())
    db.flush()
    audit(request, "segment.save", ("segment", segment.id), before=before,
          after={"name": segment.name, "definition": saved})
    flash(request, dgettext("lps_marketing", "The segment is saved."))
    return HTTPSeeOther(request.route_url("marketing.segment", id=segment.id))


@view_config(route_name="marketing.segment_export", permission=MANAGE)
def segment_export(request):
    """The segment's members now (id, name, tier, status, last visit), as CSV or XLSX."""
    segment = _segment(request)
    definition = SegmentDefinition.model_validate(segment.definition)
    tz = _tz(request)
    rows = segments.preview(request.dbsession, definition, utcnow(), tz, limit=EXPORT_LIMIT)
    for row in rows:
        row["last_visit"] = row["last_visit"].astimezone(tz).date() if row["last_visit"] else None
    table = Table(segment.name, [Column("id", "Member", INTEGER), Column("name", "Name"), Column("tier", "Tier"),
                                 Column("status", "Status"), Column("last_visit", "Last visit", DATE)], rows)
    format_ = "xlsx" if request.params.get("format") == "xlsx" else "csv"
    return download(to_csv([table]) if format_ == "csv" else to_xlsx([table]),
                    f"segment-{segment.id}-{datetime.now(tz).date().isoformat()}", format_)


# --- Campaigns ----------------------------------------------------------------------------------

def _campaign_form(params) -> dict:
    raw = {name: params.get(name, "").strip() for name in ("name", "segment_id", "subject", "body", "send_at",
                                                            "control_percent", "bonus_points", "coupon_type_code")}
    raw["channels"] = [value for value in params.getall("channels") if value]
    return raw


def _campaign_input(raw, tz) -> dict:
    data = {"name": raw["name"], "segment_id": _number(raw["segment_id"]) if raw["segment_id"] else None,
            "subject": raw["subject"], "body": raw["body"].replace("\r\n", "\n"),
            "control_percent": _number(raw["control_percent"] or "0"), "bonus_points": _number(raw["bonus_points"] or "0")}
    if raw["channels"]:
        data["channels"] = raw["channels"]
    if raw["coupon_type_code"]:
        data["coupon_type_code"] = raw["coupon_type_code"]
    if raw["send_at"]:
        try:
            data["send_at"] = datetime.fromisoformat(raw["send_at"]).replace(tzinfo=tz).isoformat()
        except ValueError:
            data["send_at"] = raw["send_at"]
    return data


@view_config(route_name="marketing.campaign_new", renderer=TEMPLATES + "campaign_new.pt", permission=MANAGE)
def campaign_new(request):
    db = request.dbsession
    page = {"segments": db.scalars(select(Segment).order_by(Segment.name)).all(), "errors": {},
            "coupons": campaign_services.coupons_available(),
            "form": {"segment_id": request.params.get("segment", ""), "control_percent": "10", "bonus_points": "0",
                     "channels": []}}
    if request.method != "POST":
        return page
    raw = _campaign_form(request.POST)
    page["form"] = raw
    try:
        body = validate(CampaignIn, _campaign_input(raw, _tz(request)), message="the form has invalid fields")
        campaign = campaign_services.create_campaign(db, body, by=request.identity.username)
    except LpsError as exc:
        request.response.status = exc.status
        page["errors"] = form_errors(exc.fields or {}) or {"form": exc.message}
        return page
    audit(request, "campaign.save", ("campaign", campaign.id), after=body.model_dump(mode="json"))
    flash(request, dgettext("lps_marketing", "The campaign is saved."))
    return HTTPSeeOther(request.route_url("marketing.campaign", id=campaign.id))


@view_config(route_name="marketing.campaign", renderer=TEMPLATES + "campaign.pt", permission=MANAGE)
def campaign_page(request):
    db = request.dbsession
    campaign = db.get(Campaign, int(request.matchdict["id"]))
    if campaign is None:
        raise HTTPNotFound()
    errors = {}
    if request.method == "POST":
        action, before = request.POST.get("action"), {"status": campaign.status}
        try:
            if action == "schedule":
                raw = request.POST.get("send_at", "").strip()
                when = datetime.fromisoformat(raw).replace(tzinfo=_tz(request)) if raw else None
                campaign_services.schedule(db, campaign, when)
            elif action == "cancel":
                campaign_services.cancel(db, campaign)
            else:
                raise HTTPNotFound()
        except ValueError:
            errors = {"send_at": "must be a date and time"}
            request.response.status = 400
        except LpsError as exc:
            request.response.status = exc.status
            errors = {"form": exc.message}
        if not errors:
            audit(request, f"campaign.{action}", ("campaign", campaign.id), before=before,
                  after={"status": campaign.status})
            return HTTPSeeOther(request.route_url("marketing.campaign", id=campaign.id))
    return {"campaign": campaign, "segment": db.get(Segment, campaign.segment_id), "errors": errors,
            "results": campaign_results(db, campaign.id), "tz": _tz(request)}
