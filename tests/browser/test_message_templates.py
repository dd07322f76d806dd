"""The message template screen in the browser: the preview follows what staff type (the page's
script under the Content-Security-Policy), escapes it, and saving keeps the text."""
from lps_core.demo import DEMO_ADMIN


def test_the_preview_follows_typing_and_the_template_saves(page, sign_in, expect):
    sign_in(page, *DEMO_ADMIN)
    page.goto("/config/messages")
    page.click("#edit-tier_changed-en")
    expect(page.locator("#placeholders")).to_contain_text("{new_tier}")
    page.fill("#subject", "Now {new_tier}, {member_name}")
    page.fill("#body", "<b>{new_tier}</b> {nope}")
    expect(page.locator("#preview-subject")).to_have_text("Now Gold, Li Wei")
    expect(page.locator("#preview-body")).to_have_text("<b>Gold</b> ")
    expect(page.locator("#preview-errors")).to_contain_text("{nope}")
    page.fill("#body", "Dear {member_name}, you are {new_tier} now.")
    expect(page.locator("#preview-errors")).to_have_text("")
    page.click("#save-template")
    page.wait_for_load_state()
    expect(page.locator("#body")).to_have_value("Dear {member_name}, you are {new_tier} now.")
    page.click("#reset-template")
    page.wait_for_load_state()
    expect(page.locator("body")).to_contain_text("The shipped text applies")
