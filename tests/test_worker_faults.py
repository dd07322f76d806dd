"""The outbox survives faults, with real `lps worker` processes and a real SMTP server (aiosmtpd):
SMTP down for a while (nothing lost), a worker killed mid-batch (it is taken over, no duplicate),
two workers at once on PostgreSQL (no duplicate)."""
import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lps_core.members.services import Enrolment, enrol_member
from lps_core.messages.models import OutboxMessage
from lps_core.messages.outbox import enqueue
from lps_core.testing import TEST_INI_LINES, SmtpInbox

LPS = str(Path(sys.executable).parent / "lps")
LEASE_SECONDS = 5


class SlowInbox(SmtpInbox):
    """Takes `delay` seconds over each message's DATA before accepting it. A client that goes away
    in the meantime cancels the handler: the message is not accepted, as an MTA that has not
    answered the final dot has not taken responsibility for it."""

    def __init__(self, delay=0.0):
        super().__init__()
        self.delay = delay
        self.receiving = 0  # DATA commands begun

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.receiving += 1
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)

    def message_ids(self) -> list:
        return [message["Message-ID"] for message in self.messages()]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_smtp(inbox, port):
    from aiosmtpd.controller import Controller

    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


def write_ini(tmp_path, database_url, smtp_port, **settings) -> str:
    values = {"lps.email.host": "127.0.0.1", "lps.email.port": smtp_port, "lps.email.timeout": 5,
              "lps.email.sender": "loyalty@hotel.example.test", "lps.rules.cache_seconds": 0,
              "lps.messages.poll_seconds": 0.2, "lps.messages.lease_seconds": LEASE_SECONDS,
              "lps.messages.backoff_seconds": 1, "lps.messages.backoff_max_seconds": 2,
              "lps.messages.max_tries": 50, "lps.messages.quiet_hours": "", "lps.messages.rate_limit_per_hour": 0,
              **settings}
    path = tmp_path / "worker.ini"
    path.write_text(f"[app:main]\nuse = egg:lps\nsqlalchemy.url = {database_url}\n{TEST_INI_LINES}"
                    + "".join(f"{key} = {value}\n" for key, value in values.items()))
    return str(path)


def start_worker(ini, name) -> subprocess.Popen:
    return subprocess.Popen([LPS, "-c", ini, "worker", "--name", name], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, preexec_fn=lambda: os.nice(19))


def stop(worker) -> str:
    """SIGTERM, then what the worker printed."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
    output, _ = worker.communicate(timeout=30)
    return output


def wait_for(condition, timeout=60, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def queue_messages(db, count) -> list[int]:
    ids = []
    for n in range(count):
        member_id = enrol_member(db, Enrolment(name=f"Guest {n}", channel="desk", email=f"guest{n}@example.test"))
        ids += enqueue(db, "tier_changed", member_id=member_id, context={"new_tier": "Gold"}, channels=["email"],
                       language="en")
    db.commit()
    return ids


def fresh(db, statement):
    db.commit()  # a new snapshot: see what the workers committed
    return db.scalar(statement)


def statuses(db) -> dict:
    db.commit()  # a new snapshot
    return dict(db.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())


@pytest.fixture
def email_on(seed):
    seed.switch("channel", "email")


def test_smtp_down_for_a_while_then_back_loses_nothing(db, seed, email_on, database_url, tmp_path):
    ids = queue_messages(db, 5)
    port = free_port()  # nothing listens yet: the server is down
    worker = start_worker(write_ini(tmp_path, database_url, port), "w1")
    controller = None
    try:
        wait_for(lambda: fresh(db, select(func.min(OutboxMessage.tries))) >= 2, what="two failed tries")
        assert set(statuses(db)) <= {"queued", "sending"}  # still trying: none dead, none lost
        assert "ConnectionRefusedError" in db.scalar(select(OutboxMessage.last_error).limit(1))
        inbox = SlowInbox()
        controller = start_smtp(inbox, port)  # the server is back
        wait_for(lambda: statuses(db) == {"sent": 5}, what="every message sent")
    finally:
        output = stop(worker)
        if controller is not None:
            controller.stop()
    assert sorted(inbox.message_ids()) == sorted(f"<lps-message-{i}@hotel.example.test>" for i in ids), output
    assert "sent 5" in output


def test_a_worker_killed_mid_batch_is_taken_over_with_no_duplicate(db, seed, email_on, database_url, tmp_path):
    ids = queue_messages(db, 6)
    port = free_port()
    inbox = SlowInbox(delay=0.5)
    controller = start_smtp(inbox, port)
    ini = write_ini(tmp_path, database_url, port)
    try:
        first = start_worker(ini, "first")
        # Killed while the server is taking its third message: two sent, one in flight, three claimed.
        wait_for(lambda: inbox.receiving >= 3, what="the third message on the wire")
        first.kill()
        first.wait(10)
        time.sleep(inbox.delay + 0.3)
        assert len(inbox.envelopes) == 2
        left = statuses(db)
        assert left == {"sent": 2, "sending": 4}, left
        killed_at = time.monotonic()
        second = start_worker(ini, "second")
        wait_for(lambda: statuses(db) == {"sent": 6}, what="every message sent")
        # The second worker waited for the lease of the killed one's messages.
        assert time.monotonic() - killed_at >= LEASE_SECONDS - 1
        output = stop(second)
    finally:
        controller.stop()
    message_ids = inbox.message_ids()
    assert len(message_ids) == len(set(message_ids)) == 6, output
    assert set(message_ids) == {f"<lps-message-{i}@hotel.example.test>" for i in ids}
    db.commit()
    assert db.scalar(select(func.max(OutboxMessage.tries))) == 2  # the in-flight ones: tried twice, sent once
    assert "sent 4" in output


def test_two_workers_at_once_send_each_message_once(db, seed, email_on, database_url, tmp_path, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("several workers at once is a PostgreSQL set-up (FOR UPDATE SKIP LOCKED); on SQLite run one")
    ids = queue_messages(db, 30)
    port = free_port()
    inbox = SlowInbox(delay=0.02)
    controller = start_smtp(inbox, port)
    ini = write_ini(tmp_path, database_url, port, **{"lps.messages.batch_size": 3})
    try:
        workers = [start_worker(ini, "a"), start_worker(ini, "b")]
        wait_for(lambda: statuses(db) == {"sent": 30}, what="every message sent")
        outputs = [stop(worker) for worker in workers]
    finally:
        controller.stop()
    message_ids = inbox.message_ids()
    assert len(message_ids) == len(set(message_ids)) == len(ids), outputs
    assert all("sent 0," not in output for output in outputs), outputs  # both took part
