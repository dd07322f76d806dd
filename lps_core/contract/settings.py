"""How a plugin declares its settings: programme-wide ones from the ini file (and the environment),
per-outlet ones from the database, both validated with the same field types as the API."""
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from lps_core.validation import Body


class ProgrammeSettings(BaseModel):
    """Base of a plugin's programme-wide settings, read from ini keys `<prefix><field>`; values come
    as text and are converted (lax), unknown keys under the prefix are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class OutletSettings(Body):
    """Base of a component's per-outlet settings (a JSON object kept in the database, edited on the
    configuration screens and through the API): strict, unknown fields refused."""


@dataclass(frozen=True)
class SettingsDeclaration:
    """What a plugin's lps_settings hook returns: the ini prefix it owns and the model of its keys."""

    prefix: str  # e.g. "lps.email."
    model: type[ProgrammeSettings]
