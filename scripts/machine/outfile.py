"""outfile.py: how the project's Python scripts write an output file.

The rule of tunsim's own outputs (sim/io/files.cpp): a regular file (or a
path that does not exist yet) is replaced atomically (written beside it,
then renamed over it), so that a reader sees the old file or the new one,
never half of one; anything else is never renamed over: a link is followed
and its regular target truncated and written in place, as a shell's `>`
does, and a device, a pipe or a socket is written in place.  A directory is
refused (OSError).

    write_output(path, data)     data: str (UTF-8) or bytes
"""
import os
import stat
import tempfile


def write_output(path, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        if stat.S_ISDIR(st.st_mode) or (stat.S_ISLNK(st.st_mode) and os.path.isdir(path)):
            raise IsADirectoryError(21, "is a directory", path)
        # In place: O_TRUNC empties a regular file a link names and does
        # nothing to a device, a pipe or a socket.
        with open(path, "wb") as f:
            f.write(data)
        return
    d = os.path.dirname(os.path.abspath(path))
    # At most 200 bytes of the output's name: the 14 the temporary adds made a valid name of
    # 242-255 bytes refused as too long.
    fd, tmp = tempfile.mkstemp(prefix="." + os.fsdecode(os.fsencode(os.path.basename(path))[:200]) + ".",
                               suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
