"""The base of every error a user can cause; the CLI turns one into a single line and exit 1."""


class TcnvaeError(Exception):
    """A user-caused problem; the message names the file, field or index at fault."""
