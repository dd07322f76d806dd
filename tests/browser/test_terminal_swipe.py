"""A card swiped at a terminal appears on the cashier screen: a terminal registered on its screen,
the agent (`lps terminal`'s TerminalAgent) reading the magnetic-stripe driver over a pseudo-terminal
pair fed by its simulator, and the cashier's page filling the card field and showing the member
with no keystroke and no click."""
import re
import threading

from lps_core.demo import DEMO_ADMIN

GUEST = "Zhang Min"
NEXT_GUEST = "Li Wei"


def _card_of(page, name):
    """The member's card number, as the cashier's look-up by name shows it."""
    page.goto(f"/cashier?outlet=REST&name={name}")
    return re.search(r"\d{8,}", page.locator("#card dl.facts dd").first.inner_text()).group(0)


def test_a_swipe_at_the_terminal_fills_the_card_field_and_shows_the_member(page, sign_in, expect, live_server,
                                                                           pty_socket):
    from lps_core.plugins import load_plugins
    from lps_core.terminals.agent import LpsClient, TerminalAgent

    sign_in(page, *DEMO_ADMIN)
    card_no, next_card_no = (_card_of(page, name) for name in (GUEST, NEXT_GUEST))

    # The terminal, registered for the restaurant, feeding the admin's cashier screen.
    page.goto("/config/terminals/new?outlet=REST")
    page.fill("#name", "Restaurant till")
    page.check(f"#operator-{DEMO_ADMIN[0]}")
    page.click("#save-terminal")
    key = page.locator("#terminal-key").inner_text().strip()
    assert key.startswith("lpt_")

    driver = load_plugins({}).components["card_reader"]["serial_magstripe"].obj
    reader = driver.open(port=pty_socket.path)
    simulator = driver.simulator(pty_socket.master)
    agent = TerminalAgent(reader, LpsClient(live_server, key, timeout=5), expire_after=30)
    thread = threading.Thread(target=agent.run, daemon=True)
    thread.start()
    try:
        page.goto("/cashier?outlet=REST")
        expect(page.locator("#card_no")).to_have_value("")
        page.evaluate("window.sameDocument = true")  # gone if the page were loaded again
        simulator.present(card_no)
        expect(page.locator("#card h2")).to_have_text(GUEST)
        expect(page.locator("#card_no")).to_have_value(card_no)
        # The screen goes on listening: the next guest's swipe replaces the first.
        simulator.present(next_card_no)
        expect(page.locator("#card h2")).to_have_text(NEXT_GUEST)
        expect(page.locator("#card_no")).to_have_value(next_card_no)
        assert len(agent.delivered) == 2
        assert page.evaluate("window.sameDocument === true")  # looked up in place, no page load
    finally:
        agent.stop()
        thread.join(10)
        simulator.close()
        reader.close()

    # Revoked on the terminals screen, its key is refused.
    page.goto("/config/terminals")
    row = page.locator("#terminal-list tbody tr", has_text="Restaurant till")
    row.locator("button[id^=revoke-]").click()
    expect(page.locator(".flash")).to_contain_text("revoked")
    expect(page.locator("#terminal-list tbody tr", has_text="Restaurant till")).to_contain_text("revoked")
