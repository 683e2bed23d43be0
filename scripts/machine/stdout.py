"""A script's standard output, written like any other output (tunsim's rule,
sim/io/files.hpp): a write error (a full disk, /dev/full) is one line on
standard error and exit 2; a reader that went away (`| head`) ends the
script quietly, exit 0.  It was a Python traceback (exit 1), or "Exception
ignored" when the error came with the flush at exit.

    if __name__ == "__main__":
        stdout.run("derive.py", main, sys.argv[1:])
"""
import os
import sys


class StdoutError(Exception):
    pass


class _Guarded:
    """sys.stdout whose write errors are StdoutError, told from any other
    OSError of the script (a file it reads)."""

    def __init__(self, stream):
        self._s = stream

    def write(self, data):
        try:
            return self._s.write(data)
        except BrokenPipeError:
            raise
        except OSError as e:
            raise StdoutError(e.strerror or str(e)) from None

    def flush(self):
        try:
            self._s.flush()
        except BrokenPipeError:
            raise
        except OSError as e:
            raise StdoutError(e.strerror or str(e)) from None

    def __getattr__(self, name):
        return getattr(self._s, name)


def _silence():
    # What is still buffered goes nowhere: the flush at exit cannot fail again.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.__stdout__.fileno())
    os.close(devnull)


def run(name, main, *args):
    """sys.exit(main(*args)), its standard output written out before the exit."""
    sys.stdout = _Guarded(sys.stdout)
    try:
        try:
            status = main(*args)
        except SystemExit as e:  # sys.exit() inside main (argparse's --help, an error after output)
            status = e.code
        sys.stdout.flush()
    except BrokenPipeError:
        _silence()
        sys.exit(0)
    except StdoutError as e:
        _silence()
        sys.stderr.write("%s: standard output: write failed: %s\n" % (name, e))
        sys.exit(2)
    sys.exit(status)
