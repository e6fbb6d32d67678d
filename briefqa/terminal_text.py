"""Text from a transcript (or a file name) is data: made safe to print, and to paste into a shell.

A transcript or a file name can hold escape sequences that a terminal obeys: clear the screen
(``ESC[2J``), set the window title (OSC 0), show a link (OSC 8), write to the clipboard (OSC 52).
``printable`` removes them, and every other control character, before text reaches a terminal.
``escape_json`` escapes those that ``json.dumps`` leaves raw. ``command`` writes a command line
that a shell splits back into the words it was given.
"""

from __future__ import annotations

import re
import shlex

# Strings that a terminal reads up to a terminator (BEL or ST, ESC \ or U+009C): OSC, DCS, SOS,
# PM and APC, introduced by ESC and a letter or by their C1 character. Unterminated, only the
# introducer goes (below) and what follows stays as text.
_STRING = r"(?:\x1b[\]PX^_]|[\x90\x98\x9d-\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
# CSI (ESC [ or U+009B): parameters, intermediates, a final byte.
_CSI = r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
# Any other escape sequence: ESC, intermediates, a final byte.
_ESC = r"\x1b[ -/]*[0-~]"
# What is left: C0 controls but tab and newline, DEL, C1 controls, and the bidirectional
# embeddings, overrides and isolates that reorder what a reader sees (U+202A-202E, U+2066-2069).
_CONTROL = r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
_UNPRINTABLE = re.compile(f"{_STRING}|{_CSI}|{_ESC}|{_CONTROL}")
# json.dumps(..., ensure_ascii=False) escapes C0 controls but writes DEL, C1 controls (U+009B is
# CSI) and bidi controls as they are.
_JSON_RAW = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` without escape sequences or control characters (but newline and tab): what a
    terminal shows as it is. Printable text (accents, CJK, dashes) is unchanged."""
    return _UNPRINTABLE.sub("", text)


def escape_json(text: str) -> str:
    """JSON text from ``json.dumps(..., ensure_ascii=False)`` with the control characters it left
    raw written ``\\uXXXX``: the same data, read back, and nothing a terminal obeys."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def command(*words: object) -> str:
    """A command line that a shell splits back into exactly ``words``: each quoted where it needs
    to be. A word holding control characters is written ``$'...'`` with them escaped (bash, zsh,
    ksh), so that the line prints safely and still names the right file."""
    return " ".join(_shell_word(str(w)) for w in words)


def _shell_word(word: str) -> str:
    if printable(word) == word:
        return shlex.quote(word)
    return "$'" + "".join(_ansi_c(c) for c in word) + "'"


def _ansi_c(char: str) -> str:
    """One character inside ``$'...'``."""
    if char in "\\'":
        return "\\" + char
    if printable(char) == char:
        return char
    return f"\\x{ord(char):02x}" if ord(char) < 0x80 else f"\\u{ord(char):04x}"
