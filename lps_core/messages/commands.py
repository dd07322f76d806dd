"""`lps message send`: one message through a channel, from the command line, to check that a
channel is set up and switched on (an SMTP server, a gateway) before members depend on it; and
`lps worker`, which delivers the outbox (lps_core.messages.worker)."""
from sqlalchemy import select

from lps_core.errors import NotFound

# Exit codes: EX_TEMPFAIL (sysexits.h) tells a script that trying again later may succeed.
EXIT_PERMANENT = 1
EXIT_TEMPORARY = 75


def add_message_commands(commands):
    """Add `message send` and `worker` to the `lps` command's subparsers."""
    message = commands.add_parser("message", help="messages to members").add_subparsers(title="message commands")
    send = message.add_parser("send", help="send one message through a channel switched on for the programme or "
                                           "an outlet; prints the outcome; exit 0 delivered, 75 temporary "
                                           "failure (try again), 1 permanent failure")
    send.add_argument("--channel", required=True, help="the channel's name, e.g. email (see lps plugins)")
    send.add_argument("--to", required=True, help="the recipient, an address the channel understands")
    send.add_argument("--subject", required=True)
    send.add_argument("--body", required=True)
    send.add_argument("--outlet", help="send as this outlet (its switch and settings; default: the programme's)")
    send.set_defaults(run=cmd_message_send)
    worker = commands.add_parser("worker", help="deliver the message outbox until stopped (SIGTERM or Ctrl-C "
                                                "finish the message in hand); several may run at once on "
                                                "PostgreSQL, one on SQLite")
    worker.add_argument("--once", action="store_true", help="deliver what is due, then exit")
    worker.add_argument("--name", help="this worker's name in the outbox while it sends (default: host:pid)")
    worker.set_defaults(run=cmd_worker)


def cmd_message_send(args):
    from lps_core.cli import Environment
    from lps_core.contract import Message
    from lps_core.messages.delivery import deliver

    env = Environment(args.config)
    message = Message(recipient=args.to, subject=args.subject, body=args.body)

    def send(db):
        outlet_id = _outlet_id(db, args.outlet) if args.outlet else None
        return deliver(db, env.plugins, message, channel=args.channel, outlet_id=outlet_id, outlet_code=args.outlet)

    result = env.transaction(send)
    print(": ".join(filter(None, [result.outcome, result.detail]))
          + (f" (id {result.gateway_id})" if result.gateway_id else ""))
    if result.delivered:
        return 0
    return EXIT_TEMPORARY if result.retry else EXIT_PERMANENT


def cmd_worker(args):
    from lps_core.cli import Environment
    from lps_core.db import get_engine
    from lps_core.messages.worker import Worker
    from lps_core.settings import settings_of

    env = Environment(args.config)
    read_engine = env.engine
    if env.engine.dialect.name == "sqlite":  # sending must not hold SQLite's write lock
        read_engine = get_engine(env.settings, immediate=False, statement_timeout=False)
    worker = Worker(_sessions(env.engine), env.plugins, settings_of(env.settings),
                    read_session_factory=_sessions(read_engine), name=args.name)
    worker.install_signal_handlers()
    print(f"lps worker {worker.name}: delivering the outbox of "
          f"{env.engine.url.render_as_string(hide_password=True)}" + (" (once)" if args.once else ""), flush=True)
    total = worker.run(once=args.once)
    print(f"lps worker {worker.name}: stopped; {total.summary()}", flush=True)
    return 0


def _sessions(engine):
    """Sessions outside the zope transaction manager: the worker commits each step itself."""
    from sqlalchemy.orm import Session

    return lambda: Session(engine, expire_on_commit=False)


def _outlet_id(db, code) -> int:
    from lps_core.outlets.models import Outlet

    outlet_id = db.scalar(select(Outlet.id).where(Outlet.code == code))
    if outlet_id is None:
        raise NotFound(f"outlet {code!r} does not exist", {"outlet": "no such outlet"})
    return outlet_id
