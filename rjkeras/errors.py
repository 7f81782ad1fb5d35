"""One error type for everything a user can get wrong, reported as one clear line."""

import sys
from typing import NoReturn


class UserError(Exception):
    """A problem with the user's input (flags, configs, files) and how to fix it.

    Command-line entry points print `error: <message>` and exit with status 2, with no
    traceback. Raise it with a message that names the offending file, flag or value.
    """


def fail(message) -> NoReturn:
    """Ends a command as every rjkeras command-line tool does: one `error:` line, status 2."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)
