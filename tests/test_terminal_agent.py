"""The terminal agent against a real waitress server, fed by the magnetic-stripe driver's simulator
over a pseudo-terminal pair: swipes arrive once; with the server stopped and started again on the
same port, the buffered swipe is delivered once and an expired one never; a swipe whose answer was
lost is sent again and still taken once; a revoked key stops the agent with a clear message. Both
databases."""
import logging
import threading
import time

import pytest
from sqlalchemy import select

from lps_core.terminals.agent import KEY_REFUSED, LpsClient, TerminalAgent, Unreachable
from lps_core.terminals.models import TerminalSwipe
from lps_core.terminals.services import create_terminal, revoke_terminal, take_swipes

DEADLINE = 30  # seconds: generous, the machines are small and busy


class RestartableServer:
    """The app in waitress on 127.0.0.1, stopped and started again on the same port."""

    def __init__(self, app):
        self.app = app
        self.port = 0
        self.server = self.thread = None

    def start(self):
        from waitress.server import create_server
        self.server = create_server(self.app, host="127.0.0.1", port=self.port, threads=4)
        self.port = self.server.effective_port
        self.thread = threading.Thread(target=self._serve, args=(self.server,), daemon=True)
        self.thread.start()

    @staticmethod
    def _serve(server):
        try:
            server.run()
        except OSError:  # closing the server pulls its socket from under the polling loop
            pass

    def stop(self):
        self.server.close()
        self.thread.join(5)


@pytest.fixture
def lps(wsgi_app, seed):
    server = RestartableServer(wsgi_app)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def reader_and_simulator(plugins, pty_socket):
    """The serial_magstripe driver reading a pseudo-terminal; its simulator on the master end."""
    driver = plugins.components["card_reader"]["serial_magstripe"].obj
    reader = driver.open(port=pty_socket.path)
    simulator = driver.simulator(pty_socket.master)
    yield reader, simulator
    simulator.close()
    reader.close()


@pytest.fixture
def terminal_key(seed):
    from lps_core.operators.services import create_operator
    from lps_core.outlets.models import Outlet
    operator_id = create_operator(seed.db, "till.cashier", "Correct-horse-9", roles=["cashier"], outlets=["REST"],
                                  must_change_password=False)
    outlet_id = seed.db.scalar(select(Outlet.id).where(Outlet.code == "REST"))
    terminal, key = create_terminal(seed.db, outlet_id, "Till 1", [operator_id])
    seed.db.commit()
    return key, terminal.id, operator_id, outlet_id


def _wait_for(condition, what):
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _stored(db):
    db.rollback()
    rows = db.scalars(select(TerminalSwipe).order_by(TerminalSwipe.id)).all()
    db.rollback()
    return [row.card_no for row in rows]


def _start(agent):
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("code", agent.run()), daemon=True)
    thread.start()
    return thread, result


def test_swipes_arrive_once_and_survive_a_server_restart_but_never_late(lps, seed, reader_and_simulator,
                                                                         terminal_key, caplog):
    caplog.set_level(logging.INFO, logger="lps.terminal")
    reader, simulator = reader_and_simulator
    key, _, operator_id, outlet_id = terminal_key
    cards = [seed.member_card(f"Guest {n}") for n in range(3)]
    agent = TerminalAgent(reader, LpsClient(f"http://127.0.0.1:{lps.port}", key, timeout=3), expire_after=8,
                          max_backoff=0.5)
    thread, result = _start(agent)
    try:
        simulator.present(cards[0])
        _wait_for(lambda: len(agent.delivered) == 1, "the first swipe")
        assert _stored(seed.db) == [cards[0]]

        lps.stop()
        simulator.present(cards[1])  # will expire while the server is away
        _wait_for(lambda: "LPS unreachable" in caplog.text, "a failed delivery")
        time.sleep(8.5)
        simulator.present(cards[2])  # buffered, and delivered once the server is back
        _wait_for(lambda: "expired" in caplog.text, "the expired swipe to be dropped")
        lps.start()
        _wait_for(lambda: len(agent.delivered) == 2, "the buffered swipe")
        time.sleep(1)
        assert _stored(seed.db) == [cards[0], cards[2]]
        # the first swipe's time is up too by now: a cashier screen asking now gets only the last one
        assert [s["card_no"] for s in take_swipes(seed.db, operator_id, outlet_id)] == [cards[2]]
        seed.db.commit()
    finally:
        agent.stop()
        thread.join(10)
    assert result == {"code": 0}


def test_a_swipe_whose_answer_was_lost_is_sent_again_and_stored_once(lps, seed, reader_and_simulator, terminal_key):
    reader, simulator = reader_and_simulator
    key = terminal_key[0]
    card_no = seed.member_card()
    client = LpsClient(f"http://127.0.0.1:{lps.port}", key, timeout=3)
    sent = []

    def send_then_lose_the_first_answer(swipe, left):
        answer = LpsClient.send(client, swipe, left)
        sent.append((swipe.id, answer))
        if len(sent) == 1:
            raise Unreachable("connection reset before the answer")
        return answer

    client.send = send_then_lose_the_first_answer
    agent = TerminalAgent(reader, client, expire_after=30, max_backoff=0.2)
    thread, result = _start(agent)
    try:
        simulator.present(card_no)
        _wait_for(lambda: len(agent.delivered) == 1, "the swipe")
    finally:
        agent.stop()
        thread.join(10)
    assert sent[0][0] == sent[1][0] and sent[0][1][1]["duplicate"] is False and sent[1][1][1]["duplicate"] is True
    assert _stored(seed.db) == [card_no]


def test_a_revoked_key_is_refused_and_the_agent_stops_saying_why(lps, seed, reader_and_simulator, terminal_key,
                                                                  caplog):
    from lps_core.terminals.models import Terminal
    reader, simulator = reader_and_simulator
    key, terminal_id = terminal_key[:2]
    card_no = seed.member_card()
    agent = TerminalAgent(reader, LpsClient(f"http://127.0.0.1:{lps.port}", key, timeout=3), expire_after=30)
    thread, result = _start(agent)
    simulator.present(card_no)
    _wait_for(lambda: len(agent.delivered) == 1, "the first swipe")
    revoke_terminal(seed.db, seed.db.get(Terminal, terminal_id))
    seed.db.commit()
    simulator.present(card_no)
    thread.join(DEADLINE)
    assert result == {"code": KEY_REFUSED}
    assert "revoked" in str(agent.refused)
    assert "LPS refused the terminal key: the terminal was revoked" in caplog.text
    assert _stored(seed.db) == []  # revoking drops what the terminal sent and no screen took


def test_a_revoked_key_stops_the_agent_at_start(lps, seed, reader_and_simulator, terminal_key):
    from lps_core.terminals.models import Terminal
    reader = reader_and_simulator[0]
    key, terminal_id = terminal_key[:2]
    revoke_terminal(seed.db, seed.db.get(Terminal, terminal_id))
    seed.db.commit()
    agent = TerminalAgent(reader, LpsClient(f"http://127.0.0.1:{lps.port}", key, timeout=3))
    assert agent.run() == KEY_REFUSED and agent.refused is not None
