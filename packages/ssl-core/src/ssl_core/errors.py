"""One rule for every error the program can foresee from its inputs.

A bad file, row, mask, label, split or run folder is the user's to fix, not a bug: every
such error is an :class:`InputError`, and every command (``train``, ``evaluate``, the
pipeline's stages) ends on one with a single line that names the input and what to do,
exit code 1 and no traceback (:func:`exits_on_input_errors`). Everything else is a bug
and keeps its traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


class InputError(Exception):
    """An error foreseen from the inputs; its message is one line naming the input and
    what to do. Subclasses also derive from the built-in error they refine
    (``FileNotFoundError``, ``ValueError``, ...) so callers may catch either."""

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
    """The error's own message on one line. A DataLoader worker's exception comes back
    re-raised in the main process as "Caught X in DataLoader worker process N. Original
    Traceback ...: X: message": the message is what follows the last "X: "."""
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
        # jsonargparse (LightningCLI's parser) reports an error raised while it builds a
        # class of the config (a backbone whose weights file is missing) inside its own
        # ValueError, with every type it tried; the input error is the one it quotes
        cause = InputError.latest
        if cause is not None and str(cause) and str(cause) in str(err):
            raise SystemExit(f"{command}: {one_line(cause)}") from None
        raise
