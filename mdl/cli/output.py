"""How the command line writes to the terminal: messages as indented lines, notes on stderr.

>>> print(lines("2 sources skipped, by cause:" + chr(10) + "1 source: no descriptor"))
2 sources skipped, by cause:
  1 source: no descriptor
"""

from __future__ import annotations

import sys


def lines(text: str) -> str:
    """Continuation lines of a message (one per cause) indented under its first line.

    Parameters
    ----------
    text : str
        The message.

    Returns
    -------
    str
        Stripped, each line after the first indented by two spaces.
    """
    return text.strip().replace("\n", "\n  ")


def note(message: str) -> None:
    """Print ``mdl: message`` on stderr: something the user should know that is not an error.

    Parameters
    ----------
    message : str
        What to say.
    """
    print(lines(f"mdl: {message}"), file=sys.stderr)
