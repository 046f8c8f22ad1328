"""shiprisk serve --workspace W [--host H] [--port P]: the inspector workbench (web pages to work
the lists and record results). shiprisk serve --add-user NAME --office O [--office O2]: print the
settings lines for a new user, with the argon2id hash of a password typed at the prompt."""
from __future__ import annotations


def register(parser):
    parser.add_argument("--workspace", help="workspace whose nights' worklists are served and where results are kept")
    parser.add_argument("--host", help="address to listen on (default: workbench.host, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="TCP port (default: workbench.port, 8080)")
    parser.add_argument("--add-user", metavar="NAME",
                        help="do not serve: ask for a password and print the user's lines for conf/local/workbench.yaml")
    parser.add_argument("--office", action="append", default=[], help="with --add-user: an office of the user (repeat)")


def run(args) -> int:
    from pipelines.errors import UserError

    if args.add_user:
        return _add_user(args.add_user, args.office)
    if not args.workspace:
        raise UserError("shiprisk serve needs --workspace W (or --add-user NAME --office O)")
    from pipelines.io.context import open_context
    from pipelines.jobs.serve import serve_workbench

    ctx = open_context("serve", args.workspace)
    wb = ctx.settings["workbench"]
    serve_workbench(ctx, args.host or str(wb["host"]), args.port or int(wb["port"]))
    return 0


def _add_user(name: str, offices: list[str]) -> int:
    import getpass
    import json
    import re
    import sys

    from pipelines.errors import UserError
    from pipelines.workbench.auth import hash_password

    if not re.fullmatch(r"[A-Za-z0-9_.@-]{1,64}", name):
        raise UserError(f"user name {name!r}: use letters, digits and _ . @ - (at most 64)")
    if not offices:
        raise UserError("--add-user needs at least one --office")
    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {name}: ")
        if getpass.getpass("again: ") != password:
            raise UserError("the two passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    print("# add under `users:` in conf/local/workbench.yaml (not committed):")
    print(f"  {name}:")
    print(f"    offices: {json.dumps(offices)}")
    print(f"    password_hash: \"{hash_password(password)}\"")
    return 0
