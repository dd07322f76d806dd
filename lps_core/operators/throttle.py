"""Throttling password guessing from one client address, across every LPS process.

Each failed sign-in is a row in login_failures; an address with ADDRESS_MAX_FAILURES failures in
the last ADDRESS_WINDOW may not sign in at all until the oldest of them ages out. (Per account,
operators.failed_logins locks the account after a few failures, whoever tries.)"""
from datetime import timedelta

from sqlalchemy import delete, func, insert, select

from lps_core.operators.models import LoginFailure

ADDRESS_MAX_FAILURES = 20
ADDRESS_WINDOW = timedelta(minutes=15)


def address_throttled(db, address, now) -> bool:
    if not address:
        return False
    failures = db.scalar(select(func.count()).select_from(LoginFailure)
                         .where(LoginFailure.address == address, LoginFailure.at > now - ADDRESS_WINDOW))
    return failures >= ADDRESS_MAX_FAILURES


def note_failure(db, address, now):
    """Count a failure against `address`, and forget failures older than the window (any address)."""
    if not address:
        return
    db.execute(delete(LoginFailure).where(LoginFailure.at <= now - ADDRESS_WINDOW))
    db.execute(insert(LoginFailure).values(address=address[:64], at=now))
