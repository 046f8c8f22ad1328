"""Users from settings, argon2id passwords, signed server-side sessions, CSRF, the login limiter,
the session key file."""
from __future__ import annotations

import os
import stat

import pytest

from pipelines.errors import UserError
from pipelines.io.workspace import Workspace
from pipelines.workbench import auth


@pytest.fixture(scope="module")
def users():
    return auth.load_users({"users": {"alice": {"offices": ["KC"], "password_hash": auth.hash_password("correct horse")},
                                      "sso_only": {"offices": ["AIR"]}}})


def test_passwords_are_argon2id_and_checked(users):
    assert users["alice"].password_hash.startswith("$argon2id$")
    assert auth.check_password(users, "alice", "correct horse") == users["alice"]
    assert auth.check_password(users, "alice", "correct horsE") is None
    assert auth.check_password(users, "nobody", "correct horse") is None
    assert auth.check_password(users, "sso_only", "") is None  # no password: SSO only
    with pytest.raises(UserError, match="at least 8"):
        auth.hash_password("short")


@pytest.mark.parametrize("spec, message", [
    ({"offices": []}, "non-empty list"),
    ({"offices": "KC"}, "non-empty list"),
    ({"offices": ["KC"], "password_hash": "plain-text"}, "not an argon2id hash"),
    ({"offices": ["KC"], "password_hash": "$2b$12$bcrypt"}, "not an argon2id hash"),
    ({"offices": ["KC"], "office": "typo"}, "unknown key"),
])
def test_bad_user_settings_are_refused(spec, message):
    with pytest.raises(UserError, match=message):
        auth.load_users({"users": {"u": spec}})


def test_offices_bound_what_a_user_sees(users):
    assert users["alice"].may_see("KC") and not users["alice"].may_see("AIR")


def test_sessions_are_signed_server_side_and_end_on_drop():
    sessions = auth.Sessions(b"k" * 32, max_age_seconds=60)
    session = sessions.new(user="alice")
    cookie = sessions.cookie(session)
    assert sessions.get(cookie) is session
    assert sessions.get(cookie[:-1] + ("A" if cookie[-1] != "A" else "B")) is None  # tampered
    assert sessions.get(session.sid) is None  # unsigned id
    assert auth.Sessions(b"j" * 32, 60).get(cookie) is None  # another key
    sessions.drop(session)
    assert sessions.get(cookie) is None
    expired = auth.Sessions(b"k" * 32, max_age_seconds=-1)
    assert expired.get(expired.cookie(expired.new(user="alice"))) is None


def test_a_flood_of_anonymous_sessions_does_not_sign_anyone_out():
    sessions = auth.Sessions(b"k" * 32, max_age_seconds=60, limit=3)
    alice = sessions.cookie(sessions.new(user="alice"))
    anonymous = [sessions.cookie(sessions.new()) for _ in range(5)]
    assert sessions.get(alice) is not None
    assert [sessions.get(c) is not None for c in anonymous] == [False, False, False, True, True]


def test_csrf_token_is_the_sessions_own():
    sessions = auth.Sessions(b"k" * 32, 60)
    one, two = sessions.new(), sessions.new()
    assert auth.csrf_ok(one, one.csrf)
    assert not auth.csrf_ok(one, two.csrf)
    assert not auth.csrf_ok(one, None) and not auth.csrf_ok(one, "") and not auth.csrf_ok(None, one.csrf)


def test_login_limiter_counts_per_user_and_per_address():
    limiter = auth.LoginLimiter(per_user=2, per_address=3, window=300)
    carol = limiter.keys("Carol", "10.0.0.1")
    assert limiter.attempt(carol) == 0 and limiter.attempt(carol) == 0  # two wrong passwords
    assert 0 < limiter.attempt(carol) <= 301  # refused, and not counted
    assert limiter.wait_seconds(limiter.keys("carol", "10.0.0.2")) > 0  # the name, whatever the case and address
    assert limiter.attempt(limiter.keys("dave", "10.0.0.1")) == 0  # the address had one left
    assert limiter.wait_seconds(limiter.keys("erin", "10.0.0.1")) > 0
    short = auth.LoginLimiter(per_user=1, per_address=1, window=0)
    short.attempt(short.keys("a", "b"))
    assert short.wait_seconds(short.keys("a", "b")) == 0  # the window has passed


def test_parallel_guesses_take_slots_before_the_password_is_checked():
    limiter = auth.LoginLimiter(per_user=3, per_address=10, window=300)
    keys = limiter.keys("alice", "10.0.0.1")
    # Ten logins in flight at once: only three get to check a password.
    assert [limiter.attempt(keys) == 0 for _ in range(10)] == [True] * 3 + [False] * 7


def test_a_right_password_gives_the_slots_back():
    limiter = auth.LoginLimiter(per_user=2, per_address=2, window=300)
    alice = limiter.keys("alice", "10.0.0.1")
    limiter.attempt(alice)  # wrong
    limiter.attempt(alice)  # right
    limiter.succeeded(alice)
    assert limiter.wait_seconds(alice) == 0
    assert limiter.attempt(limiter.keys("bob", "10.0.0.1")) == 0  # the address kept one failure, one slot left
    assert limiter.wait_seconds(limiter.keys("carol", "10.0.0.1")) > 0


def test_session_key_file_is_made_private_once(tmp_path, monkeypatch):
    monkeypatch.delenv("SHIPRISK_WORKBENCH_SECRET", raising=False)
    wb = {"session_secret_env": "SHIPRISK_WORKBENCH_SECRET"}
    ws = Workspace(str(tmp_path))
    key = auth.session_secret(ws, wb)
    path = tmp_path / auth.SECRET_FILE
    assert len(key) >= 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert auth.session_secret(ws, wb) == key  # kept across restarts
    os.chmod(path, 0o644)
    with pytest.raises(UserError, match="readable by others"):
        auth.session_secret(ws, wb)
    monkeypatch.setenv("SHIPRISK_WORKBENCH_SECRET", "e" * 40)
    assert auth.session_secret(ws, wb) == b"e" * 40
    monkeypatch.setenv("SHIPRISK_WORKBENCH_SECRET", "too short")
    with pytest.raises(UserError, match="fewer than 32"):
        auth.session_secret(ws, wb)
