"""Progress of long work: a tqdm bar with ETA on a terminal, one plain line per interval in a log.

    with progress(total=n, desc="enumerating", unit="design") as bar:
        for chunk in ...:
            bar.update(len(chunk))

Where the output goes picks the form: a bar when stderr is a terminal, else a line such as
`enumerating: 120,000/882,000 design (14%), 00:12 elapsed, ETA 01:16` every `LOG_INTERVAL_S`
seconds and at the end. `show=False` is silent, `show=True` forces the bar. The environment
variable ARCHGYM_PROGRESS=0 silences every reporter (the CLI's --quiet sets it, for its workers too). Any layer may import this module.
"""
from __future__ import annotations

import os
import sys
import time

from tqdm import tqdm

# Seconds between lines in a log (stderr not a terminal): often enough to see a job is alive,
# rare enough that a 20-minute sweep writes about 40 lines. ARCHGYM_PROGRESS_INTERVAL overrides it.
LOG_INTERVAL_S = 30.0


def _interval() -> float:
    try:
        return max(0.0, float(os.environ.get("ARCHGYM_PROGRESS_INTERVAL", LOG_INTERVAL_S)))
    except ValueError:
        return LOG_INTERVAL_S


def progress(total: int | None, desc: str, unit: str = "it", show: bool | None = None, file=None, initial: int = 0):
    """A progress reporter with tqdm's `update`, `write`, `set_postfix` and `close` (see module doc).
    `show`: None picks the form by where the output goes; True forces the bar; False is silent."""
    file = sys.stderr if file is None else file
    if os.environ.get("ARCHGYM_PROGRESS") == "0":
        show = False
    if show is None and not _isatty(file):
        return LogProgress(total, desc, unit, file, initial)
    return Bar(total=total, desc=desc, unit=unit, initial=initial, disable=show is False, file=file,
                dynamic_ncols=True, smoothing=0.05)


def _isatty(file) -> bool:
    try:
        return file.isatty()
    except (AttributeError, ValueError):
        return False


class Bar(tqdm):
    """tqdm's bar, whose `write` goes to the bar's own stream (tqdm's goes to stdout); notes written
    to a silenced bar still reach stderr."""

    def write(self, message: str) -> None:
        tqdm.write(message, file=getattr(self, "fp", None) or sys.stderr)


class LogProgress:
    """One line per `interval` seconds (tqdm redraws its bar in place with carriage returns, which
    a log file shows as one endless line; a log wants a newline per report)."""

    def __init__(self, total, desc: str, unit: str, file, initial: int = 0):
        self.total, self.desc, self.unit, self.file = total, desc, unit, file
        self.n = self._start_n = initial
        self.postfix = ""
        self.interval = _interval()
        self.start = self.last = time.monotonic()
        self.reported = initial  # the count shown by the last line
        self.closed = False

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        if self.n != self.reported and (now - self.last >= self.interval or (self.total and self.n >= self.total)):
            self._line(now)

    def set_postfix(self, **kwargs) -> None:
        self.postfix = ", ".join(f"{k}={v}" for k, v in kwargs.items())

    def write(self, message: str) -> None:
        print(message, file=self.file, flush=True)

    def _line(self, now: float) -> None:
        self.last, self.reported = now, self.n
        elapsed = now - self.start
        done = self.n - self._start_n
        text = f"{self.desc}: {self.n:,}" + (f"/{self.total:,}" if self.total else "") + f" {self.unit}"
        if self.total:
            text += f" ({100 * self.n / self.total:.0f}%)"
        text += f", {tqdm.format_interval(elapsed)} elapsed"
        if self.total and 0 < done and self.n < self.total:
            text += f", ETA {tqdm.format_interval(elapsed / done * (self.total - self.n))}"
        if self.postfix:
            text += f", {self.postfix}"
        self.write(text)

    def close(self) -> None:
        """A last line, unless the last one already showed the final count."""
        if not self.closed and self.n != self.reported:
            self._line(time.monotonic())
        self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()
