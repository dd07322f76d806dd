"""The tier API's operations and the schemas of their answers."""
from lps_core.api.document import answer, problems
from lps_core.api.operations import Operation
from lps_core.members.schemas import MemberPath
from lps_core.tiers.schemas import TierFloorIn, TierPurchaseIn

DECIMAL = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "example": "380.00"}

OPERATIONS = [
    Operation("api.tiers", "get", "listTiers", "The programme's tiers with benefits and qualification",
              {"200": answer("Tiers, lowest first", "TierList"), **problems(401, 403)}, scope="cards.read"),
    Operation("api.member_tier", "get", "getMemberTier",
              "A member's tier, floor, activity in the window and progress to the next tier",
              {"200": answer("The member's tier", "MemberTier"), **problems(401, 403, 404)},
              scope="cards.read", path=MemberPath),
    Operation("api.member_tier_purchase", "post", "purchaseTier", "Buy a higher tier with points",
              {"201": answer("Bought", "TierPurchase"),
               "200": answer("Replay of an earlier identical purchase", "TierPurchase"),
               **problems(401, 403, 404, 409, 413, 422)},
              scope="members", body=TierPurchaseIn, path=MemberPath,
              description="Idempotent on (member, purchase_no): the same body again answers 200 with the first "
                          "result; the same purchase_no for another tier answers 409. Too few points: 409 "
                          "insufficient_balance."),
    Operation("api.member_tier_floor", "post", "setTierFloor",
              "Set a staff floor (status match); raises the member to it at once",
              {"200": answer("Floor set", "TierFloor"), **problems(401, 403, 404, 409, 413, 422)},
              scope="tiers.manage", body=TierFloorIn, path=MemberPath),
]

SCHEMAS = {
    "TierRef": {"type": "object", "properties": {
        "code": {"type": "string"}, "name": {"type": "string"}, "rank": {"type": "integer"}}},
    "Tier": {"type": "object", "properties": {
        "code": {"type": "string"}, "name": {"type": "string"}, "rank": {"type": "integer"},
        "benefits": {"type": "object", "properties": {
            "multiplier": {"type": "string", "example": "1.500"},
            "discount_rate": {"type": "string", "example": "0.1000"},
            "entitlements": {"type": "array", "items": {"type": "string"}}}},
        "qualification": {"type": "object", "nullable": True, "description": "Any one is enough",
                          "properties": {"points": {"type": "integer"}, "spend": DECIMAL,
                                         "nights": {"type": "integer"}, "stays": {"type": "integer"}}},
        "purchase_points": {"type": "integer", "nullable": True}}},
    "TierList": {"type": "object", "properties": {
        "model": {"type": "string"},
        "window": {"type": "string", "enum": ["calendar_year", "rolling_12_months"]},
        "tiers": {"type": "array", "items": {"$ref": "#/components/schemas/Tier"}}}},
    "MemberTier": {"type": "object", "properties": {
        "member_id": {"type": "integer"}, "status": {"type": "string"},
        "tier": {"allOf": [{"$ref": "#/components/schemas/Tier"}], "nullable": True},
        "since": {"type": "string", "format": "date-time", "nullable": True},
        "floor": {"type": "object", "nullable": True, "properties": {
            "tier": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"},
            "active": {"type": "boolean"}}},
        "window": {"type": "object", "properties": {
            "kind": {"type": "string"}, "from": {"type": "string", "format": "date"},
            "until": {"type": "string", "format": "date", "description": "Exclusive"}}},
        "activity": {"type": "object", "properties": {
            "points": {"type": "integer"}, "spend": DECIMAL, "nights": {"type": "integer"},
            "stays": {"type": "integer"}, "bills": {"type": "integer"}}},
        "next_tier": {"type": "object", "nullable": True, "properties": {
            "tier": {"$ref": "#/components/schemas/TierRef"},
            "needs": {"type": "object", "description": "What is still missing per criterion (any one)"},
            "progress": {"type": "number", "minimum": 0, "maximum": 1}}}}},
    "TierPurchase": {"type": "object", "properties": {
        "member_id": {"type": "integer"}, "tier": {"type": "string"}, "points": {"type": "integer"},
        "points_balance": {"type": "integer"}, "outlet": {"type": "string"}, "replayed": {"type": "boolean"}}},
    "TierFloor": {"type": "object", "properties": {
        "member_id": {"type": "integer"},
        "floor": {"type": "object", "properties": {"tier": {"type": "string"},
                                                   "expires_at": {"type": "string", "format": "date-time"}}},
        "tier": {"type": "string", "nullable": True, "description": "The new tier if raised"},
        "raised": {"type": "boolean"}}},
}
