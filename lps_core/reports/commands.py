"""`lps report NAME --format json|csv|xlsx [--from --to | --day | --month] [--outlet ...]`: a report
to standard output (or --output FILE), the figures the screen and the API give; and
`lps jobs reports [--dry-run]`: mail the scheduled reports now due (lps_core.reports.schedule).
A bad filter exits 1 naming the field."""
import sys

from lps_core.reports.catalogue import REPORTS


def add_report_commands(commands, jobs):
    """Add `report` to the `lps` command's subparsers and `reports` to its jobs."""
    report = commands.add_parser("report", help="a report (sales, points, stored-value, credit, transactions, "
                                                "products) as JSON, CSV or XLSX, to standard output")
    report.add_argument("name", choices=REPORTS)
    report.add_argument("--format", choices=("json", "csv", "xlsx"), default="json")
    report.add_argument("--from", dest="from_", metavar="YYYY-MM-DD", help="a range's first day")
    report.add_argument("--to", metavar="YYYY-MM-DD", help="a range's last day, included")
    report.add_argument("--day", metavar="YYYY-MM-DD", help="one day")
    report.add_argument("--month", metavar="YYYY-MM", help="one month (default: this month)")
    report.add_argument("--group-by", choices=("day", "month"))
    for name in ("property", "partner", "outlet", "card", "card-type", "operator", "kind", "min-amount",
                 "max-amount", "discount"):
        report.add_argument(f"--{name}", help=f"filter by {name.replace('-', ' ')}"
                            + (" (transactions only)" if name not in ("property", "partner", "outlet") else ""))
    report.add_argument("--output", "-o", help="write to this file instead of standard output")
    report.set_defaults(run=cmd_report)
    mail = jobs.add_parser("reports", help="mail the scheduled reports (lps.reports.schedule) of the last day or "
                                           "month through the outbox, once per period and address")
    mail.add_argument("--dry-run", action="store_true", help="say what would be queued, queue nothing")
    mail.set_defaults(run=cmd_jobs_reports)


def _filters(args) -> dict:
    if args.from_ or args.to:
        period = {"period": "range", "from": args.from_, "to": args.to}
    elif args.day:
        period = {"period": "day", "date": args.day}
    else:
        period = {"period": "month", "date": args.month}
    optional = {"group_by": args.group_by, "property": args.property, "partner": args.partner, "outlet": args.outlet,
                "card": args.card, "card_type": args.card_type, "operator": args.operator, "kind": args.kind,
                "min_amount": args.min_amount, "max_amount": args.max_amount, "discount": args.discount}
    return {key: value for key, value in {**period, **optional}.items() if value is not None}


def cmd_report(args):
    import json

    from lps_core.cli import Environment
    from lps_core.earning.programme import Programme
    from lps_core.reports.catalogue import run_report
    from lps_core.reports.schemas import ReportFilters, TransactionFilters
    from lps_core.reports.settings import ReportSettings
    from lps_core.validation import validate

    env = Environment(args.config)
    tz = Programme.from_settings(env.settings).timezone
    model = TransactionFilters if args.name == "transactions" else ReportFilters
    filters = validate(model, {**_filters(args), "format": args.format})

    def work(db):
        report = run_report(db, args.name, filters, tz, ReportSettings.from_mapping(env.settings),
                            export=args.format != "json")
        if args.format == "json":
            return json.dumps(report.as_json(), ensure_ascii=False, indent=2).encode() + b"\n"
        return report.as_csv() if args.format == "csv" else report.as_xlsx()

    output = env.transaction(work)
    if args.output:
        with open(args.output, "wb") as file:
            file.write(output)
    else:
        sys.stdout.buffer.write(output)
        sys.stdout.flush()
    return 0


def cmd_jobs_reports(args):
    from lps_core.cli import Environment
    from lps_core.earning.programme import Programme
    from lps_core.reports.schedule import mail_scheduled_reports
    from lps_core.reports.settings import ReportSettings
    from lps_core.settings import settings_of
    from lps_core.timeutil import utcnow

    env = Environment(args.config)
    typed = settings_of(env.settings)
    settings = ReportSettings.from_mapping(env.settings)
    tz = Programme.from_settings(env.settings).timezone
    mailed = env.transaction(lambda db: mail_scheduled_reports(db, settings, tz, typed.messages.default_language,
                                                               utcnow(), dry_run=args.dry_run))
    for item in mailed:
        state = ("would queue" if args.dry_run else "queued") if item.queued else "already queued"
        print(f"{item.report} {item.frequency} {item.period} -> {item.recipient}: {state}")
    if not mailed:
        print("no report is scheduled (lps.reports.schedule)")
    return 0
