"""`lps worker` reports what it did with both of its queues when it stops: the messages of the
outbox and the webhook deliveries, each with its own counts."""
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from lps_core.members.services import Enrolment, enrol_member
from lps_core.messages.outbox import enqueue
from lps_core.testing import TEST_INI_LINES
from lps_core.timeutil import utcnow
from lps_core.webhooks import services
from lps_core.webhooks.models import WebhookDelivery

LPS = str(Path(sys.executable).parent / "lps")


def a_delivery(db, url, name, active=True) -> None:
    endpoint, _ = services.create_endpoint(db, services.EndpointValues(name, url, (services.POINTS_POSTED,), active))
    db.add(WebhookDelivery(endpoint_id=endpoint.id, event_id=f"evt_{name}", event_type=services.POINTS_POSTED,
                           body="{}", next_attempt_at=utcnow(), created_at=utcnow()))


def test_the_summary_line_counts_messages_and_webhooks_apart(db, seed, database_url, tmp_path, webhook_receiver):
    member_id = enrol_member(db, Enrolment(name="Li Wei", channel="desk", phone="+8613800000001",
                                           email="li@example.test"))
    enqueue(db, "tier_changed", member_id=member_id, context={"new_tier": "Gold"}, language="en")
    webhook_receiver.secret = "unused"
    a_delivery(db, webhook_receiver.url, "Website")
    a_delivery(db, webhook_receiver.url, "Switched off", active=False)
    db.commit()
    ini = tmp_path / "worker.ini"
    ini.write_text(f"[app:main]\nuse = egg:lps\nsqlalchemy.url = {database_url}\n{TEST_INI_LINES}"
                   "lps.messages.quiet_hours =\nlps.messages.rate_limit_per_hour = 0\n")
    done = subprocess.run([LPS, "-c", str(ini), "worker", "--once", "--name", "w1"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    # E-mail and SMS are off until switched on, so the member's inbox is the one channel that sends.
    assert ("lps worker w1: stopped; messages sent 1, retried 0, dead 0, cancelled 2, postponed 0; "
            "webhooks delivered 1, retried 0, dead 0, cancelled 1") in done.stdout, done.stdout + done.stderr
    assert len(webhook_receiver.received) == 1
    db.commit()  # a new snapshot
    assert sorted(db.scalars(select(WebhookDelivery.status))) == ["cancelled", "delivered"]
