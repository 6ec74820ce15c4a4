"""Passwords, the session secret, CSRF tokens and the limit on failed sign-ins."""
from __future__ import annotations

import os
import secrets
import threading
import time
from collections import deque
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = _hasher.hash("not a password anyone has")

MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; an unknown user costs the same time as a wrong password."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def session_secret(db_path: Path) -> str:
    """The key that signs session cookies: $CALLQA_SECRET_KEY, else a random key kept (mode 0600)
    in `<db>.secret` beside the database, made on first use, so sessions survive a restart."""
    explicit = os.environ.get("CALLQA_SECRET_KEY")
    if explicit:
        return explicit
    path = db_path.with_name(db_path.name + ".secret")
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and secrets.compare_digest(str(a), str(b))


class SignInLimiter:
    """Failed sign-ins per user name and per client address within a window: past the limit,
    sign-in is refused (even with the right password) until the window has passed.

    Kept in memory: a restart of `callqa review` clears it, and nothing is written while the
    nightly run holds the database.
    """

    def __init__(self, per_user: int = 5, per_client: int = 30, window_s: float = 900.0) -> None:
        self.per_user, self.per_client, self.window_s = per_user, per_client, window_s
        self._failures: dict[tuple[str, str], deque] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def retry_after(self, username: str, client: str) -> float:
        """Seconds until a sign-in may be tried again (0: now)."""
        now = time.monotonic()
        with self._lock:
            waits = []
            for key, limit in ((("user", username.lower()), self.per_user), (("client", client), self.per_client)):
                times = self._recent(key, now)
                if len(times) >= limit:
                    waits.append(self.window_s - (now - times[-limit]))
            return max(waits, default=0.0)

    def failed(self, username: str, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in (("user", username.lower()), ("client", client)):
                self._recent(key, now).append(now)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(("user", username.lower()), None)


def password_stamp(password_hash: str) -> str:
    """What a session remembers of the password it signed in with (not the hash itself): a new
    password ends every session made with the old one."""
    import hashlib

    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]
