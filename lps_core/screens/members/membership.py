"""The member's paid memberships at the desk (/members/{id}/membership): sell one, renew it, cancel
it with its pro-rata refund, each after the operator ticks the confirmation. The fee is settled at
the outlet chosen with one tender line; the services are lps_core.cards.membership."""
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select

from lps_core.cards import membership
from lps_core.cards.membership_schemas import MembershipCancelIn, MembershipRenewalIn, MembershipSaleIn
from lps_core.cards.models import Card, CardType
from lps_core.cashier.services import tenders_on_at
from lps_core.errors import LpsError, ValidationFailed
from lps_core.members.models import Member
from lps_core.money import format_cents
from lps_core.operators.access import may_write_member
from lps_core.operators.permissions import Permission
from lps_core.screens.desk.outlets import context_of
from lps_core.screens.shared import audit, chosen_outlet, dgettext, flash, form_errors, outlets_in_scope
from lps_core.timeutil import as_utc, utcnow
from lps_core.validation import validate

PAGE = "lps_core.screens.members:templates/membership.pt"


@view_config(route_name="members.membership", request_method="GET", renderer=PAGE,
             permission=Permission.MEMBERS_VIEW)
def membership_screen(request):
    return membership_page(request, _member(request))


@view_config(route_name="members.membership", request_method="POST", renderer=PAGE,
             permission=Permission.CASHIER_SETTLE)
def sell_or_renew(request):
    """Sell the chosen paid membership, or renew the card named, once the operator confirmed."""
    member = _member(request)
    post = request.POST
    card_no = post.get("card_no") or None
    action = "renew" if card_no else "sell"
    try:
        _confirmed(post)
        outlet = chosen_outlet(request, post.get("outlet", ""), field="outlet", required=True,
                               message=dgettext("lps_members", "choose the outlet that takes the fee"))
        db = request.dbsession
        amount = post.get("amount", "") or _fee_of(db, card_no, post.get("card_type", ""))
        body = {"sale_no": post.get("sale_no", ""), "operator": request.identity.username,
                "tenders": [{"kind": post.get("tender", ""), "amount": amount}]}
        if card_no:
            _card_of(request, member, card_no)
            sale = validate(MembershipRenewalIn, body).sale()
            period = membership.renew_membership(db, request.plugins, request.programme, context_of(outlet),
                                                 card_no, sale)
        else:
            body.update(member_id=member.id, card_type=post.get("card_type", ""))
            sale = validate(MembershipSaleIn, body).sale()
            period = membership.sell_membership(db, request.plugins, request.programme, context_of(outlet),
                                                member.id, sale)
    except LpsError as exc:
        return _refused(request, member, action, exc)
    card = request.dbsession.get(Card, period.card_id)
    audit(request, f"membership.{'renewal' if card_no else 'sale'}", ("card", card.card_no),
          after={"sale_no": period.sale_no, "card_type": card.card_type.code, "fee": format_cents(period.fee_cents),
                 "ends_at": period.ends_at.isoformat(), "settlement_id": period.settlement_id},
          outlet_id=outlet.id)
    flash(request, dgettext("lps_members", "Membership renewed.") if card_no
          else dgettext("lps_members", "Membership sold."))
    return HTTPSeeOther(request.route_url("members.membership", id=member.id))


@view_config(route_name="members.membership_cancel", request_method="POST", renderer=PAGE,
             permission=Permission.CASHIER_REFUND)
def cancel(request):
    """Cancel a membership card once confirmed: its unused days refunded to the tenders that paid."""
    member = _member(request)
    card_no = request.matchdict["card_no"]
    try:
        _confirmed(request.POST)
        card = _card_of(request, member, card_no)
        if not may_write_member(request.identity, member.enrolled_outlet_id):
            raise ValidationFailed("enrolled at another outlet", {
                "reason": dgettext("lps_members", "this member's cards are changed by their own outlet's staff")})
        body = validate(MembershipCancelIn, {"reason": request.POST.get("reason", ""),
                                             "operator": request.identity.username})
        cancelled = membership.cancel_membership(request.dbsession, request.plugins, request.programme, card.card_no,
                                                 reason=body.reason, operator=body.operator)
    except LpsError as exc:
        return _refused(request, member, f"cancel:{card_no}", exc)
    audit(request, "membership.cancel", ("card", card_no), before={"status": "active"},
          after={"status": "cancelled", "refund": format_cents(cancelled.refund_cents), "reason": body.reason})
    flash(request, dgettext("lps_members", "Membership cancelled: ${amount} refunded.",
                            mapping={"amount": format_cents(cancelled.refund_cents)}))
    return HTTPSeeOther(request.route_url("members.membership", id=member.id))


def membership_page(request, member, *, failed=None, errors=None, values=None) -> dict:
    """The member's membership cards with their periods and what cancelling now would refund, and the
    forms to sell, renew and cancel."""
    db = request.dbsession
    now, tz = utcnow(), request.programme.timezone
    cards = []
    for card in membership.membership_cards_of_member(db, member.id):
        periods = membership.periods_of_card(db, card.id)
        refund = sum(membership.refund_for(p.fee_cents, p.starts_at, p.ends_at, now, tz) for p in periods
                     if p.status == "paid" and as_utc(p.ends_at) > now)
        cards.append({"card": card, "periods": periods, "refund_now": format_cents(refund),
                      "fee": format_cents(card.card_type.membership_fee_cents),
                      "held": card.status in membership.HELD_STATUSES})
    outlets = outlets_in_scope(request)
    outlet = chosen_outlet(request) or (outlets[0] if outlets else None)
    tenders = tenders_on_at(db, request.plugins, outlet.id) if outlet is not None else []
    types = membership.paid_card_types(db)
    return {"member": member, "cards": cards, "types": types, "outlets": outlets, "outlet": outlet,
            "tenders": tenders, "failed": failed, "errors": errors or {}, "values": values or {},
            "sale_no": f"MS-{now.astimezone(tz):%Y%m%d%H%M%S}", "fee_of": {t.code: format_cents(t.membership_fee_cents)
                                                                       for t in types},
            "may_sell": request.has_permission(Permission.CASHIER_SETTLE),
            "may_cancel": request.has_permission(Permission.CASHIER_REFUND)}


def _fee_of(db, card_no, card_type_code) -> str:
    """The fee a renewal of the card, or a sale of the card type, costs ("" when neither names a paid
    membership: the schema then names the amount)."""
    query = (select(CardType.membership_fee_cents).join(Card, Card.card_type_id == CardType.id)
             .where(Card.card_no == card_no) if card_no else
             select(CardType.membership_fee_cents).where(CardType.code == card_type_code))
    fee = db.scalar(query)
    return format_cents(fee) if fee is not None else ""


def _member(request) -> Member:
    raw = request.matchdict["id"]
    member = request.dbsession.get(Member, int(raw)) if len(raw) < 10 else None
    if member is None:
        raise HTTPNotFound("no such member")
    return member


def _card_of(request, member, card_no) -> Card:
    card = request.dbsession.scalar(select(Card).where(Card.card_no == card_no, Card.member_id == member.id))
    if card is None:
        raise ValidationFailed("not this member's card", {"card_no": dgettext("lps_members", "not this member's card")})
    return card


def _confirmed(post):
    if post.get("confirm") != "1":
        raise ValidationFailed("confirm first", {"confirm": dgettext("lps_members", "tick the box to confirm")})


def _refused(request, member, failed, exc):
    """The page again with the problems beside the fields of the form that failed; nothing was kept."""
    request.response.status = 400 if isinstance(exc, ValidationFailed) else exc.status
    request.tm.doom()
    return membership_page(request, member, failed=failed, errors=form_errors(exc.fields) or {"confirm": exc.message},
                           values=dict(request.POST))
