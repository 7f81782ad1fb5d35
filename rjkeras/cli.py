"""What every command line shares: absl flags declared once, as fields of a typed options class,
and parsed so that bad flags end in one `error:` line.

A command whose run takes typed options declares each flag once, as a field:

    @dataclasses.dataclass
    class Options:
        workdir: str | None = cli.option(None, "Work dir of a training run.", required=True)
        num: int = cli.option(8, "Videos per figure.")

    cli.define_flags(Options)          # in `__main__` only: importing the library defines none
    options = cli.read_flags(Options)  # in main(): the parsed flags as an Options

The field's type picks the flag's kind (str, int, float, bool; `choices` makes an enum), its
default is the flag's, and `required=True` is absl's `mark_flag_as_required`. The library call
(`run(Options(...))`) and the command line then share the defaults, written in one place.
"""

from __future__ import annotations

import atexit
import dataclasses
import gc
import re
import typing

from rjkeras.errors import fail

_KINDS = {str: "DEFINE_string", int: "DEFINE_integer", float: "DEFINE_float", bool: "DEFINE_bool"}


def option(default, help: str, *, choices=None, required: bool = False):  # noqa: A002 (absl's word)
    """A dataclass field that is also a command-line flag (see the module docstring)."""
    return dataclasses.field(default=default, metadata={"help": help, "choices": choices,
                                                        "required": required})


def _kind(hint) -> type:
    """str | None -> str; a plain type stays itself."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if args else hint


def define_flags(options_class) -> None:
    """One absl flag per field of `options_class` that `option()` made, declared as the calling
    module's (the command's) flags: absl's --helpshort lists only those."""
    from absl import flags

    flags.disclaim_key_flags()  # absl's way for a module that defines flags on its caller's behalf
    hints = typing.get_type_hints(options_class)
    for field in dataclasses.fields(options_class):
        if "help" not in field.metadata:
            continue
        meta = field.metadata
        if meta["choices"]:
            flags.DEFINE_enum(field.name, field.default, list(meta["choices"]), meta["help"])
        else:
            getattr(flags, _KINDS[_kind(hints[field.name])])(field.name, field.default, meta["help"])
        if meta["required"]:
            flags.mark_flag_as_required(field.name)


def read_flags(options_class):
    """The parsed flags as an `options_class`."""
    from absl import flags

    return options_class(**{field.name: getattr(flags.FLAGS, field.name)
                            for field in dataclasses.fields(options_class) if "help" in field.metadata})


def defaults_of(function) -> dict:
    """A function's keyword defaults, {name: default}: the flags of a command that calls it take
    them from there, instead of writing them a second time."""
    import inspect

    return {name: p.default for name, p in inspect.signature(function).parameters.items()
            if p.default is not inspect.Parameter.empty}


_REQUIRED = re.compile(r"Flag --(\w+) must have a value other than None")


def parse_flags(argv: list[str]) -> list[str]:
    """absl's flag parsing for `app.run(main, flags_parser=parse_flags)`: an unknown flag, a
    misspelt one, a value of the wrong type (`--steps=ten`, `--size=huge`) or a required flag left
    out ends the command like any other bad input, in one `error:` line with status 2, instead of
    absl's two FATAL lines and status 1.

    Every command parses its flags here, so this is also where its exit is made quick: Python's
    last garbage collection at exit walks every object TensorFlow made (1-3 s a command) to free
    memory the process is handing back anyway. Freezing the heap at exit skips that walk. What the
    commands write is closed or flushed by then, and objects still go when their last reference
    does; only cycles are left to the OS.
    """
    from absl import flags

    atexit.unregister(gc.freeze)  # once a process, however often it parses flags (tests do)
    atexit.register(gc.freeze)  # hooks registered later (TensorFlow's) run before it
    try:
        return flags.FLAGS(argv)
    except flags.Error as e:
        required = _REQUIRED.search(str(e))
        if required:
            name = required.group(1)
            text = flags.FLAGS[name].help.rstrip(".")
            first_word = text.split(" ", 1)[0]
            if not any(c.isupper() for c in first_word[1:]):  # "Work dir" but "TF-Hub" as it is
                text = text[0].lower() + text[1:]
            fail(f"--{name} is required: {text}")
        message = " ".join(str(e).split())  # absl's message can span lines
        fail(f"{message} (--helpshort lists the flags)")


def parse_only_flags(argv: list[str]) -> list[str]:
    """`parse_flags` for the commands that take no positional arguments: a stray word (a flag
    missing its `--`) is refused in the same one line."""
    rest = parse_flags(argv)
    if len(rest) > 1:
        fail(f"unexpected arguments {' '.join(rest[1:])}; all options are --flags")
    return rest
