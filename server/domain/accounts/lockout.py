"""The lockout rule for every password login (staff and residents): ``lockout_threshold`` wrong
passwords in a row lock the account for ``lockout_minutes``; a successful login or a password
reset clears the count."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from server.config import Settings


class Lockable(Protocol):
    """An account row with the two lockout columns."""

    failed_logins: int
    locked_until: datetime | None


def is_locked(account: Lockable, now: datetime) -> bool:
    """True while the account's lock has not run out."""
    return account.locked_until is not None and account.locked_until > now


def record_failure(account: Lockable, settings: Settings, now: datetime) -> bool:
    """Count one wrong password; returns True when this failure locked the account."""
    account.failed_logins += 1
    if account.failed_logins < settings.lockout_threshold:
        return False
    account.failed_logins = 0
    account.locked_until = now + timedelta(minutes=settings.lockout_minutes)
    return True


def clear(account: Lockable) -> None:
    """Forget failures and any lock (successful login, password reset)."""
    account.failed_logins = 0
    account.locked_until = None
