"""Partners and franchise stores in the programme: creating one with its outlets, suspending,
reactivating and ending it, its contract versions, and manual adjustments of what it and LPS owe
each other. Every change is audited in the caller's transaction.

Standing moves active -> suspended -> active, and active or suspended -> ended, which is final:
a store that leaves keeps its history (outlets, bills, statements), and its members' points,
which are the member's and not the store's, stay valid at every other outlet. While a partner is
not active its outlets post nothing (lps_core.earning.services.require_posting_outlet).

Contract versions are never changed: new terms are a new version from a later date, and a version
that is not in force yet may be withdrawn (and a corrected one added)."""
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import delete, select

from lps_core.audit.services import record
from lps_core.errors import Conflict, NotFound, Unprocessable
from lps_core.outlets.models import Outlet, Property
from lps_core.outlets.services import save_outlet
from lps_core.partners.models import DIRECTIONS, PartnerAdjustment, PartnerContract
from lps_core.timeutil import utcnow

KINDS = ("partner", "franchise")
ACTIVE, SUSPENDED, ENDED = "active", "suspended", "ended"
STANDINGS = (ACTIVE, SUSPENDED, ENDED)
# What each change of standing may start from.
CHANGES = {"suspend": ((ACTIVE,), SUSPENDED), "reactivate": ((SUSPENDED,), ACTIVE), "end": ((ACTIVE, SUSPENDED), ENDED)}
EXCHANGE = "exchange"  # the component kind of exchange adapters


@dataclass(frozen=True)
class NewOutlet:
    code: str
    name: str
    formula: str
    params: dict


@dataclass(frozen=True)
class NewPartner:
    code: str
    name: str
    kind: str
    joined_on: date | None
    exchange_component: str | None
    outlets: tuple[NewOutlet, ...]


@dataclass(frozen=True)
class Terms:
    effective_from: date
    issue_cost_per_point: Decimal
    redeem_value_per_point: Decimal
    cobrand_share: Decimal
    note: str | None = None


def partner_query():
    return select(Property).where(Property.kind.in_(KINDS))


def get_partner(db, code, *, lock=False) -> Property:
    """The partner or franchise store of `code`; 404 naming `partner` otherwise (a hotel too)."""
    query = partner_query().where(Property.code == code)
    partner = db.scalar(query.with_for_update() if lock else query)
    if partner is None:
        raise NotFound(f"no partner {code!r}", {"partner": "no such partner"})
    return partner


def outlets_of(db, property_id) -> list[Outlet]:
    return list(db.scalars(select(Outlet).where(Outlet.property_id == property_id).order_by(Outlet.code)))


def create_partner(db, plugins, tz, new: NewPartner, *, actor, address=None) -> Property:
    """A partner or franchise store with its outlets, active from `joined_on` (today by default)."""
    if new.kind not in KINDS:
        raise Unprocessable(f"kind must be one of {', '.join(KINDS)}", {"kind": "must be partner or franchise"})
    if db.scalar(select(Property.id).where(Property.code == new.code)) is not None:
        raise Conflict(f"a property {new.code!r} already exists", {"code": "is taken"})
    if new.exchange_component and new.exchange_component not in plugins.of_kind(EXCHANGE):
        raise Unprocessable(f"no installed exchange partner is called {new.exchange_component!r}",
                            {"exchange_component": "no such exchange partner installed"})
    codes = [outlet.code for outlet in new.outlets]
    taken = sorted(set(db.scalars(select(Outlet.code).where(Outlet.code.in_(codes)))))
    repeated = sorted({code for code in codes if codes.count(code) > 1})
    if taken or repeated:
        position = codes.index((taken or repeated)[0])
        raise Conflict(f"outlet code {(taken or repeated)[0]!r} is taken", {f"outlets[{position}].code": "is taken"})
    joined = _start_of(new.joined_on, tz) if new.joined_on else utcnow()
    partner = Property(code=new.code, name=new.name, kind=new.kind, status=ACTIVE, joined_at=joined,
                       exchange_component=new.exchange_component or None)
    db.add(partner)
    db.flush()
    for outlet in new.outlets:
        save_outlet(db, plugins, code=outlet.code, name=outlet.name, property_code=new.code, formula=outlet.formula,
                    params=outlet.params)
    record(db, actor=actor, action="partner.create", target=("property", partner.id), address=address,
           after={"code": new.code, "name": new.name, "kind": new.kind, "exchange_component": new.exchange_component,
                  "outlets": codes})
    return partner


def change_standing(db, code, change, *, reason=None, actor, address=None) -> Property:
    """Suspend, reactivate or end a partner (`change` one of CHANGES); 409 naming `status` when its
    standing does not allow it."""
    allowed_from, to = CHANGES[change]
    partner = get_partner(db, code, lock=True)
    if partner.status not in allowed_from:
        raise Conflict(f"partner {code} is {partner.status}: it cannot be {change}ed" if change != "end"
                       else f"partner {code} has already ended", {"status": f"is {partner.status}"})
    before = partner.status
    partner.status = to
    if to == ENDED:
        partner.ended_at = utcnow()
    db.flush()
    record(db, actor=actor, action=f"partner.{change}", target=("property", partner.id), address=address,
           before={"status": before}, after={"status": to, "reason": reason})
    return partner


# -- contracts ------------------------------------------------------------------------------------

def contracts_of(db, property_id) -> list[PartnerContract]:
    """A partner's contract versions, oldest first."""
    return list(db.scalars(select(PartnerContract).where(PartnerContract.property_id == property_id)
                           .order_by(PartnerContract.effective_from)))


def contract_in_force(contracts, day: date) -> PartnerContract | None:
    """The version in force on `day` among `contracts` (oldest first): the latest from that day or before."""
    in_force = None
    for contract in contracts:
        if contract.effective_from > day:
            break
        in_force = contract
    return in_force


def add_contract(db, code, terms: Terms, today: date, *, actor, address=None) -> PartnerContract:
    """A new version of a partner's terms. The first version may start on any date (it prices the
    postings since then); a later one starts today at the earliest, so that no term in force is ever
    changed after the fact, and not on a day that already has a version (409 naming effective_from)."""
    partner = get_partner(db, code, lock=True)
    existing = contracts_of(db, partner.id)
    if existing and terms.effective_from < today:
        raise Conflict("terms in force cannot change after the fact: a new version starts today or later",
                       {"effective_from": f"must be {today.isoformat()} or later"})
    if any(contract.effective_from == terms.effective_from for contract in existing):
        raise Conflict(f"a version already starts on {terms.effective_from.isoformat()}",
                       {"effective_from": "a version already starts on this date"})
    contract = PartnerContract(property_id=partner.id, effective_from=terms.effective_from,
                               issue_cost_per_point=terms.issue_cost_per_point,
                               redeem_value_per_point=terms.redeem_value_per_point,
                               cobrand_share=terms.cobrand_share, note=terms.note, created_by=actor.name,
                               created_at=utcnow())
    db.add(contract)
    db.flush()
    record(db, actor=actor, action="partner.contract", target=("property", partner.id), address=address,
           after=contract_json(contract))
    return contract


def _pending_contract(db, code, contract_id, today) -> tuple[Property, PartnerContract]:
    partner = get_partner(db, code, lock=True)
    contract = db.scalar(select(PartnerContract).where(PartnerContract.id == contract_id,
                                                       PartnerContract.property_id == partner.id))
    if contract is None:
        raise NotFound(f"partner {code} has no contract version {contract_id}", {"id": "no such contract version"})
    if contract.effective_from <= today:
        raise Conflict(f"the version of {contract.effective_from.isoformat()} is in force: it can never be changed; "
                       "add a new version instead", {"effective_from": "this version is in force"})
    return partner, contract


def withdraw_contract(db, code, contract_id, today: date, *, actor, address=None):
    """Withdraw a version that is not in force yet (409 naming effective_from for one in force)."""
    partner, contract = _pending_contract(db, code, contract_id, today)
    before = contract_json(contract)
    db.execute(delete(PartnerContract).where(PartnerContract.id == contract.id))
    record(db, actor=actor, action="partner.contract_withdraw", target=("property", partner.id), address=address,
           before=before)


def contract_json(contract) -> dict:
    return {"id": contract.id, "effective_from": contract.effective_from.isoformat(),
            "issue_cost_per_point": str(contract.issue_cost_per_point),
            "redeem_value_per_point": str(contract.redeem_value_per_point),
            "cobrand_share": str(contract.cobrand_share), "note": contract.note}


# -- manual adjustments ------------------------------------------------------------------------------

def add_adjustment(db, code, direction, amount: Decimal, reason, *, actor, address=None) -> PartnerAdjustment:
    """A correction of what is owed, with its reason: it goes on the next statement to be closed."""
    if direction not in DIRECTIONS:
        raise Unprocessable("direction must be from_partner or to_partner", {"direction": "unknown direction"})
    partner = get_partner(db, code)
    adjustment = PartnerAdjustment(property_id=partner.id, direction=direction, amount=amount, reason=reason,
                                   created_by=actor.name, created_at=utcnow())
    db.add(adjustment)
    db.flush()
    record(db, actor=actor, action="partner.adjustment", target=("property", partner.id), address=address,
           after={"id": adjustment.id, "direction": direction, "amount": str(amount), "reason": reason})
    return adjustment


def _start_of(day: date, tz) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)
