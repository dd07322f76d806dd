"""`lps exchange retry` and `lps exchange reconcile`: finishing open transfers and comparing a
partner's statement with LPS's transfers, from the command line (cron). The mismatches found are
kept, and staff resolve them on the exchange screens (or through the API)."""
import sys
from datetime import date, datetime, time, timedelta

from lps_core.errors import ValidationFailed


def add_exchange_commands(commands):
    """Add `exchange retry` and `exchange reconcile` to the `lps` command's subparsers."""
    exchange = commands.add_parser("exchange", help="point exchanges with partner programmes").add_subparsers(
        title="exchange commands")
    retry = exchange.add_parser("retry", help="ask the partners again about every open (pending or unknown) "
                                              "transfer; prints one line per transfer")
    retry.add_argument("--partner", help="only this exchange partner")
    retry.set_defaults(run=cmd_exchange_retry)
    reconcile = exchange.add_parser("reconcile", help="compare a partner's statement of a period with LPS's "
                                                      "transfers and keep the mismatches for staff to resolve; "
                                                      "prints one line per mismatch, exit 1 if any")
    reconcile.add_argument("partner")
    reconcile.add_argument("--from", dest="period_from", required=True, help="first day (YYYY-MM-DD, lps.timezone)")
    reconcile.add_argument("--to", dest="period_to", required=True, help="last day, included (YYYY-MM-DD)")
    reconcile.add_argument("--settle", action="store_true",
                           help="complete the open transfers that the statement shows as booked")
    reconcile.set_defaults(run=cmd_exchange_reconcile)


def cmd_exchange_retry(args):
    from lps_core.cli import Environment
    from lps_core.earning.programme import Programme
    from lps_core.exchange.services import retry_open_transfers

    env = Environment(args.config)
    programme = Programme.from_settings(env.settings)
    lines = env.transaction(lambda db: [
        f"{transfer.partner} {transfer.direction} {transfer.reference}: {transfer.status}"
        + (f" ({transfer.last_error})" if transfer.last_error else "")
        for transfer in retry_open_transfers(db, env.plugins, programme, args.partner)])
    for line in lines:
        print(line)
    print(f"{len(lines)} open transfers asked again", file=sys.stderr)


def cmd_exchange_reconcile(args):
    from lps_core.cli import Environment
    from lps_core.earning.programme import Programme
    from lps_core.audit.services import SYSTEM
    from lps_core.exchange.reconciliation import record_reconciliation, record_run

    env = Environment(args.config)
    programme = Programme.from_settings(env.settings)
    start = _start_of(args.period_from, "--from", programme.timezone)
    end = _start_of(args.period_to, "--to", programme.timezone) + timedelta(days=1)

    def run(db):
        found = record_reconciliation(db, env.plugins, programme, args.partner, start, end, settle_open=args.settle)
        record_run(db, args.partner, start, end, found, actor=SYSTEM)
        return [(m.problem, m.direction, m.reference, m.lps_partner_points, m.statement_partner_points, m.status)
                for m in found]

    mismatches = env.transaction(run)
    for problem, direction, reference, lps_points, statement_points, status in mismatches:
        print(f"{problem} {direction} {reference}: LPS {lps_points}, statement {statement_points}"
              + (" (resolved)" if status == "resolved" else ""))
    if mismatches:
        print(f"{len(mismatches)} mismatches with {args.partner}", file=sys.stderr)
        return 1
    print(f"{args.partner}: the statement matches LPS's transfers")


def _start_of(text, option, zone) -> datetime:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"{option} must be a date such as 2026-11-01", {option: "not a date"}) from None
    return datetime.combine(day, time(), tzinfo=zone)
