"""`lps partners statement PARTNER --period YYYY-MM [--close] [--format csv|xlsx|json]`: a partner's
statement of a month (or of --from/--to), written to standard output, and closing the period from
the command line (cron at the start of a month). Closing is audited as done by LPS itself; an
error (an unknown partner, a period that cannot close) exits 1 with its message."""
import sys


def add_partners_commands(commands):
    """Add `partners statement` to the `lps` command's subparsers."""
    partners = commands.add_parser("partners", help="partner merchants and franchise stores").add_subparsers(
        title="partners commands")
    statement = partners.add_parser("statement", help="a partner's statement of a month or period, to standard "
                                                      "output (CSV, XLSX or JSON); --close closes the period")
    statement.add_argument("partner", help="the partner's code")
    statement.add_argument("--period", help="a month, YYYY-MM")
    statement.add_argument("--from", dest="period_from", help="a custom period's first day (YYYY-MM-DD)")
    statement.add_argument("--to", dest="period_to", help="a custom period's last day, included (YYYY-MM-DD)")
    statement.add_argument("--close", action="store_true", help="close the period: its statement is stored for good")
    statement.add_argument("--format", choices=("csv", "xlsx", "json"), default="csv")
    statement.set_defaults(run=cmd_partners_statement)


def cmd_partners_statement(args):
    import json

    from lps_core.audit.services import SYSTEM
    from lps_core.cli import Environment
    from lps_core.earning.programme import Programme
    from lps_core.partners import services, statements
    from lps_core.partners.exports import statement_csv, statement_json, statement_xlsx
    from lps_core.partners.schemas import PeriodQuery, period_of
    from lps_core.timeutil import utcnow
    from lps_core.validation import validate

    env = Environment(args.config)
    tz = Programme.from_settings(env.settings).timezone
    period = period_of(validate(PeriodQuery, {name: value for name, value in (
        ("period", args.period), ("from", args.period_from), ("to", args.period_to)) if value}))

    def work(db):
        if args.close:
            statement, _ = statements.close_period(db, tz, args.partner, period, utcnow().astimezone(tz).date(),
                                                   actor=SYSTEM)
        else:
            statement = statements.statement_for(db, tz, services.get_partner(db, args.partner), period)
        if args.format == "json":
            return json.dumps(statement_json(statement, tz), ensure_ascii=False, indent=2).encode() + b"\n"
        return statement_csv(statement, tz) if args.format == "csv" else statement_xlsx(statement, tz)

    output = env.transaction(work)
    sys.stdout.buffer.write(output)
    sys.stdout.flush()
    return 0
