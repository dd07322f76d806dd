"""Messages to members on the configuration screens: the outbox at a glance, the templates of each
event per language and channel (plain text with named placeholders, a live preview, back to the
shipped default), and the dead letters with their retry. Every write is audited; all of it needs
config.manage, and the templates and retries, which act for the whole programme, an operator of
every outlet."""
from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config
from sqlalchemy import select

from lps_core.errors import LpsError
from lps_core.messages.models import DEAD, MessageTemplate, OutboxMessage
from lps_core.messages.templates import (
    ANY_CHANNEL,
    EVENTS,
    LANGUAGES,
    as_html,
    check_template,
    fill,
    reset_template,
    sample_values,
    save_template,
    template_for,
)
from lps_core.messages.worker import outbox_counts, retry_dead
from lps_core.operators.permissions import Permission
from lps_core.screens.config.forms import done, invalid, require_all_outlets
from lps_core.screens.shared import audit, dgettext
from lps_core.screens.shell.lists import paginate

DOMAIN = "lps_messages"
TEMPLATE = "lps_core.screens.config:templates/{}.pt"
EVENT_LABELS = {
    "enrolment_approved": dgettext("lps_messages", "Enrolment approved"),
    "enrolment_rejected": dgettext("lps_messages", "Enrolment rejected"),
    "points_earned": dgettext("lps_messages", "Points earned"),
    "points_expiring": dgettext("lps_messages", "Points expiring"),
    "tier_changed": dgettext("lps_messages", "Tier changed"),
    "redemption_ready": dgettext("lps_messages", "Redemption ready for pick-up"),
    "appeal_resolved": dgettext("lps_messages", "Appeal resolved"),
    "birthday": dgettext("lps_messages", "Birthday greeting"),
    "sign_in_code": dgettext("lps_messages", "One-time sign-in code"),
}
CHANNEL_LABELS = {
    "inbox": dgettext("lps_messages", "portal inbox"),
    "email": dgettext("lps_messages", "e-mail"),
    "sms": dgettext("lps_messages", "SMS"),
}
STATUS_LABELS = {
    "queued": dgettext("lps_messages", "waiting"),
    "sending": dgettext("lps_messages", "being sent"),
    "sent": dgettext("lps_messages", "sent"),
    "dead": dgettext("lps_messages", "dead letter"),
    "cancelled": dgettext("lps_messages", "not sent"),
}


def includeme(config):
    config.add_route("config.messages", "/config/messages")
    config.add_route("config.message_template", "/config/messages/templates/{event}/{language}")
    config.add_route("config.message_preview", "/config/messages/preview")
    config.add_route("config.dead_letters", "/config/messages/dead")
    config.add_route("config.message_retry", "/config/messages/{id:\\d+}/retry")
    config.add_static_view("config/messages/static", "lps_core.screens.config:messages_static", cache_max_age=3600)


def _label(event):
    return EVENT_LABELS.get(event.name, event.label)


def channel_label(name):
    """A channel's name for staff: LPS's own channels by their label, another by its name."""
    return CHANNEL_LABELS.get(name, name)


def _channels(request) -> list[str]:
    return [ANY_CHANNEL, *sorted(request.plugins.channels)]


@view_config(route_name="config.messages", renderer=TEMPLATE.format("messages"), permission=Permission.CONFIG_MANAGE)
def messages_overview(request):
    """The outbox by status, and each event's templates: staff's own or the shipped default."""
    db = request.dbsession
    custom = {(row.event, row.language, row.channel) for row in db.execute(
        select(MessageTemplate.event, MessageTemplate.language, MessageTemplate.channel))}
    return {"counts": outbox_counts(db), "events": list(EVENTS.values()), "languages": LANGUAGES, "custom": custom,
            "label": _label}


@view_config(route_name="config.message_template", renderer=TEMPLATE.format("message_template"),
             permission=Permission.CONFIG_MANAGE)
def edit_template(request):
    """One event's template in one language, for every channel or one (?channel=)."""
    event, language = request.matchdict["event"], request.matchdict["language"]
    if event not in EVENTS or language not in LANGUAGES:
        raise HTTPNotFound()
    channels = _channels(request)
    channel = request.params.get("channel") or ANY_CHANNEL
    if channel not in channels:
        raise HTTPNotFound()
    db = request.dbsession
    stored = db.scalar(select(MessageTemplate).where(MessageTemplate.event == event, MessageTemplate.language == language,
                                                     MessageTemplate.channel == channel))
    subject, body = template_for(db, event, language, channel)
    form, errors = {"subject": subject, "body": body}, {}
    if request.method == "POST":
        require_all_outlets(request)
        if request.POST.get("reset"):
            before = reset_template(db, event, language, channel)
            if before is not None:
                audit(request, "message_template.reset", ("message_template", f"{event}/{language}/{channel}"),
                      before=before)
            return done(request, dgettext("lps_messages", "The shipped text applies again."), "config.message_template",
                        event=event, language=language, _query={"channel": channel})
        form = {"subject": request.POST.get("subject", "").strip(), "body": request.POST.get("body", "").strip()}
        try:
            before, after = save_template(db, event, language, channel, form["subject"], form["body"],
                                          by=request.identity.username)
        except LpsError as exc:
            errors = dict(exc.fields or {})
            invalid(request, errors)
        else:
            audit(request, "message_template.edit", ("message_template", f"{event}/{language}/{channel}"),
                  before=before, after=after)
            return done(request, dgettext("lps_messages", "Template saved."), "config.message_template",
                        event=event, language=language, _query={"channel": channel})
    return {"event": EVENTS[event], "language": language, "channel": channel, "channels": channels,
            "languages": LANGUAGES, "stored": stored, "form": form, "errors": errors,
            "preview": _preview(event, form["subject"], form["body"]), "label": _label,
            "channel_label": channel_label}


@view_config(route_name="config.message_preview", request_method="POST", renderer="json",
             permission=Permission.CONFIG_MANAGE)
def preview_template(request):
    """The live preview: the text as a member would get it, with sample values, and its errors.
    A POST of the template form (with its CSRF token), so nothing typed lands in a URL or a log."""
    event = request.POST.get("event", "")
    if event not in EVENTS:
        request.response.status = 400
        return {"errors": {"event": "no such event"}}
    return _preview(event, request.POST.get("subject", ""), request.POST.get("body", ""))


def _preview(event, subject, body) -> dict:
    values = sample_values(event)
    filled = fill(body, values)
    return {"subject": fill(subject, values), "body": filled, "html": as_html(filled),
            "errors": check_template(event, subject, body)}


@view_config(route_name="config.dead_letters", renderer=TEMPLATE.format("dead_letters"),
             permission=Permission.CONFIG_MANAGE)
def dead_letters(request):
    """Messages that could not be delivered, newest first, filterable by channel and event."""
    search = {"channel": request.params.get("channel", "").strip(), "event": request.params.get("event", "").strip()}
    query = select(OutboxMessage).where(OutboxMessage.status == DEAD)
    if search["channel"]:
        query = query.where(OutboxMessage.channel == search["channel"])
    if search["event"]:
        query = query.where(OutboxMessage.event == search["event"])
    page = paginate(request.dbsession, request, query, {"created": OutboxMessage.created_at, "id": OutboxMessage.id,
                                                        "tries": OutboxMessage.tries}, "created", descending=True,
                    params=search)
    return {"page": page, "search": search, "events": list(EVENTS.values()), "channels": sorted(request.plugins.channels),
            "label": _label, "channel_label": channel_label}


@view_config(route_name="config.message_retry", request_method="POST", permission=Permission.CONFIG_MANAGE)
def retry(request):
    """Queue a dead letter again for a fresh set of tries (audited)."""
    require_all_outlets(request)
    message_id = int(request.matchdict["id"])
    try:
        change = retry_dead(request.dbsession, message_id)
    except LpsError as exc:
        return done(request, str(exc), "config.dead_letters")
    audit(request, "message.retry", ("message", message_id), before=change["before"], after=change["after"])
    return done(request, dgettext("lps_messages", "The message is queued again."), "config.dead_letters")
