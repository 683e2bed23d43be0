"""Small helpers shared by the modules: paths, atomic writes, value spelling, bounded JSON."""

import hashlib
import json
import math
import os
import re
import sys

from .errors import SweepError

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "machine"))
from outfile import write_output  # noqa: E402  (scripts/machine/outfile.py)
from printable import printable  # noqa: E402  (scripts/machine/printable.py)

# The repository root (scripts/tunsim_sweep/util.py -> ../..).
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Bounds on what the driver reads (issue 14): a real sweep file is a few kB (the
# largest ready-made one, load.json, is 4 kB) and a few levels deep (an inline base
# scenario adds about five), so these are never reached by a real input.
MAX_SWEEP_BYTES = 4 << 20
MAX_DEPTH = 64
# A JSON integer longer than this is refused (a seed is at most 2^64, 20 digits).
MAX_INT_DIGITS = 20


def rel(path):
    """path relative to the repository root when it lies inside it (for messages and records)."""
    p = os.path.abspath(path)
    if p == REPO or p.startswith(REPO + os.sep):
        return os.path.relpath(p, REPO)
    return p


def write_atomic(path, text):
    """Write text to path so that readers see the old file or the new one, never half
    (scripts/machine/outfile.py: a link, device or pipe is written in place, never
    renamed over)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    write_output(path, text)


def cell(v):
    """A value as it appears in the CSV and in messages (JSON spelling for bools, empty for null)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    return str(v)


def set_value(v):
    """The VALUE of --set path=VALUE: JSON, so that "true" and 4 keep their types."""
    return json.dumps(v, separators=(",", ":"))


def fmt_duration(s):
    s = int(round(s))
    if s >= 3600:
        return "%d:%02d:%02d" % (s // 3600, s % 3600 // 60, s % 60)
    return "%d:%02d" % (s // 60, s % 60)


def fmt_bytes(n):
    for unit, shift in (("GiB", 30), ("MiB", 20), ("kiB", 10)):
        if n >= 1 << shift:
            return "%g %s" % (n / (1 << shift), unit)
    return "%d bytes" % n


def last_line(text):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1] if lines else ""


def file_sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def shorten(s, n=80):
    """s for a message: at most n characters (then "..."), control characters and bytes that
    were no UTF-8 escaped as \\xNN (scripts/machine/printable.py, as tunsim shows input)."""
    return printable(s, n)


# --------------------------------------------------------------------------
# bounded JSON


class _Refused(ValueError):
    pass


def _no_constant(name):
    raise _Refused("%s: expected a finite number (JSON has no %s)" % (name, name))


def _float(s):
    v = float(s)
    if not math.isfinite(v):
        raise _Refused("number %s: expected a finite number within the range of a double" % shorten(s, 40))
    return v


def _int(s):
    if len(s.lstrip("-")) > MAX_INT_DIGITS:
        raise _Refused("integer %s: expected at most %d digits" % (shorten(s, 40), MAX_INT_DIGITS))
    return int(s)


_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def _line_col(text, pos):
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def check_depth(text, where, limit=MAX_DEPTH, error=SweepError):
    """Refuse JSON text nested deeper than limit (before parsing it: no recursion on any input)."""
    depth = 0
    for m in _TOKEN.finditer(text):
        c = m.group()
        if c == "[" or c == "{":
            depth += 1
            if depth > limit:
                line, col = _line_col(text, m.start())
                raise error("%s:%d:%d: nested deeper than %d levels; expected at most %d"
                            % (where, line, col, limit, limit))
        elif c == "]" or c == "}":
            depth -= 1


# check_depth's fast path (parse_json): the text's quotes, brackets and backslashes
# (bytes.translate keeps only those; no UTF-8 sequence holds an ASCII byte).
_KEEP_DELETE = bytes(c for c in range(256) if c not in b'"[]{}\\')
_PLAIN_STRING = re.compile(rb'"[^"]*"')
_INNERMOST = re.compile(rb"\[\]|\{\}")


def _shallow(text, limit, encoded=None):
    """True when text certainly nests no deeper than limit: without a backslash its strings
    are "..." runs, removed; each pass of _INNERMOST then removes a level of the brackets
    left.  False (check_depth decides, with its message) for anything else: a backslash, an
    unterminated string, unpaired brackets, more than limit levels.  encoded: text as UTF-8
    bytes, when the caller has them."""
    if encoded is None:
        encoded = text.encode("utf-8", "surrogatepass")
    b = encoded.translate(None, _KEEP_DELETE)
    if b"\\" in b:
        return False
    b = _PLAIN_STRING.sub(b"", b)
    for _ in range(limit):
        if not b:
            return True
        b = _INNERMOST.sub(b"", b)
    return not b


# _plain_numbers' view of a text: digits as "0", e and E as "e", signs as "+", the rest blank.
_NUMBER_CHARS = bytes(48 if 48 <= c <= 57 else 101 if c in b"eE" else 43 if c in b"+-" else 32
                      for c in range(256))
_LONG_DIGITS = b"0" * (MAX_INT_DIGITS + 1)


def _plain_numbers(encoded):
    """True when no number in the JSON text (UTF-8 bytes) can be one _float or _int refuses:
    no run of more than MAX_INT_DIGITS digits and no exponent of three digits or more, so that
    every number is an integer of at most MAX_INT_DIGITS digits or a float below 1e120 in
    magnitude.  Runs inside strings count too (they only send the text to the hooks)."""
    b = encoded.translate(_NUMBER_CHARS)
    return _LONG_DIGITS not in b and b"e000" not in b and b"e+000" not in b


def parse_json(text, where, error=SweepError):
    """json.loads with line:column errors, finite numbers only and bounded integers.

    The depth check runs in C when it can (_shallow): a merge reads a thousand summaries of
    about 40 kB, and check_depth's token loop took 1.1 ms of each (0.36 ms this way).  So
    does the number check (_plain_numbers): where no number can be refused, json.loads runs
    without the Python hooks _float and _int, which took 0.4 ms of each summary's 0.9 (the
    values are the same: the hooks call float() and int() on the same text)."""
    encoded = text.encode("utf-8", "surrogatepass")
    if not _shallow(text, MAX_DEPTH, encoded):
        check_depth(text, where, error=error)
    hooks = {"parse_constant": _no_constant}
    if not _plain_numbers(encoded):
        hooks.update(parse_float=_float, parse_int=_int)
    try:
        return json.loads(text, **hooks)
    except json.JSONDecodeError as e:
        raise error("%s:%d:%d: invalid JSON: %s" % (where, e.lineno, e.colno, e.msg))
    except _Refused as e:
        raise error("%s: %s" % (where, e))


def read_text(path, limit, what, error=SweepError):
    """The UTF-8 text of path, refusing files larger than limit bytes (also /dev/zero or a pipe)."""
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise error("%s: cannot read: %s" % (path, e.strerror or e))
    if len(data) > limit:
        raise error("%s: larger than %s; expected %s of at most %s" % (path, fmt_bytes(limit), what, fmt_bytes(limit)))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        prefix = data[:e.start].decode("utf-8", "replace")
        line, col = _line_col(prefix, len(prefix))
        raise error("%s:%d:%d: expected UTF-8 text, found byte 0x%02x" % (path, line, col, data[e.start]))


# A JSON text's tokens for repeated_key: strings, brackets, commas, colons.
_KEY_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},:]')


def repeated_key(text, where):
    """"WHERE:LINE:COL: ..." for the first key an object of (valid JSON) text has twice, or None.

    json.loads keeps the last of the two silently ({"seeds": [1], "seeds": [2]} sweeps seed 2)."""
    stack = []  # per open bracket: {key: offset} for an object, None for an array
    expect_key = False
    for m in _KEY_TOKEN.finditer(text):
        c = m.group()
        if c == "{":
            stack.append({})
            expect_key = True
        elif c == "[":
            stack.append(None)
            expect_key = False
        elif c in "]}":
            stack.pop()
            expect_key = False
        elif c == ",":
            expect_key = stack[-1] is not None
        elif c == ":":
            expect_key = False
        elif expect_key:
            key = json.loads(c)
            if key in stack[-1]:
                line, col = _line_col(text, m.start())
                first = _line_col(text, stack[-1][key])
                return "%s:%d:%d: expected each key once in an object, found %s again (first at %d:%d)" % (
                    where, line, col, shorten(json.dumps(key)), first[0], first[1])
            stack[-1][key] = m.start()
            expect_key = False
    return None


def read_json(path, limit, what, error=SweepError, unique_keys=False):
    """The JSON document in path; with unique_keys, a key twice in one object is an error
    (for files people write: a sweep file; a summary of a thousand merged is tunsim's)."""
    text = read_text(path, limit, what, error)
    doc = parse_json(text, path, error)
    if unique_keys:
        msg = repeated_key(text, path)
        if msg:
            raise error(msg)
    return doc


def status_text(rc):
    """An exit status as a person reads it: "2", or "killed by SIGKILL" for a negative one."""
    if rc is None or rc >= 0:
        return "status %s" % rc
    import signal
    try:
        return "killed by %s" % signal.Signals(-rc).name
    except ValueError:
        return "killed by signal %d" % -rc
