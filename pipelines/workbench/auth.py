"""Who may use the workbench: users and their offices from settings (`workbench.users`),
passwords as argon2id hashes, an optional single-sign-on header set by a trusted reverse
proxy, server-side sessions behind a signed cookie, per-session CSRF tokens, and a limit on
failed logins per user and per client address.
"""
from __future__ import annotations

import hmac
import os
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, Signer

from pipelines.errors import UserError
from pipelines.io.workspace import Workspace

_hasher = PasswordHasher()  # argon2id, the library's (RFC 9106 low-memory) parameters
# Verified when the user is unknown, so a login takes as long whoever is named.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))
SECRET_FILE = "workbench.secret"
MIN_SECRET_BYTES = 32


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise UserError("a password needs at least 8 characters")
    return _hasher.hash(password)


@dataclass(frozen=True)
class User:
    name: str
    offices: frozenset[str]
    password_hash: str | None = None  # None: the user can only come in through single sign-on

    def may_see(self, office: str) -> bool:
        return office in self.offices


def load_users(wb: dict) -> dict[str, User]:
    """`workbench.users`: name -> {offices: [...], password_hash: "$argon2id$..."}; checked here."""
    users = {}
    for name, spec in (wb.get("users") or {}).items():
        spec = spec or {}
        offices = spec.get("offices") or []
        if not isinstance(offices, list) or not offices or not all(isinstance(o, str) and o for o in offices):
            raise UserError(f"settings workbench.users.{name}.offices must be a non-empty list of office codes")
        password_hash = spec.get("password_hash") or None
        if password_hash is not None and not str(password_hash).startswith("$argon2id$"):
            raise UserError(f"settings workbench.users.{name}.password_hash is not an argon2id hash; make one with "
                            f"`shiprisk serve --add-user {name} --office {offices[0]}`")
        unknown = set(spec) - {"offices", "password_hash"}
        if unknown:
            raise UserError(f"settings workbench.users.{name}: unknown key(s) {', '.join(sorted(unknown))}")
        users[str(name)] = User(str(name), frozenset(offices), password_hash)
    return users


def check_password(users: dict[str, User], name: str, password: str) -> User | None:
    """The user if `password` is theirs; one argon2 verification whatever the outcome."""
    user = users.get(name)
    stored = user.password_hash if user and user.password_hash else _DUMMY_HASH
    try:
        ok = _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    return user if ok and user is not None and user.password_hash else None


def session_secret(workspace: Workspace, wb: dict) -> bytes:
    """The cookie-signing key: the environment variable named by `session_secret_env` if set,
    else W/workbench.secret, created with mode 0600 on first start. Never in the settings."""
    from_env = os.environ.get(wb.get("session_secret_env") or "", "")
    if from_env:
        if len(from_env.encode()) < MIN_SECRET_BYTES:
            raise UserError(f"{wb['session_secret_env']} holds fewer than {MIN_SECRET_BYTES} bytes; "
                            "use e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`")
        return from_env.encode()
    path = Path(workspace.workbench_db).with_name(SECRET_FILE)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            raise UserError(f"{path} is readable by others; `chmod 600 {path}`") from None
        return path.read_bytes().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_urlsafe(48))
    return path.read_bytes().strip()


@dataclass
class Session:
    sid: str
    csrf: str
    created: float
    user: str | None = None
    via_sso: bool = False
    data: dict = field(default_factory=dict)


class Sessions:
    """Server-side sessions; the cookie holds only a signed random id. Logging out (or a
    restart) ends a session for good: a copied cookie is worth nothing afterwards."""

    def __init__(self, secret: bytes, max_age_seconds: float, limit: int = 20_000):
        self._signer = Signer(secret, salt="shiprisk-workbench-session")
        self._max_age = max_age_seconds
        self._limit = limit
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def new(self, user: str | None = None, via_sso: bool = False) -> Session:
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), time.monotonic(), user, via_sso)
        with self._lock:
            if len(self._sessions) >= self._limit:
                self._prune()
            if len(self._sessions) >= self._limit:  # still full: drop the oldest, signed-out ones first
                oldest = min(self._sessions.values(), key=lambda s: (s.user is not None, s.created))
                del self._sessions[oldest.sid]
            self._sessions[session.sid] = session
        return session

    def _prune(self) -> None:
        now = time.monotonic()
        for sid in [sid for sid, s in self._sessions.items() if now - s.created > self._max_age]:
            del self._sessions[sid]

    def cookie(self, session: Session) -> str:
        return self._signer.sign(session.sid).decode()

    def get(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        try:
            sid = self._signer.unsign(cookie).decode()
        except (BadSignature, UnicodeDecodeError):
            return None
        with self._lock:
            session = self._sessions.get(sid)
            if session and time.monotonic() - session.created > self._max_age:
                del self._sessions[sid]
                return None
        return session

    def drop(self, session: Session) -> None:
        with self._lock:
            self._sessions.pop(session.sid, None)


def csrf_ok(session: Session | None, token: object) -> bool:
    return bool(session) and isinstance(token, str) and hmac.compare_digest(session.csrf.encode(), token.encode())


class LoginLimiter:
    """At most `per_user` failed logins per user name and `per_address` per client address (an
    office behind one NAT address shares it) within `window` seconds.

    A login first takes a slot (`attempt`, counted as a failure) and gives it back only when the
    password was right (`succeeded`), so parallel guesses cannot slip past the limit."""

    def __init__(self, per_user: int, per_address: int, window: float):
        self.limits = {"user": per_user, "ip": per_address}
        self.window = window
        self._failures: dict[str, deque] = {}
        self._lock = threading.Lock()

    @staticmethod
    def keys(name: str, address: str) -> list[str]:
        return [f"user:{name.lower()}", f"ip:{address}"]

    def _wait(self, keys: list[str], now: float) -> float:
        wait = 0.0
        for key in keys:
            failures = self._failures.get(key)
            while failures and now - failures[0] > self.window:
                failures.popleft()
            limit = self.limits[key.split(":", 1)[0]]
            if failures and len(failures) >= limit:
                wait = max(wait, self.window - (now - failures[-limit]))
        return wait

    def wait_seconds(self, keys: list[str]) -> int:
        """0 if a login may be tried now, else the seconds until it may."""
        with self._lock:
            wait = self._wait(keys, time.monotonic())
        return int(wait) + 1 if wait else 0

    def attempt(self, keys: list[str]) -> int:
        """Take a slot for one login (0) or say how many seconds to wait (nothing taken)."""
        now = time.monotonic()
        with self._lock:
            wait = self._wait(keys, now)
            if not wait:
                if len(self._failures) > 100_000:
                    self._failures.clear()
                for key in keys:
                    self._failures.setdefault(key, deque(maxlen=self.limits[key.split(":", 1)[0]])).append(now)
        return int(wait) + 1 if wait else 0

    def succeeded(self, keys: list[str]) -> None:
        """The password was right: the user's failures are forgiven, the address gets its slot back."""
        with self._lock:
            self._failures.pop(keys[0], None)
            for key in keys[1:]:
                if self._failures.get(key):
                    self._failures[key].pop()
