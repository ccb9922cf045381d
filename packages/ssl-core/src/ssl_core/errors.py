"""Errors foreseen from the inputs, and how every command ends on one (docs/bad-inputs.md)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


class InputError(Exception):
    """An error foreseen from the inputs. Subclasses also derive from the built-in error
    they refine (``FileNotFoundError``, ``ValueError``, ...) so callers may catch either."""

    #: The latest one made (see :func:`exits_on_input_errors`).
    latest: InputError | None = None

    def __init__(self, *args) -> None:
        super().__init__(*args)
        InputError.latest = self


class MissingInputError(InputError, FileNotFoundError):
    """An input that is not where it is asked for (a file, a run folder, a metric)."""


class BadInputError(InputError, ValueError):
    """An input that is there but cannot be used as asked."""


def one_line(err: BaseException) -> str:
    """The error's own message on one line (of a DataLoader worker's re-raised exception,
    "Caught X in DataLoader worker ... Original Traceback ...: X: message", the message)."""
    text = str(err)
    marker = f"{type(err).__name__}: "
    if "Original Traceback" in text and marker in text:
        text = text.rsplit(marker, 1)[1]
    return " ".join(text.split())


@contextlib.contextmanager
def exits_on_input_errors(command: str) -> Iterator[None]:
    """Turn an :class:`InputError` raised inside into ``SystemExit("<command>: <one
    line>")``: Python prints it to stderr and exits with code 1."""
    try:
        yield
    except InputError as err:
        raise SystemExit(f"{command}: {one_line(err)}") from None
    except ValueError as err:
        # jsonargparse wraps an error raised while it builds a class of the config in its
        # own ValueError; the input error is the one it quotes
        cause = InputError.latest
        if cause is not None and str(cause) and str(cause) in str(err):
            raise SystemExit(f"{command}: {one_line(cause)}") from None
        raise
