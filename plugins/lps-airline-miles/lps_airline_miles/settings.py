"""The adapter's settings: the batch folders, programme-wide from the ini file (`lps.airline_miles.*`),
and the rate and amounts per outlet or property, edited by staff on the configuration screens."""
from pathlib import Path

from pydantic import Field

from lps_core.contract import ExchangeSettings, ProgrammeSettings

PREFIX = "lps.airline_miles."


class FolderSettings(ProgrammeSettings):
    """`lps.airline_miles.outbox` and `.inbox`: where LPS writes its requests and where the airline
    leaves its confirmations and statements (for example the two folders of an SFTP exchange)."""

    outbox: Path = Path("var/airline-miles/outbox")
    inbox: Path = Path("var/airline-miles/inbox")


class AirlineMilesSettings(ExchangeSettings):
    """Per outlet: the rate, and the amounts a member may move. `minimum` and `step` count the
    member's LPS points going out and their miles coming in."""

    miles_per_point: int = Field(2, ge=1, le=1000, description="Miles credited for one LPS point, and "
                                                                "debited for one point coming in")
    minimum: int | None = Field(500, ge=1, le=10**9, description="The smallest amount a member may move")
    step: int | None = Field(100, ge=1, le=10**9, description="Amounts must be a multiple of this")
