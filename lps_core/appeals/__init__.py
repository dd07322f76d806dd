"""Points appeals (积分申诉): a member's claim that a bill is missing from their points or was
posted with the wrong amount, filed by the member, by staff on their behalf or through the API,
and settled by staff (services.py). The staff screens are lps_core.screens.appeals, the API
lps_core.http.appeals."""
