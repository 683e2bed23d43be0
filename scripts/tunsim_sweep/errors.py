"""The two kinds of error the driver reports as one line on stderr."""


class SweepError(Exception):
    """Bad input (sweep file, axis path or value, command line): exit status 2."""


class ToolError(Exception):
    """A tool is missing or failed outside a point (tunsim, GNU parallel, sbatch): exit status 3."""
