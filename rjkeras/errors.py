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


def parse_flags(argv: list[str]) -> list[str]:
    """absl's flag parsing for `app.run(main, flags_parser=parse_flags)`: an unknown flag, a
    misspelt one or a value of the wrong type (`--steps=ten`, `--size=huge`) ends the command like
    any other bad input, in one `error:` line with status 2, instead of absl's two FATAL lines
    and status 1."""
    from absl import flags

    try:
        return flags.FLAGS(argv)
    except flags.Error as e:
        message = " ".join(str(e).split())  # absl's message can span lines
        fail(f"{message} (--helpshort lists the flags)")


def parse_only_flags(argv: list[str]) -> list[str]:
    """`parse_flags` for the commands that take no positional arguments: a stray word (a flag
    missing its `--`) is refused in the same one line."""
    rest = parse_flags(argv)
    if len(rest) > 1:
        fail(f"unexpected arguments {' '.join(rest[1:])}; all options are --flags")
    return rest
