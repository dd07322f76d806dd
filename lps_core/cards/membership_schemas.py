"""Input schemas of paid membership (lps_core.cards.membership): a sale, a renewal and a
cancellation, shared by the API and the member page. Apart from lps_core.cards.schemas because the
tenders are the cashier's (lps_core.cashier.schemas), which build on the card schemas."""
from lps_core.cards.membership import MembershipSale
from lps_core.cards.schemas import Pin
from lps_core.cashier.schemas import MAX_TENDERS, TenderIn
from lps_core.validation import Body, Code, Field, Id, Text

SaleNo = Text(40, description="The till's number for this sale or renewal: a retry with the same number "
                              "and content replays it")


class MembershipRenewalIn(Body):
    """A renewal: its fee, the card type's current one, paid with the tenders."""

    sale_no: SaleNo
    tenders: list[TenderIn] = Field(min_length=1, max_length=MAX_TENDERS)
    pin: Pin | None = Field(None, description="Needed when a tender asks for the card's PIN")
    operator: Text(64) | None = None

    def sale(self, card_type=None) -> MembershipSale:
        return MembershipSale(self.sale_no, tuple(t.tender() for t in self.tenders), self.pin, self.operator,
                              card_type)


class MembershipSaleIn(MembershipRenewalIn):
    """A sale of a paid membership card type to a member: a new card, its fee paid with the tenders."""

    member_id: Id
    card_type: Code(description="A card type with a membership fee")

    def sale(self, card_type=None) -> MembershipSale:
        return super().sale(self.card_type)


class MembershipCancelIn(Body):
    reason: Text(200)
    operator: Text(64) | None = None
