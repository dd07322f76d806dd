"""The outbox: messages to members written in the transaction of the business event that causes
them, and delivered after commit by `lps worker` (lps_core.messages.worker).

    from lps_core.messages.outbox import enqueue

    ids = enqueue(db, "appeal_resolved", member_id=appeal.member_id, key=f"appeal:{appeal.id}",
                  context={"appeal_no": appeal.number, "outcome": "approved", "answer": text})

`enqueue(db, event, *, member_id, context, marketing=None, key=None, outlet_id=None, language=None,
channels=None) -> list[int]`

- Call it INSIDE the business transaction, with the session that writes the business change: a
  transaction that rolls back queues nothing, and one that commits cannot lose its messages.
- `event` is one of lps_core.messages.templates.EVENTS (enrolment_approved, enrolment_rejected,
  points_earned, points_expiring, tier_changed, redemption_ready, appeal_resolved, birthday,
  sign_in_code). `context` gives its placeholders' values ({member_name} is filled in from the
  member); the message is rendered now, from staff's template or the shipped default, in
  `language` (default: lps.messages.default_language).
- It writes one row per channel the member can be reached on: the portal inbox always, e-mail
  with an e-mail address, SMS with a phone number, among the channels installed (`channels`
  narrows them). A marketing message (`marketing=True`, or an event that is marketing, such as
  birthday) goes only to channels the member agreed to (lps_core.messages.consent); a service
  message needs no consent.
- `key` names the business event (an appeal's id, a redemption's id, "2026" for a birthday): with
  the event it is unique per channel, so a retried request or a job run twice never queues the
  message twice; the second call returns the ids it did not write (none). Without a key nothing
  is deduplicated.
- `outlet_id`: the outlet the message is sent as (its channel switches and settings); None: the
  programme's.
- Returns the ids of the rows written. Nothing is logged with the message's text; a secret event
  (sign_in_code) keeps its body only until it is sent.

Quiet hours, the rate limit and consent withdrawn later are applied by the worker when it sends.
"""
from sqlalchemy import select, update

from lps_core.messages.models import CANCELLED, MARKETING, QUEUED, SERVICE, OutboxMessage
from lps_core.messages.templates import as_html, event_of, render
from lps_core.timeutil import utcnow

DEFAULT_LANGUAGE = "zh_CN"
INBOX = "inbox"
# The member's address on each kind of channel, in the order they are tried; the portal inbox
# needs none (the member's id).
CONTACT_FIELDS = {INBOX: None, "email": "email", "sms": "phone"}
HTML_CHANNELS = ("email",)


def enqueue(db, event, *, member_id, context: dict, marketing=None, key=None, outlet_id=None, language=None,
            channels=None) -> list[int]:
    """Queue the event's message to the member on each of their channels; see the module's docstring."""
    from lps_core.members.models import Member

    spec = event_of(event)
    marketing = spec.marketing if marketing is None else marketing
    member = db.get(Member, member_id)
    if member is None:
        return []
    settings = messages_settings(db)
    language = language or getattr(member, "language", None) or settings.default_language
    installed = _installed_channels(db)
    wanted = [name for name in (channels or CONTACT_FIELDS) if name in CONTACT_FIELDS
              and (installed is None or name in installed)]
    if marketing:
        from lps_core.messages.consent import consents_of

        agreed = consents_of(db, member_id)
        wanted = [name for name in wanted if agreed.get(name)]
    values = {"member_name": member.name, **{name: "" if value is None else str(value)
                                             for name, value in context.items()}}
    now = utcnow()
    ids = []
    for channel in wanted:
        field = CONTACT_FIELDS[channel]
        recipient = str(member_id) if field is None else getattr(member, field)
        if not recipient:
            continue
        rendered = render(db, event, language, channel, values)
        row = {"member_id": member_id, "outlet_id": outlet_id, "event": event, "channel": channel,
               "kind": MARKETING if marketing else SERVICE, "language": language, "recipient": recipient,
               "subject": rendered.subject, "body": rendered.body,
               "html": as_html(rendered.body) if channel in HTML_CHANNELS else None,
               "secret": spec.secret, "status": QUEUED, "tries": 0, "next_attempt_at": now,
               "dedupe_key": None if key is None else f"{event}:{key}"[:200], "created_at": now}
        message_id = _insert(db, row)
        if message_id is not None:
            ids.append(message_id)
    return ids


def cancel_marketing(db, member_id, channel, *, reason) -> int:
    """Cancel the member's marketing messages still queued on the channel (consent withdrawn)."""
    result = db.execute(update(OutboxMessage).where(
        OutboxMessage.member_id == member_id, OutboxMessage.channel == channel,
        OutboxMessage.kind == MARKETING, OutboxMessage.status == QUEUED,
    ).values(status=CANCELLED, last_error=reason))
    return result.rowcount


def _insert(db, row) -> int | None:
    """Insert the row unless its dedupe key is taken on its channel: ON CONFLICT DO NOTHING, so
    the business transaction never fails (or aborts, on PostgreSQL) because of a duplicate."""
    dialect = db.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(OutboxMessage).values(**row)
    if row["dedupe_key"] is not None:
        statement = statement.on_conflict_do_nothing(index_elements=["dedupe_key", "channel"])
    return db.scalar(statement.returning(OutboxMessage.id))


def _registry(db):
    """The application's registry, from the session of a request, or one a command or the worker
    opened with info={"registry": ...}."""
    request = db.info.get("request")
    return request.registry if request is not None else db.info.get("registry")


def messages_settings(db):
    """The typed lps.messages.* settings of the app or command whose session this is (defaults
    without one)."""
    from lps_core.components import ISettings
    from lps_core.settings import MessageSettings, settings_of

    registry = _registry(db)
    if registry is not None:
        settings = registry.queryUtility(ISettings)
        return settings.messages if settings is not None else MessageSettings()
    environment = db.info.get("environment")  # an `lps` command's (lps_core.cli.Environment)
    return settings_of(environment.settings).messages if environment is not None else MessageSettings()


def _installed_channels(db) -> set | None:
    """The names of the channels installed, or None when this session cannot tell (every kind is
    queued; the worker cancels a message whose channel is missing or switched off)."""
    from lps_core.components import IPlugins

    registry = _registry(db)
    if registry is not None:
        plugins = registry.queryUtility(IPlugins)
    else:
        environment = db.info.get("environment")
        plugins = environment.plugins if environment is not None else None
    return None if plugins is None else set(plugins.channels)


def due_count(db) -> int:
    from sqlalchemy import func

    return db.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == QUEUED))
