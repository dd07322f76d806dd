"""`lps`: the command line for hotel IT: migrations, demo data, API keys, card pools, ledger checks."""
import argparse
import json
import os
import sys
from importlib.metadata import PackageNotFoundError, version

from lps_core.apikeys.scopes import DEFAULT_SCOPES, SCOPES
from lps_core.bulk.commands import add_bulk_commands
from lps_core.errors import ConfigurationError, LpsError
from lps_core.exchange.commands import add_exchange_commands
from lps_core.partners.commands import add_partners_commands
from lps_core.messages.commands import add_message_commands
from lps_core.operators.roles import ROLES
from lps_core.plugins.scaffold.commands import add_scaffold_commands
from lps_core.reports.commands import add_report_commands

DEFAULT_CONFIG = "config/development.ini"


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return args.run(args) or 0
    except (LpsError, ConfigurationError) as exc:
        fields = getattr(exc, "fields", None)
        detail = f" ({', '.join(f'{k}: {v}' for k, v in fields.items())})" if fields else ""
        print(f"lps: error: {exc}{detail}", file=sys.stderr)
        return 1


def installed_version() -> str:
    """The version of the installed distribution `lps` (setup.cfg), as pip reports it."""
    try:
        return version("lps")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser():
    parser = argparse.ArgumentParser(prog="lps", description="LPS loyalty programme system")
    parser.add_argument("--version", action="version", version=f"lps {installed_version()}")
    parser.add_argument("-c", "--config", default=os.environ.get("LPS_CONFIG", DEFAULT_CONFIG),
                        help=f"PasteDeploy ini file (default: $LPS_CONFIG or {DEFAULT_CONFIG})")
    commands = parser.add_subparsers(title="commands")

    db = commands.add_parser("db", help="database schema").add_subparsers(title="db commands")
    upgrade = db.add_parser("upgrade", help="apply Alembic migrations")
    upgrade.add_argument("--revision", default="head")
    upgrade.set_defaults(run=cmd_db_upgrade)

    demo = commands.add_parser("demo", help="load demo data (idempotent) and print a demo API key")
    demo.set_defaults(run=cmd_demo)

    apikey = commands.add_parser("apikey", help="API keys").add_subparsers(title="apikey commands")
    create = apikey.add_parser("create", help="create a key for an outlet; prints it as the last line")
    create.add_argument("--outlet", required=True, help="outlet code")
    create.add_argument("--scope", action="append", choices=SCOPES, metavar="SCOPE",
                        help=f"a scope to grant, repeatable: {', '.join(SCOPES)}. "
                             f"Default (least privilege): {', '.join(DEFAULT_SCOPES)}; "
                             "every other scope only when named")
    create.add_argument("--label")
    create.set_defaults(run=cmd_apikey_create)
    revoke = apikey.add_parser("revoke", help="revoke a key by its prefix (the part after lps_)")
    revoke.add_argument("prefix")
    revoke.set_defaults(run=cmd_apikey_revoke)

    cards = commands.add_parser("cards", help="card numbers").add_subparsers(title="cards commands")
    generate = cards.add_parser("generate", help="pre-generate a pool of unissued card numbers")
    generate.add_argument("--count", type=int, required=True)
    generate.add_argument("--prefix", help="digits the numbers start with (default: the card type's)")
    generate.add_argument("--type", dest="card_type", help="card type code (default: the first type)")
    generate.set_defaults(run=cmd_cards_generate)
    tag = cards.add_parser("tag", help="register an RFID/NFC tag on a card: its id given, or read from a tag "
                                       "reader at the desk (--read DRIVER --port PORT); --remove takes it off")
    tag.add_argument("card_no")
    tag.add_argument("tag_id", nargs="?", help="the tag's id as the reader gives it, e.g. 0A1B2C3D4E")
    tag.add_argument("--read", metavar="DRIVER", help="read the tag from a reader with this driver, e.g. serial_rfid")
    tag.add_argument("--port", help="the reader's device, e.g. /dev/ttyUSB0, COM3 or a pyserial URL")
    tag.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the tag (default: 30)")
    tag.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                     help="another option of the driver's open(), e.g. tag_format=decimal (repeatable)")
    tag.add_argument("--remove", action="store_true", help="take the card's tag off it")
    tag.set_defaults(run=cmd_cards_tag)

    vouchers = commands.add_parser("vouchers", help="vouchers").add_subparsers(title="vouchers commands")
    issue = vouchers.add_parser("issue", help="issue vouchers; prints one code a line")
    issue.add_argument("--count", type=int, required=True, help="how many (1 to 10000)")
    issue.add_argument("--value", required=True, help="face value, a decimal such as 50.00")
    issue.add_argument("--valid-to", required=True,
                       help="last valid day (YYYY-MM-DD, through its end in lps.timezone) or an ISO 8601 "
                            "date-time with offset (excluded)")
    issue.add_argument("--valid-from", help="first valid day or date-time (default: now)")
    issue.add_argument("--outlet", help="the outlet that alone takes them (default: every outlet)")
    issue.set_defaults(run=cmd_vouchers_issue)

    ledger = commands.add_parser("ledger", help="the ledger").add_subparsers(title="ledger commands")
    check = ledger.add_parser("check", help="verify every balance equals the sum of its ledger; exit 1 on drift")
    check.set_defaults(run=cmd_ledger_check)

    operator = commands.add_parser("operator", help="staff accounts").add_subparsers(title="operator commands")
    add_operator = operator.add_parser("create", help="create a staff account; it must change its password at first sign-in")
    add_operator.add_argument("username")
    add_operator.add_argument("--name", help="display name")
    add_operator.add_argument("--role", action="append",
                              help="a role (repeatable; default: administrator): " + ", ".join(ROLES))
    add_operator.add_argument("--outlet", action="append",
                              help="an outlet or property code the operator works for (repeatable), or 'all'")
    add_operator.set_defaults(run=cmd_operator_create)

    jobs = commands.add_parser("jobs", help="batch jobs (set-based, idempotent, resumable)")
    jobs = jobs.add_subparsers(title="jobs")
    expire = jobs.add_parser("expire", help="expire points by the programme's expiry policy; warn members")
    tiers = jobs.add_parser("tiers", help="re-evaluate every member's tier; apply lifecycle rules")
    for job, run in ((expire, cmd_jobs_expire), (tiers, cmd_jobs_tiers)):
        job.add_argument("--dry-run", action="store_true", help="report what would change; change nothing")
        job.add_argument("--now", help="the moment to evaluate at, ISO 8601 with offset (default: now)")
        job.add_argument("--batch-size", type=int,
                         help="accounts (expire) or members (tiers) per committed batch "
                              "(default: 50000 for expire, 100000 for tiers; see bench/README.md)")
        job.add_argument("--workers", type=int,
                         help="batches run at once, each on its own connection, committed in order "
                              "(default: 2 on PostgreSQL; SQLite always 1)")
        job.add_argument("--no-progress", action="store_true", help="no progress bar, even on a terminal")
        job.set_defaults(run=run)
    tiers.add_argument("--run-key", help="names the evaluation; a run key done before is not repeated "
                                          "(default: the evaluation date)")
    birthdays = jobs.add_parser("birthdays", help="greet members on their birthday, once a year each, and credit "
                                                  "lps.birthdays.bonus_points")
    birthdays.add_argument("--dry-run", action="store_true", help="count whom it would greet; change nothing")
    birthdays.add_argument("--now", help="the moment to greet at, ISO 8601 with offset (default: now)")
    birthdays.add_argument("--batch-size", type=int, help="members per committed batch (default: 1000)")
    birthdays.add_argument("--no-progress", action="store_true", help="no progress bar, even on a terminal")
    birthdays.set_defaults(run=cmd_jobs_birthdays)
    rfm = jobs.add_parser("rfm", help="score every member's recency, frequency and spend as of a day's end, for the "
                                      "RFM screen and segments")
    rfm.add_argument("--as-of", help="the day to score as of, YYYY-MM-DD in lps.timezone (default: yesterday)")
    rfm.set_defaults(run=cmd_jobs_rfm)
    campaigns = jobs.add_parser("campaigns", help="send the marketing campaigns that are due (each member once)")
    campaigns.add_argument("--dry-run", action="store_true", help="count the members each due campaign would reach")
    campaigns.add_argument("--now", help="the moment to send at, ISO 8601 with offset (default: now)")
    campaigns.add_argument("--batch-size", type=int, help="members per committed batch (default: 500)")
    campaigns.set_defaults(run=cmd_jobs_campaigns)
    memberships = jobs.add_parser("memberships", help="remind members before their paid membership ends, once "
                                                      "per period")
    memberships.add_argument("--dry-run", action="store_true", help="count whom it would remind; change nothing")
    memberships.add_argument("--now", help="the moment to remind at, ISO 8601 with offset (default: now)")
    memberships.add_argument("--batch-size", type=int, help="periods per committed batch (default: 1000)")
    memberships.add_argument("--no-progress", action="store_true", help="no progress bar, even on a terminal")
    memberships.set_defaults(run=cmd_jobs_memberships)

    add_exchange_commands(commands)
    add_partners_commands(commands)
    add_report_commands(commands, jobs)

    add_message_commands(commands)

    add_bulk_commands(commands)

    plugins = commands.add_parser("plugins", help="list installed plugins and, by kind, the components they "
                                                  "provide with their origin and default switch")
    plugins.add_argument("--json", action="store_true", help="print JSON, as GET /api/v1/plugins describes them")
    plugins.set_defaults(run=cmd_plugins)

    add_scaffold_commands(commands)

    drivers = commands.add_parser("drivers", help="list installed card-reader and PIN-pad drivers, or probe a port "
                                                  "with one (needs no database; no config file: every driver's "
                                                  "defaults)")
    drivers.add_argument("--probe", metavar="DRIVER", help="open --port with this driver and wait for one card "
                         "(a PIN pad: ask it to identify itself)")
    drivers.add_argument("--port", help="the device, e.g. /dev/ttyUSB0, COM3 or a pyserial URL")
    drivers.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a card (default: 30)")
    drivers.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                         help="another option of the driver's open(), e.g. baudrate=19200 (repeatable)")
    drivers.set_defaults(run=cmd_drivers)

    terminal = commands.add_parser("terminal", help="run the terminal agent on a cashier's PC: read cards with a "
                                                    "driver and send each swipe to LPS with the terminal's key "
                                                    "(needs no database)")
    terminal.add_argument("--url", required=True, help="LPS's address, e.g. https://lps.example.com")
    terminal.add_argument("--key", default=os.environ.get("LPS_TERMINAL_KEY"),
                          help="the terminal's key, lpt_... (default: $LPS_TERMINAL_KEY)")
    terminal.add_argument("--driver", required=True, help="a card-reader driver of `lps drivers`")
    terminal.add_argument("--port", required=True, help="the device, e.g. /dev/ttyUSB0, COM3 or a pyserial URL")
    terminal.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                          help="another option of the driver's open(), e.g. baudrate=19200 (repeatable)")
    terminal.add_argument("--expire-after", type=float, default=30.0, metavar="SECONDS",
                          help="drop a swipe not delivered within this many seconds (default: 30)")
    terminal.add_argument("--buffer", type=int, default=20, metavar="SWIPES",
                          help="swipes kept while LPS is unreachable; the oldest is dropped beyond (default: 20)")
    terminal.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS",
                          help="seconds to wait for LPS's answer to one swipe (default: 5)")
    terminal.set_defaults(run=cmd_terminal)

    pii = commands.add_parser("pii", help="keys of personal data at rest").add_subparsers(title="pii commands")
    pii.add_parser("new-key", help="print a new key for lps.pii.keys (needs no config file)").set_defaults(
        run=cmd_pii_new_key)
    pii.add_parser("rotate", help="re-encrypt personal data with the newest key and recompute the blind "
                                  "indexes with the current index key").set_defaults(run=cmd_pii_rotate)
    return parser


class Environment:
    """Settings, database and plugins for one command, built from the ini file."""

    def __init__(self, config_uri):
        import plaster

        from lps_core.db import get_engine, get_session_factory
        from lps_core.settings import apply_environment

        if not os.path.exists(config_uri):
            raise ConfigurationError(f"config file {config_uri} not found (use -c or $LPS_CONFIG)")
        loader = plaster.get_loader(config_uri, protocols=["wsgi"])
        loader.setup_logging()
        self.config_uri = config_uri
        self.settings = apply_environment(loader.get_settings("app:main"))
        self.engine = get_engine(self.settings, statement_timeout=False)  # migrations and jobs may run long
        self.session_factory = get_session_factory(self.engine)
        # What a job's services find through their session: the outbox its messages' settings and channels.
        self.session_factory.configure(info={"environment": self})
        self._plugins = None

    @property
    def plugins(self):
        from lps_core.plugins import load_plugins

        if self._plugins is None:
            self._plugins = load_plugins(self.settings)
        return self._plugins

    def transaction(self, work):
        from lps_core.db import run_in_transaction

        return run_in_transaction(self.session_factory, work)


def cmd_db_upgrade(args):
    from lps_core.db.migrate import upgrade

    env = Environment(args.config)
    _ensure_sqlite_dir(env.settings["sqlalchemy.url"])
    upgrade(env.engine, args.revision)
    print(f"database at {env.engine.url.render_as_string(hide_password=True)} is at revision {args.revision}")


def cmd_demo(args):
    from lps_core.demo import load_demo

    env = Environment(args.config)
    summary = env.transaction(lambda db: load_demo(db, env.plugins, env.settings))
    for line in summary:
        print(line)


def cmd_apikey_create(args):
    from lps_core.apikeys.services import create_api_key

    env = Environment(args.config)
    key = env.transaction(lambda db: create_api_key(db, args.outlet, tuple(args.scope or DEFAULT_SCOPES), args.label))
    print(f"API key for outlet {args.outlet} (shown once, store it now):")
    print(key)


def cmd_apikey_revoke(args):
    from lps_core.apikeys.services import revoke_api_key

    env = Environment(args.config)
    if not env.transaction(lambda db: revoke_api_key(db, args.prefix)):
        print(f"lps: error: no live key with prefix {args.prefix}", file=sys.stderr)
        return 1
    print(f"revoked key {args.prefix}")


def cmd_cards_generate(args):
    from lps_core.cards.services import generate_pool

    env = Environment(args.config)
    numbers = env.transaction(lambda db: generate_pool(db, args.count, prefix=args.prefix,
                                                       card_type_code=args.card_type))
    for number in numbers:
        print(number)
    print(f"{len(numbers)} unissued card numbers added to the pool", file=sys.stderr)


def cmd_cards_tag(args):
    from lps_core.cards.tags import register_tag, remove_tag

    if sum(bool(given) for given in (args.tag_id, args.read, args.remove)) != 1:
        print("lps: error: give a tag id, --read DRIVER --port PORT, or --remove", file=sys.stderr)
        return 2
    env = Environment(args.config)
    if args.remove:
        removed = env.transaction(lambda db: remove_tag(db, args.card_no))
        print(f"tag {removed} removed from card {args.card_no}" if removed else f"card {args.card_no} had no tag")
        return
    tag_id = args.tag_id or _read_tag(env.plugins, args)
    if tag_id is None:
        return 1
    card = env.transaction(lambda db: register_tag(db, args.card_no, tag_id))
    print(f"tag {card.tag_id} registered on card {card.card_no}")


def _read_tag(plugins, args) -> str | None:
    """One tag read from a reader at the desk; None (said on stderr) when none was read."""
    from lps_core.contract import TagRead

    component = plugins.component("card_reader", args.read)
    if component is None or not args.port:
        print(f"lps: error: --read needs an installed card-reader driver and --port (installed: "
              f"{', '.join(sorted(plugins.card_readers)) or 'none'})", file=sys.stderr)
        return None
    options = dict(option.partition("=")[::2] for option in args.option)
    try:
        reader = component.obj.open(port=args.port, **options)
    except (OSError, ValueError) as exc:
        print(f"lps: error: {args.read} cannot open {args.port}: {exc}", file=sys.stderr)
        return None
    print(f"present the tag to the reader at {args.port} (up to {args.timeout:g} s)", file=sys.stderr)
    try:
        read = reader.read_card(args.timeout)
    finally:
        reader.close()
    if not isinstance(read, TagRead):
        print(f"lps: error: no tag read: {getattr(read, 'reason', None) or 'not a tag, or none in time'}",
              file=sys.stderr)
        return None
    return read.tag_id


def cmd_vouchers_issue(args):
    from lps_core.vouchers.services import issue_from_command_line

    env = Environment(args.config)
    codes = env.transaction(lambda db: issue_from_command_line(
        db, env.settings, count=args.count, value=args.value, valid_to=args.valid_to, valid_from=args.valid_from,
        outlet_code=args.outlet))
    for code in codes:
        print(code)
    print(f"{len(codes)} vouchers of {args.value} issued", file=sys.stderr)


def cmd_ledger_check(args):
    from lps_core.ledger.check import count_accounts, find_drift

    env = Environment(args.config)
    drift, total = env.transaction(lambda db: (find_drift(db), count_accounts(db)))
    for problem in drift:
        print(f"DRIFT {problem}")
    if drift:
        print(f"{len(drift)} of {total} accounts drift from their ledger", file=sys.stderr)
        return 1
    print(f"ledger OK: {total} accounts, every balance equals the sum of its entries")


def cmd_operator_create(args):
    import getpass

    from lps_core.operators.services import create_operator

    password = os.environ.get("LPS_OPERATOR_PASSWORD") or getpass.getpass("Initial password: ")
    env = Environment(args.config)
    env.transaction(lambda db: create_operator(db, args.username, password, display_name=args.name,
                                               roles=tuple(args.role or ["administrator"]), outlets=args.outlet))
    print(f"operator {args.username} created; they choose their own password at first sign-in")


def cmd_jobs_expire(args):
    from lps_core.expiry.jobs import run_expiry_job

    return run_expiry_job(Environment(args.config), args)


def cmd_jobs_tiers(args):
    from lps_core.tiers.jobs import run_tier_job

    return run_tier_job(Environment(args.config), args)


def cmd_jobs_birthdays(args):
    from lps_core.birthdays.jobs import run_birthday_job

    return run_birthday_job(Environment(args.config), args)


def cmd_jobs_rfm(args):
    from lps_core.analytics.scoring import run_rfm_job

    return run_rfm_job(Environment(args.config), args)


def cmd_jobs_campaigns(args):
    from lps_core.marketing.campaigns import run_campaigns_job

    return run_campaigns_job(Environment(args.config), args)


def cmd_jobs_memberships(args):
    from lps_core.cards.membership_jobs import run_membership_job

    return run_membership_job(Environment(args.config), args)


def cmd_plugins(args):
    from lps_core.plugins import SWITCHED_KINDS
    from lps_core.plugins.overview import components_by_kind, describe

    env = Environment(args.config)
    registry = env.plugins
    plugins = [{"name": name, "distribution": registry.distributions.get(name, name),
                "hooks": sorted(hook.name for hook in registry.pm.get_hookcallers(registry.pm.get_plugin(name)))}
               for name in registry.plugin_names()]
    kinds = {**components_by_kind(registry), "receipt_template": receipt_templates(registry, env.settings)}
    if args.json:
        print(json.dumps({"plugins": plugins, "components": {kind: [describe(component) for component in found]
                                                              for kind, found in kinds.items()}}, indent=2))
        return
    print("Plugins (distribution: hooks):")
    for plugin in plugins:
        print(f"  {plugin['name']} ({plugin['distribution']}): {', '.join(plugin['hooks'])}")
    for kind, found in kinds.items():
        switched = kind in SWITCHED_KINDS
        print(f"\n{kind}" + (" (switched per outlet)" if switched else ""))
        rows = [[component.name, f"plugin {component.plugin}",
                 f"from {component.distribution}" + (" (core)" if component.from_core else ""),
                 ("on" if component.from_core else "off") + " by default" if switched else ""]
                for component in found]
        print(_columns(rows, indent="  "))


def receipt_templates(registry, settings) -> list:
    """The receipt templates as components (kind "receipt_template"), with the plugin of each."""
    from lps_core.plugins import Component

    found = []
    for impl in registry.hook.lps_receipt_templates.get_hookimpls():
        provided = impl.function(*[{"settings": settings}[arg] for arg in impl.argnames]) or {}
        distribution = registry.distributions.get(impl.plugin_name, impl.plugin_name)
        found += [Component("receipt_template", name, spec, impl.plugin_name, distribution)
                  for name, spec in provided.items()]
    return sorted(found, key=lambda component: component.name)


def cmd_drivers(args):
    from lps_core.contract import CardRead, Misread, TagRead

    registry = _plugins_without_database(args.config)
    drivers = {**registry.components.get("card_reader", {}), **registry.components.get("pin_pad", {})}
    if args.probe is None:
        if args.port:
            print("lps: error: --port needs --probe DRIVER", file=sys.stderr)
            return 2
        if not drivers:
            print("no card-reader or PIN-pad driver is installed")
            return
        print(_columns([[name, drivers[name].obj.description, f"from {drivers[name].distribution}"]
                        for name in sorted(drivers)]))
        return
    if args.probe not in drivers:
        print(f"lps: error: no driver {args.probe!r} (installed: {', '.join(sorted(drivers)) or 'none'})",
              file=sys.stderr)
        return 1
    if not args.port:
        print("lps: error: --probe needs --port", file=sys.stderr)
        return 2
    options = dict(option.partition("=")[::2] for option in args.option)
    try:
        device = drivers[args.probe].obj.open(port=args.port, **options)
    except (OSError, ValueError) as exc:
        print(f"lps: error: {args.probe} cannot open {args.port}: {exc}", file=sys.stderr)
        return 1
    try:
        if drivers[args.probe].kind == "pin_pad":  # a probe asks a pad who it is, never for a PIN
            print(f"asking the PIN pad at {args.port} to identify itself", file=sys.stderr)
            identity = device.identify(args.timeout)
            print(identity if identity is not None else f"no answer within {args.timeout:g} s")
            return 0 if identity is not None else 1
        print(f"waiting up to {args.timeout:g} s for a card at {args.port}", file=sys.stderr)
        read = device.read_card(args.timeout)
    finally:
        device.close()
    if isinstance(read, Misread):
        print(f"misread: {read.reason}")
        return 1
    if isinstance(read, TagRead):
        print(f"tag {read.tag_id}")
    elif isinstance(read, CardRead):
        print(read.card_no)
    else:
        print(f"no card within {args.timeout:g} s")
        return 1


def cmd_terminal(args):
    from lps_core.terminals.agent import run_terminal

    if not args.key:
        print("lps: error: give the terminal's key with --key or $LPS_TERMINAL_KEY", file=sys.stderr)
        return 2
    if not 0 < args.expire_after <= 300 or args.buffer < 1:
        print("lps: error: --expire-after must be more than 0 and at most 300 seconds, and --buffer at least 1", file=sys.stderr)
        return 2
    drivers = _plugins_without_database(args.config).components.get("card_reader", {})
    if args.driver not in drivers:
        print(f"lps: error: no card-reader driver {args.driver!r} (installed: {', '.join(sorted(drivers)) or 'none'})",
              file=sys.stderr)
        return 1
    options = dict(option.partition("=")[::2] for option in args.option)
    return run_terminal(drivers[args.driver].obj, args.url, args.key, args.port, options,
                        expire_after=args.expire_after, buffer_size=args.buffer, timeout=args.timeout)


def _plugins_without_database(config_uri):
    """The plugins as the ini file sets them up, or with their defaults when there is no ini file:
    probing a reader on a cashier's PC needs no database."""
    import plaster

    from lps_core.plugins import load_plugins

    if not os.path.exists(config_uri):
        return load_plugins({})
    return load_plugins(plaster.get_loader(config_uri, protocols=["wsgi"]).get_settings("app:main"))


def _columns(rows, indent="") -> str:
    """Rows of text as left-aligned columns."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))] if rows else []
    return "\n".join(indent + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
                     for row in rows)


def cmd_pii_new_key(args):
    from lps_core.pii import new_key

    print(new_key())


def cmd_pii_rotate(args):
    from lps_core.members.privacy import reencrypt_personal_data

    env = Environment(args.config)
    total, last_id = 0, 0
    while True:  # one transaction per batch: an interrupted run resumes where it stopped
        count, last_id = env.transaction(lambda db: reencrypt_personal_data(db, after_id=last_id))
        total += count
        if not count:
            break
    print(f"personal data of {total} members re-encrypted with the newest key and re-indexed")


def pshell_setup(env):
    """`pshell config/development.ini`: a shell with `db` in an open transaction; call tm.commit()."""
    import transaction

    request = env["request"]
    request.tm = transaction.manager
    request.tm.begin()
    env["tm"] = request.tm
    env["db"] = request.dbsession


def _ensure_sqlite_dir(url):
    if url.startswith("sqlite:///"):
        directory = os.path.dirname(os.path.abspath(url[len("sqlite:///"):]))
        os.makedirs(directory, exist_ok=True)
