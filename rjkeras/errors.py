"""One error type for everything a user can get wrong, reported as one clear line."""


class UserError(Exception):
    """A problem with the user's input (flags, configs, files) and how to fix it.

    Command-line entry points print `error: <message>` and exit with status 2, with no
    traceback. Raise it with a message that names the offending file, flag or value.
    """
