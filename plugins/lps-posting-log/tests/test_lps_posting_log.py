"""The posting_log plugin: JSON lines on the logger lps.postings, and its per-process status route."""
import json
import logging
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

import lps_posting_log

pytest_plugins = ["lps_core.testing"]

STATUS = "/plugins/posting-log/status"


@pytest.fixture
def lines(caplog):
    """The JSON lines written to lps.postings during the test, decoded."""
    caplog.set_level(logging.INFO, logger="lps.postings")

    def decoded():
        return [json.loads(r.getMessage()) for r in caplog.records if r.name == "lps.postings"]

    return decoded


def posting_log_hook(plugins, name):
    """The hook `name` as the posting log alone answers it: these calls pass no database session,
    which LPS's own listeners of the same hooks (its members' messages) need."""
    others = [plugin for plugin in plugins.pm.get_plugins() if plugin is not lps_posting_log]
    return plugins.pm.subset_hook_caller(name, remove_plugins=others)


def test_the_plugin_is_discovered_under_its_entry_point_name(plugins):
    assert "posting_log" in plugins.plugin_names()
    assert plugins.pm.get_plugin("posting_log") is lps_posting_log


def test_an_earn_and_a_partial_refund_are_logged_and_counted(testapp, seed, lines):
    auth = {"Authorization": f"Bearer {seed.api_key('REST')}"}
    card_no = seed.member_card()
    before = testapp.get(STATUS).json

    earned = testapp.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": "B-100", "amount": "80.00"},
                               headers=auth, status=201).json
    refund = testapp.post_json(f"/api/v1/transactions/{earned['id']}/reversal", {"amount": "20.00"},
                               headers=auth, status=201).json

    posted, refunded, reversed_ = lines()
    member_id = posted["member_id"]
    assert isinstance(member_id, int)
    assert posted["at"].endswith("Z") and refunded["at"].endswith("Z") and reversed_["at"].endswith("Z")
    del posted["at"], refunded["at"], reversed_["at"]
    assert posted == {
        "event": "points_posted", "transaction_id": earned["id"], "outlet_id": posted["outlet_id"],
        "bill_no": "B-100", "member_id": member_id, "points": 80, "balance_after": 80,
        "entry_id": posted["entry_id"],
    }
    assert isinstance(posted["outlet_id"], int) and isinstance(posted["entry_id"], int)
    assert reversed_ == {
        "event": "points_reversed", "transaction_id": earned["id"], "outlet_id": posted["outlet_id"],
        "bill_no": "B-100", "member_id": member_id, "points": -20, "balance_after": 60,
        "entry_id": reversed_["entry_id"], "refund_id": refund["id"], "refund_no": refund["refund_no"],
    }
    assert refunded == {
        "event": "bill_refunded", "transaction_id": earned["id"], "outlet_id": posted["outlet_id"],
        "member_id": member_id, "refund_id": refund["id"], "refund_no": refund["refund_no"],
        "refunded_cents": 2000, "points": -20, "whole": False,
    }
    assert reversed_["entry_id"] != posted["entry_id"]
    assert refund["points"] == 20 and refund["points_balance"] == 60

    after = testapp.get(STATUS).json
    assert after["scope"] == "process" and after["logger"] == "lps.postings" and after["logger_enabled"]
    assert after["events"]["points_posted"] == before["events"]["points_posted"] + 1
    assert after["events"]["points_reversed"] == before["events"]["points_reversed"] + 1
    assert after["events"]["bill_refunded"] == before["events"]["bill_refunded"] + 1
    assert after["events"]["tier_changed"] == before["events"]["tier_changed"]


def test_a_replayed_bill_is_not_logged_again(testapp, seed, lines):
    auth = {"Authorization": f"Bearer {seed.api_key('REST')}"}
    body = {"card_no": seed.member_card(), "bill_no": "B-200", "amount": "10.00"}
    testapp.post_json("/api/v1/transactions", body, headers=auth, status=201)
    testapp.post_json("/api/v1/transactions", body, headers=auth, status=200)
    assert [line["event"] for line in lines()] == ["points_posted"]


def test_a_tier_change_is_logged(lines, plugins):
    before, _ = lps_posting_log.counts.snapshot()
    posting_log_hook(plugins, "lps_on_tier_changed")(dbsession=None, member_id=1, old_tier="classic", new_tier="gold")
    [line] = lines()
    assert line.pop("at").endswith("Z")
    assert line == {"event": "tier_changed", "member_id": 1, "old_tier": "classic", "new_tier": "gold"}
    after, _ = lps_posting_log.counts.snapshot()
    assert after["tier_changed"] == before["tier_changed"] + 1


def test_an_expiry_warning_is_logged(lines, plugins):
    from datetime import date

    posting_log_hook(plugins, "lps_on_points_expiring")(dbsession=None, member_id=7, account_id=9, points=120,
                                        expires_on=date(2026, 12, 31))
    [line] = lines()
    line.pop("at")
    assert line == {"event": "points_expiring", "member_id": 7, "account_id": 9, "points": 120,
                    "expires_on": "2026-12-31"}


def test_a_credit_warning_is_logged(lines, plugins):
    posting_log_hook(plugins, "lps_on_credit_warning")(dbsession=None, card_id=4, member_id=None, used_cents=85000,
                                       limit_cents=100000)
    [line] = lines()
    line.pop("at")
    assert line == {"event": "credit_warning", "card_id": 4, "member_id": None, "used_cents": 85000,
                    "limit_cents": 100000}


class BrokenHandler(logging.Handler):
    def emit(self, record):
        raise OSError("disk full")

    def handleError(self, record):  # noqa: N802 - what a handler that does not catch looks like
        raise


@pytest.fixture
def broken_handler():
    handler = BrokenHandler()
    logger = logging.getLogger("lps.postings")
    logger.addHandler(handler)
    yield
    logger.removeHandler(handler)


def test_a_logging_failure_is_a_warning_not_an_error(caplog, broken_handler, plugins):
    caplog.set_level(logging.INFO, logger="lps.postings")
    _, failed_before = lps_posting_log.counts.snapshot()
    posting_log_hook(plugins, "lps_on_tier_changed")(dbsession=None, member_id=7, old_tier=None, new_tier="silver")
    _, failed_after = lps_posting_log.counts.snapshot()
    assert failed_after["tier_changed"] == failed_before["tier_changed"] + 1
    [warning] = [r for r in caplog.records if r.name == "lps_posting_log"]
    assert warning.levelno == logging.WARNING and "tier_changed" in warning.getMessage()
    assert isinstance(warning.exc_info[1], OSError)


def test_an_error_that_is_not_a_logging_failure_is_not_swallowed(lines, plugins):
    posting = SimpleNamespace(entry_id=1, account_id=1, amount=5, balance_after=5)  # and a bill without an id
    with pytest.raises(AttributeError):
        posting_log_hook(plugins, "lps_on_points_posted")(dbsession=None, posting=posting, bill=SimpleNamespace())
    assert lines() == []


def test_nothing_is_written_or_counted_when_the_logger_is_off(caplog, plugins):
    caplog.set_level(logging.WARNING, logger="lps.postings")
    before = lps_posting_log.counts.snapshot()
    posting_log_hook(plugins, "lps_on_tier_changed")(dbsession=None, member_id=1, old_tier="gold", new_tier="classic")
    assert lps_posting_log.counts.snapshot() == before
    assert not [r for r in caplog.records if r.name == "lps.postings"]


def test_the_documented_ini_example_writes_the_lines_to_a_file(tmp_path):
    """The [logger_postings] example of the module docstring, merged into the shipped development.ini."""
    doc = lps_posting_log.__doc__
    example = textwrap.dedent(doc[doc.index("    [loggers]"):doc.index("``propagate = 0``")])
    ini = tmp_path / "lps.ini"
    (tmp_path / "var").mkdir()
    script = textwrap.dedent(f"""
        import configparser, logging, logging.config, sys
        parser = configparser.ConfigParser(defaults={{"here": {str(tmp_path / "etc")!r}}})
        parser.read({str(Path(__file__).parents[3] / "config" / "development.ini")!r})
        parser.read_string({example!r})
        with open({str(ini)!r}, "w") as f:
            parser.write(f)
        logging.config.fileConfig({str(ini)!r}, defaults={{"here": {str(tmp_path / "etc")!r}}},
                                  disable_existing_loggers=False)
        import lps_posting_log
        lps_posting_log.lps_on_tier_changed(member_id=3, old_tier=None, new_tier="gold")
    """)
    (tmp_path / "etc").mkdir()
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "tier_changed" not in result.stderr  # propagate = 0 keeps it off the console
    [line] = (tmp_path / "var" / "postings.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["new_tier"] == "gold"
