"""The tier API's operations and the schemas of their answers."""
from lps_core.api.document import answer, problems
from lps_core.api.operations import Operation
from lps_core.members.schemas import MemberPath
from lps_core.tiers.schemas import TierChangeIn, TierFloorIn, TierIn, TierOrderIn, TierPath, TierPurchaseIn

DECIMAL = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "example": "380.00"}

OPERATIONS = [
    Operation("api.tiers", "get", "listTiers", "The programme's tiers with benefits and qualification",
              {"200": answer("Tiers in use, lowest first", "TierList"), **problems(401, 403)}, scope="cards.read"),
    Operation("api.tiers", "post", "createTier", "Add a tier to the programme",
              {"201": answer("Created", "Tier"), **problems(401, 403, 409, 413, 422)},
              scope="tiers.manage", body=TierIn,
              description="The new tier goes directly above `above`, or at the top. A code already used, "
                          "even by a retired tier, answers 409. Members move into it by qualifying, buying "
                          "it, a floor or the next evaluation."),
    Operation("api.tier", "get", "getTier", "One tier, retired or not",
              {"200": answer("The tier", "Tier"), **problems(401, 403, 404)}, scope="cards.read", path=TierPath),
    Operation("api.tier", "patch", "changeTier", "Rename a tier or change its benefits, qualification or price",
              {"200": answer("Changed", "Tier"), **problems(401, 403, 404, 409, 413, 422)},
              scope="tiers.manage", body=TierChangeIn, path=TierPath,
              description="Fields left out keep their value; null clears purchase_points (not for sale) and "
                          "qualification (not reached by activity). A retired tier answers 409."),
    Operation("api.tier_order", "post", "reorderTiers", "Put the tiers in use in a new order, lowest first",
              {"200": answer("The new order", "TierOrder"), **problems(401, 403, 409, 413, 422)},
              scope="tiers.manage", body=TierOrderIn,
              description="`codes` names every tier in use once, the entry tier first. The tiers keep the "
                          "set of ranks they hold between them. No member moves: the next evaluation "
                          "(lps jobs tiers) places members by the new order."),
    Operation("api.tier_retire", "post", "retireTier", "Retire a tier; its members move down one tier",
              {"200": answer("Retired", "RetiredTier"), **problems(401, 403, 404, 409)},
              scope="tiers.manage", path=TierPath,
              description="Every member holding the tier moves to the next lower tier in use (the next "
                          "higher one when the lowest tier is retired), with a tier change of reason "
                          "'retired'; floors on it move the same way. The last tier in use, or a tier "
                          "already retired, answers 409."),
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
        "code": {"type": "string"}, "name": {"type": "string"}, "rank": {"type": "integer", "nullable": True}}},
    "Tier": {"type": "object", "properties": {
        "code": {"type": "string"}, "name": {"type": "string"},
        "rank": {"type": "integer", "nullable": True, "description": "Its place, lowest first; none when retired"},
        "benefits": {"type": "object", "properties": {
            "multiplier": {"type": "string", "example": "1.500"},
            "discount_rate": {"type": "string", "example": "0.1000"},
            "entitlements": {"type": "array", "items": {"type": "string"}}}},
        "qualification": {"type": "object", "nullable": True,
                          "description": "The minimum of each criterion; qualification_mode says how they combine",
                          "properties": {"points": {"type": "integer"}, "spend": DECIMAL,
                                         "nights": {"type": "integer"}, "stays": {"type": "integer"}}},
        "qualification_mode": {"type": "string", "enum": ["any", "all"],
                               "description": "any: one criterion reached is enough; all: every one is needed"},
        "purchase_points": {"type": "integer", "nullable": True},
        "retired_at": {"type": "string", "format": "date-time", "nullable": True,
                       "description": "Set on a retired tier, which has no rank"}}},
    "TierOrder": {"type": "object", "properties": {
        "tiers": {"type": "array", "items": {"$ref": "#/components/schemas/TierRef"}}}},
    "RetiredTier": {"type": "object", "properties": {
        "code": {"type": "string"}, "retired_at": {"type": "string", "format": "date-time"},
        "moved_to": {"type": "string", "description": "The tier its members and floors moved to"},
        "members_moved": {"type": "integer"}, "floors_moved": {"type": "integer"}}},
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
            "needs": {"type": "object", "description": "What is still missing per criterion"},
            "mode": {"type": "string", "enum": ["any", "all"],
                     "description": "any: one criterion reached is enough; all: every one is needed"},
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
