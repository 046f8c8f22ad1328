"""One module per CLI subcommand: `register(parser)` adds its flags, `run(args)` does the work."""


def add_window_args(parser, workspace_help: str = "workspace folder (MLflow store, features, reports)") -> None:
    """--input, --workspace, --from, --to: the flags of every command that works on a window of days."""
    parser.add_argument("--input", required=True, help="input root laid out as DATA_CONTRACT.md")
    parser.add_argument("--workspace", required=True, help=workspace_help)
    parser.add_argument("--from", dest="date_from", required=True, help="first lodging day, YYYY-MM-DD")
    parser.add_argument("--to", dest="date_to", required=True, help="last lodging day, YYYY-MM-DD")
