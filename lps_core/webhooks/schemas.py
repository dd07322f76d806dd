"""Input schemas of webhooks, for the API (JSON bodies, query strings and paths, which also feed the
OpenAPI document) and the staff screens (the endpoint form, the secret form, the delivery log's
search). Rules that need the database or the settings (a name already used, plain http to another
machine) are the services' and answer 409 or 422."""
from typing import Literal

from pydantic import field_validator

from lps_core.validation import Body, Field, Id, Int, LenientQuery, Query, Text
from lps_core.webhooks.models import STATUSES
from lps_core.webhooks.services import EVENT_TYPES, EndpointValues


class EndpointForm(LenientQuery):
    """An endpoint as staff fill it in. The secret is write-only: left empty on a new endpoint, LPS
    makes one (shown once)."""

    name: Text(100, description="How staff and the log name the endpoint", example="Hotel website")
    url: Text(2000, description="Where events are POSTed", example="https://www.hotel.example/lps/webhooks")
    events: list[Literal[EVENT_TYPES]] = Field(min_length=1, description="The events it receives")
    active: bool = False
    secret: Text(200, description="The signing secret; empty: LPS makes one") | None = None

    @field_validator("events")
    @classmethod
    def no_repeats(cls, events):
        return list(dict.fromkeys(events))

    def values(self) -> EndpointValues:
        return EndpointValues(self.name, self.url, tuple(self.events), self.active)


class SecretForm(LenientQuery):
    """A new secret for an endpoint: given by the receiver's team, or (empty) made by LPS."""

    secret: Text(200) | None = None


class DeliverySearch(LenientQuery):
    status: Literal[STATUSES] | None = None
    event: Literal[EVENT_TYPES] | None = None


def form_data(params) -> dict:
    """A posted form as the schemas read it: the checkboxes of `events` as a list, `active` as a
    flag, empty text fields left out."""
    data = {name: value.strip() for name, value in params.items()
            if name not in ("events", "active") and isinstance(value, str) and value.strip()}
    data["events"] = [value for value in params.getall("events") if isinstance(value, str)] \
        if hasattr(params, "getall") else list(params.get("events", []))
    data["active"] = bool(params.get("active"))
    return data


# --- The API --------------------------------------------------------------------------------------

MAX_PER_PAGE = 200
EventType = Literal[EVENT_TYPES]


class EndpointIn(Body):
    """A new endpoint, or all of an endpoint's fields when it is changed (PUT)."""

    name: Text(100, description="How staff and the log name the endpoint", example="Hotel website")
    url: Text(2000, description="Where events are POSTed: https://", example="https://www.hotel.example/lps/webhooks")
    events: list[EventType] = Field(min_length=1, max_length=len(EVENT_TYPES), description="The events it receives")
    active: bool = Field(True, description="false: no events are sent to it")
    secret: Text(200, description="Write-only signing secret (24 to 200 characters); left out on a new endpoint, "
                                  "LPS makes one and answers it once. Ignored by PUT: replace it with "
                                  "POST .../secret") | None = None

    def values(self) -> EndpointValues:
        return EndpointValues(self.name, self.url, tuple(dict.fromkeys(self.events)), self.active)


class SecretIn(Body):
    secret: Text(200, description="The new secret; left out, LPS makes one") | None = None


class EndpointPath(Query):
    id: Id


class DeliveryPath(Query):
    id: Id


class DeliveryQuery(Query):
    status: Literal[STATUSES] | None = None
    event: EventType | None = None
    page: Int(1, 100_000) = 1
    per_page: Int(1, MAX_PER_PAGE) = 50
