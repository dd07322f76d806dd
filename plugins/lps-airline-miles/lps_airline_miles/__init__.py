"""An exchange adapter for an airline's miles, in both directions, through a file batch.

LPS points go out as miles the airline credits to its member, and miles come in as LPS points
after the airline has debited them. Each request becomes a CSV file in the outbox folder, listed
with its SHA-256 in the folder's manifest; the airline answers with confirmation and statement
files in the inbox folder, listed in its own manifest. README.md describes the files.
"""
from lps_core.contract import SettingsDeclaration, hookimpl

from lps_airline_miles.adapter import AirlineMilesExchange
from lps_airline_miles.settings import PREFIX, FolderSettings


@hookimpl
def lps_settings():
    return SettingsDeclaration(PREFIX, FolderSettings)


@hookimpl
def lps_point_exchanges(options):
    return [AirlineMilesExchange(options)]
