"""The rewards API's operations and the schemas of their answers."""
from lps_core.api.document import answer, problems
from lps_core.api.operations import Operation
from lps_core.rewards.schemas import (
    CancellationIn,
    CardRedemptionsPath,
    CollectionIn,
    RedemptionIn,
    RedemptionPageQuery,
    RedemptionPath,
    RestockIn,
    RewardChangeIn,
    RewardIn,
    RewardListQuery,
    RewardPath,
)

DECIMAL = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "example": "380.00"}
TIMESTAMP = {"type": "string", "format": "date-time", "nullable": True}
CATEGORY = {"type": "string", "enum": ["item", "room_night", "fnb_voucher"]}
REWARD_FIELDS = {
    "name": {"type": "string"},
    "category": CATEGORY,
    "cost": DECIMAL,
    "stock": {"type": "integer", "nullable": True, "description": "null = unlimited"},
    "available_from": TIMESTAMP,
    "available_to": TIMESTAMP,
    "allowed_tiers": {"type": "array", "items": {"type": "string"}, "nullable": True,
                      "description": "Tier codes that may redeem; null = every tier"},
    "active": {"type": "boolean"},
    "voucher_valid_days": {"type": "integer", "nullable": True},
}

OPERATIONS = [
    Operation("api.rewards", "get", "listRewards", "The rewards catalogue with points prices",
              {"200": answer("The catalogue", "RewardCatalogue"), **problems(401, 403)},
              scope="rewards", query=RewardListQuery,
              description="Only active rewards inside their window, unless all=1 (scope rewards.manage too)."),
    Operation("api.rewards", "post", "createReward", "Add a reward",
              {"201": answer("Added", "Reward"), **problems(401, 403, 409, 413, 422)},
              scope="rewards.manage", body=RewardIn),
    Operation("api.reward", "get", "getReward", "One reward",
              {"200": answer("The reward", "Reward"), **problems(401, 403, 404)},
              scope="rewards", path=RewardPath),
    Operation("api.reward", "put", "updateReward", "Change a reward; fields left out keep their values",
              {"200": answer("Changed", "Reward"), **problems(401, 403, 404, 413, 422)},
              scope="rewards.manage", body=RewardChangeIn, path=RewardPath),
    Operation("api.reward_stock", "post", "restockReward", "Restock a reward",
              {"200": answer("Restocked", "Reward"), **problems(401, 403, 404, 409, 413, 422)},
              scope="rewards.manage", body=RestockIn, path=RewardPath),
    Operation("api.redemptions", "post", "redeemReward", "Redeem points for a reward",
              {"201": answer("Redeemed", "Redemption"),
               "200": answer("Replay of an earlier identical request", "Redemption"),
               **problems(401, 403, 404, 409, 413, 422)},
              scope="rewards", body=RedemptionIn,
              description="Idempotent on (outlet, request_no): the same body again answers 200 with the first "
                          "result; another body with the same request_no answers 409. Too few points, no stock "
                          "left: 409."),
    Operation("api.redemption", "get", "getRedemption", "One redemption of the key's outlet",
              {"200": answer("The redemption", "Redemption"), **problems(401, 403, 404)},
              scope="rewards", path=RedemptionPath),
    Operation("api.redemption_collect", "post", "collectRedemption", "The guest picks the reward up",
              {"200": answer("Collected", "Redemption"), **problems(401, 403, 404, 409, 413)},
              scope="rewards", body=CollectionIn, body_required=False, path=RedemptionPath),
    Operation("api.redemption_cancel", "post", "cancelRedemption", "Cancel a redemption: points and stock go back",
              {"200": answer("Cancelled", "Redemption"), **problems(401, 403, 404, 409, 413)},
              scope="rewards", body=CancellationIn, path=RedemptionPath),
    Operation("api.card_redemptions", "get", "listCardRedemptions", "A member's redemptions, newest first",
              {"200": answer("A page of redemptions", "RedemptionPage"), **problems(401, 403, 404)},
              scope="rewards", path=CardRedemptionsPath, query=RedemptionPageQuery),
]

SCHEMAS = {
    "Reward": {"type": "object", "properties": {
        "code": {"type": "string"}, **REWARD_FIELDS,
        "points_price": {"type": "integer", "description": "The price in points now in force"},
        "points_price_override": {"type": "integer", "nullable": True},
        "available": {"type": "boolean", "description": "Active and inside its window now"},
    }},
    "RewardCatalogue": {"type": "object", "properties": {
        "points_per_currency_unit": {"type": "string", "example": "100"},
        "rewards": {"type": "array", "items": {"$ref": "#/components/schemas/Reward"}},
    }},
    "Redemption": {"type": "object", "properties": {
        "no": {"type": "string", "example": "R00000042"},
        "outlet": {"type": "string"},
        "request_no": {"type": "string"},
        "card_no": {"type": "string"},
        "reward": {"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"},
                                                    "category": CATEGORY}},
        "quantity": {"type": "integer"},
        "points": {"type": "integer"},
        "status": {"type": "string", "enum": ["collected", "awaiting_pickup", "cancelled"]},
        "voucher_expires_at": TIMESTAMP,
        "redeemed_at": {"type": "string", "format": "date-time"},
        "collected_at": TIMESTAMP,
        "cancelled_at": TIMESTAMP,
        "cancel_reason": {"type": "string", "nullable": True},
        "points_balance": {"type": "integer", "description": "After redeeming or cancelling (not on GET)"},
        "consumed": {"type": "array", "items": {"$ref": "#/components/schemas/ConsumedLot"},
                     "description": "The lots the redemption's debit took its points from, oldest-expiring "
                                    "first; a cancellation gives them back to the same lots"},
        "replayed": {"type": "boolean"},
    }},
    "ConsumedLot": {"type": "object", "properties": {
        "lot_id": {"type": "integer"},
        "earn_entry_id": {"type": "integer", "description": "The ledger entry that created the lot"},
        "bill_no": {"type": "string", "nullable": True, "description": "The bill that earned it, if a bill did"},
        "points": {"type": "integer", "description": "Points taken from the lot"},
        "lot_expires_at": {"type": "string", "format": "date-time"}}},
    "RedemptionPage": {"type": "object", "properties": {
        "card_no": {"type": "string"}, "page": {"type": "integer"}, "per_page": {"type": "integer"},
        "total": {"type": "integer"},
        "redemptions": {"type": "array", "items": {"$ref": "#/components/schemas/Redemption"}},
    }},
}
