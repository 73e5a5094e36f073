"""The ``mdl`` command line: a thin layer over the library.

    mdl search --property "band gap" --material inorganic      # find models in the hub
    mdl info starter-qm9-alpha-nn-0000                        # one model's card
    mdl pull starter-qm9-alpha-nn-0000                        # download and verify; prints where the files are
    mdl transfer MODEL_ID --data t.csv --x-col smiles --y-col value --out my-model
    mdl screen --data t.csv --x-col smiles --y-col value --save-best best-model --out report/
    mdl predict best-model --data new.csv --x-col smiles --out predictions.csv
    mdl zoo build starter                                     # or: mdl zoo build --reference --tier base
    mdl publish saved-model-folder/ --modelset my-set
    mdl mirror hf://mdl-zoo/registry ./zoo --property gap
    mdl hub check --hub ./zoo

Every subcommand takes ``--hub`` (default ``$MDL_HUB``, else ``~/.cache/mdl/hub``), ``--quiet`` (no
progress bars) and ``--verbose``. A user error (a missing or unreadable file, a bad option value, any
:class:`~mdl.errors.MDLError`) is one line on stderr, ``mdl: error: ...``, and exit code 2; Ctrl-C ends
with exit code 130 and a closed output pipe (``mdl search | head``) with 141, both without a traceback.
An unexpected exception (a bug) is one line saying so, exit code 1; ``mdl --debug ...`` shows the
traceback as well.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from mdl.cli.output import lines
from mdl.cli.parser import UsageError, parser
from mdl.errors import MDLError

__all__ = ["UsageError", "main", "parser"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command, reporting any error as one line on stderr.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code: 0, 2 for a user error, 130 after Ctrl-C, 141 when the output pipe closed, 1 for a bug.

    Examples
    --------
    >>> main(["search", "--limit", "0"])   # doctest: +SKIP
    2
    """
    debug = False
    try:
        args = parser().parse_args(argv)
        debug = args.debug
        with _warnings_aslines(), _output_settings(args):
            args.run(args)
            sys.stdout.flush()  # a closed pipe shows here, inside the handler below
    except KeyboardInterrupt:
        return _fail("interrupted", 130, debug)
    except BrokenPipeError:  # `mdl search | head`: the reader has gone; end quietly, as git does
        _silence_stdout()
        return 141
    except (MDLError, OSError) as exc:  # OSError: a file or folder that cannot be read or written
        return _fail(_message(exc), 2, debug)
    except Exception as exc:  # noqa: BLE001  (a bug: say so in one line, the traceback with --debug)
        return _fail(f"internal error, a bug in mdl ({type(exc).__name__}: {_message(exc)}); run again with "
                     "`mdl --debug ...` to see the traceback, and please report it", 1, debug)
    return 0


def _silence_stdout() -> None:
    """Point stdout at the null device, so that the interpreter's own flush at exit finds no closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a file descriptor (a test's capture)
        pass


def _message(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        return f"{exc.strerror}: {exc.filename}"
    return str(exc) or type(exc).__name__


def _fail(message: str, code: int, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    print(lines(f"mdl: error: {message}"), file=sys.stderr)
    return code


@contextmanager
def _output_settings(args: argparse.Namespace) -> Iterator[None]:
    """``--verbose`` logs mdl's steps on stderr (``--quiet`` is passed to each call as ``progress=False``)."""
    if not getattr(args, "verbose", False):
        yield
        return
    logger = logging.getLogger("mdl")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("mdl: %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@contextmanager
def _warnings_aslines() -> Iterator[None]:
    """Warnings printed as ``mdl: warning: ...`` (no file name and source line)."""
    def show(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
        print(lines(f"mdl: warning: {message}"), file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("default", FutureWarning)
        warnings.showwarning = show
        yield
