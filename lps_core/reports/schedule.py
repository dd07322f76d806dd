"""Reports mailed to staff (`lps jobs reports`, from cron): each entry of lps.reports.schedule
sends its report of the last whole day (`daily`) or month (`monthly`), in the programme's time
zone, to its addresses through the outbox, so `lps worker` delivers it like any message, retried
with back-off and never lost when the job's transaction commits.

Idempotent per period: each message's dedupe key is `report:<name>:<frequency>:<period>:<address>`,
unique per channel in the outbox, so the job can run every hour (or twice by mistake) and each
address gets each period's report once; a run that was missed catches up the last period only.

The message carries the report's totals (text, and an HTML table) and links to the report on the
staff screens and to its CSV and XLSX exports, not the file itself: the channels' contract
(lps_core.contract.messages.Message) carries no attachment, and a link keeps finance figures
behind the staff sign-in and the operator's outlet scope instead of in mailboxes."""
import html
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from lps_core.exports import json_value
from lps_core.reports.catalogue import run_report
from lps_core.reports.schemas import ReportFilters
from lps_core.reports.settings import ReportSettings, Scheduled
from lps_core.reports.texts import english, translated

CHANNEL = "email"
EVENT = "report"
LOCALE_DIR = str(Path(__file__).resolve().parent.parent / "locale")


@dataclass(frozen=True)
class Mailed:
    report: str
    frequency: str
    period: str
    recipient: str
    queued: bool  # False: this period's report was already queued for this address


def due_period(entry: Scheduled, today: date) -> dict:
    """The filters of the last whole period before `today` (local): yesterday, or last month."""
    if entry.frequency == "daily":
        return {"period": "day", "date": (today - timedelta(days=1)).isoformat()}
    last_month = today.replace(day=1) - timedelta(days=1)
    return {"period": "month", "date": last_month.isoformat()[:7]}


def mail_scheduled_reports(db, settings: ReportSettings, tz, language: str, now: datetime, *, dry_run=False) -> list:
    """Queue every scheduled report due at `now` to its addresses, each once; returns what was
    (or, with dry_run, would be) queued."""
    from pyramid.i18n import make_localizer

    localizer = make_localizer(language, [LOCALE_DIR])
    today = now.astimezone(tz).date()
    mailed = []
    for entry in settings.schedule:
        query = due_period(entry, today)
        report = translated(run_report(db, entry.report, ReportFilters.model_validate(query), tz, settings),
                            localizer.translate)
        subject, text, markup = _message(report, settings, entry.report, query)
        for address in entry.recipients:
            key = f"{EVENT}:{entry.report}:{entry.frequency}:{query['date']}:{address}"[:200]
            queued = True if dry_run else _queue(db, address, subject, text, markup, language, key, now)
            mailed.append(Mailed(entry.report, entry.frequency, query["date"], address, queued))
    return mailed


def _message(report, settings, name, query) -> tuple[str, str, str]:
    base = f"{settings.staff_url}/reports/{name}"
    links = {kind: f"{base}?{urlencode({**query, **({'format': kind} if kind != 'screen' else {})})}"
             for kind in ("screen", "csv", "xlsx")}
    subject = f"LPS {report.title}: {report.scope.label}"
    lines = [f"{figure.label}: {json_value(figure.value, figure.kind)}" for figure in report.figures]
    text = "\n".join([subject, "", *lines, "", *map(english, report.notes), links["screen"], f"CSV: {links['csv']}",
                      f"XLSX: {links['xlsx']}"])
    rows = "".join(f"<tr><th align=\"left\">{html.escape(str(figure.label))}</th>"
                   f"<td align=\"right\">{html.escape(str(json_value(figure.value, figure.kind)))}</td></tr>"
                   for figure in report.figures)
    markup = (f"<h2>{html.escape(subject)}</h2><table>{rows}</table>"
              f"<p><a href=\"{html.escape(links['screen'])}\">{html.escape(links['screen'])}</a><br>"
              f"<a href=\"{html.escape(links['csv'])}\">CSV</a> · <a href=\"{html.escape(links['xlsx'])}\">XLSX</a></p>")
    return subject, text, markup


def _queue(db, address, subject, text, markup, language, key, now) -> bool:
    """One outbox row to a staff address (no member): ON CONFLICT DO NOTHING on its dedupe key."""
    from lps_core.messages.models import QUEUED, SERVICE, OutboxMessage

    if db.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(OutboxMessage).values(
        member_id=None, outlet_id=None, event=EVENT, channel=CHANNEL, kind=SERVICE, language=language,
        recipient=address, subject=subject[:500], body=text, html=markup, secret=False, status=QUEUED, tries=0,
        next_attempt_at=now, dedupe_key=key,
    ).on_conflict_do_nothing(index_elements=["dedupe_key", "channel"])
    return db.scalar(statement.returning(OutboxMessage.id)) is not None
