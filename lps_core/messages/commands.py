"""`lps message send`: one message through a channel, from the command line, to check that a
channel is set up and switched on (an SMTP server, a gateway) before members depend on it."""
from sqlalchemy import select

from lps_core.errors import NotFound

# Exit codes: EX_TEMPFAIL (sysexits.h) tells a script that trying again later may succeed.
EXIT_PERMANENT = 1
EXIT_TEMPORARY = 75


def add_message_commands(commands):
    """Add `message send` to the `lps` command's subparsers."""
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


def _outlet_id(db, code) -> int:
    from lps_core.outlets.models import Outlet

    outlet_id = db.scalar(select(Outlet.id).where(Outlet.code == code))
    if outlet_id is None:
        raise NotFound(f"outlet {code!r} does not exist", {"outlet": "no such outlet"})
    return outlet_id
