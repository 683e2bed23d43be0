"""Input shown in a message, the scripts' counterpart of tunsim's printable()
(models/stats/error.hpp): whatever a file name, an option's value or a line
of an input holds, the message stays one readable line and sends nothing to
the terminal but text.

    printable("a\\nb\\x1b[2J")          -> 'a\\x0ab\\x1b[2J'  (backslashes shown)
    printable(os.fsdecode(b"x\\xff"))   -> 'x\\xff'           (a byte that is no UTF-8)

Control characters (C0 and DEL) and the bytes that were no UTF-8 (which
Python keeps in a str as the surrogates U+DC80..U+DCFF: file names,
arguments, text read with errors="surrogateescape") are shown as \\xNN, as
tunsim shows them; C1 controls and other lone surrogates as \\uNNNN.  At
most max_chars characters are shown, then "...".
"""


def printable(s, max_chars=80):
    if isinstance(s, bytes):
        s = s.decode("utf-8", "surrogateescape")
    out = []
    for i, c in enumerate(s):
        if i >= max_chars:
            out.append("...")
            break
        o = ord(c)
        if o < 0x20 or o == 0x7f:
            out.append("\\x%02x" % o)
        elif 0xdc80 <= o <= 0xdcff:
            out.append("\\x%02x" % (o - 0xdc00))
        elif 0x80 <= o < 0xa0 or 0xd800 <= o <= 0xdfff:
            out.append("\\u%04x" % o)
        else:
            out.append(c)
    return "".join(out)
