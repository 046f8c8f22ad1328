"""`shiprisk serve`: the --add-user helper prints settings lines with a working argon2id hash;
serving needs a workspace."""
from __future__ import annotations

import io

import yaml

from pipelines.cli import main
from pipelines.workbench import auth


def test_add_user_prints_lines_that_load_and_verify(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["serve", "--add-user", "alice", "--office", "HKG-KCCT", "--office", "HKG-AIRPORT"]) == 0
    printed = capsys.readouterr().out
    assert "conf/local/workbench.yaml" in printed
    users = auth.load_users({"users": yaml.safe_load(printed)})
    assert users["alice"].offices == {"HKG-KCCT", "HKG-AIRPORT"}
    assert auth.check_password(users, "alice", "a long enough password") == users["alice"]
    assert "a long enough password" not in printed


def test_add_user_refuses_short_passwords_odd_names_and_no_office(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["serve", "--add-user", "alice", "--office", "HKG-KCCT"]) == 2
    assert main(["serve", "--add-user", "al ice", "--office", "HKG-KCCT"]) == 2
    assert main(["serve", "--add-user", "alice"]) == 2


def test_serve_needs_a_workspace():
    assert main(["serve"]) == 2
