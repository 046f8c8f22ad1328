"""Errors a user can act on: the CLI prints their message (which says what to do) and exits 2."""


class UserError(Exception):
    """Bad input, configuration or state that the user can fix; the message says how."""
