"""SVG from DOT source through one long-running Graphviz process per layout engine.

Graphviz reads graphs one after another from its input and writes each picture as soon as the
graph is read, so a picture can be had by writing its source to a process that is already running
instead of starting ``dot`` for each one. Starting ``dot`` is most of the cost of a lab picture:
the 5-node cluster diagram (20 messages in flight) takes 12 ms through `graphviz.Source.pipe` and
2 ms through a running process (bench/lab.py; several times that in a busy notebook kernel, where
starting a process is slower), and the lab draws one on nearly every click.

`render(source, engine)` returns exactly what ``graphviz.Source(source, engine=engine).pipe(
format="svg", encoding="utf-8", quiet=True)`` returns (tests/view/test_rendering.py compares them),
or None when it cannot (not POSIX, Graphviz missing, the process wrote to its error output, did not
answer in time, or died): the caller then makes the one-shot call, which reports a real error as
`graphviz` does. After `MAX_FAILURES` failures in a row no process is started again in this Python
process.
"""

from __future__ import annotations

import atexit
import os
import re
import select
import subprocess
import threading
import time
from typing import Optional

__all__ = ["render"]

TIMEOUT = 10.0  # seconds to wait for one picture before giving up on the process (then: one-shot)
MAX_FAILURES = 3  # in a row
# A process that has drawn one graph prefixes the graph's own ids with a page number (Graphviz
# 2.43 keeps the page counter from the graph before): "page0,1_graph0". Drawn alone, it is "graph0".
_PAGE_PREFIX = re.compile(r'( id="(?:a_)?)page\d+,\d+_')
_END = b"</svg>\n"


class _Process:
    """One ``dot -K<engine> -Tsvg`` reading graph after graph on its standard input."""

    def __init__(self, engine: str) -> None:
        self.pid = os.getpid()  # a forked child must not share the parent's pipes
        self.popen = subprocess.Popen(["dot", f"-K{engine}", "-Tsvg"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def render(self, source: str) -> Optional[str]:
        popen = self.popen
        assert popen.stdin is not None and popen.stdout is not None and popen.stderr is not None
        popen.stdin.write(source.encode("utf-8") + b"\n")
        popen.stdin.flush()
        out, err = popen.stdout.fileno(), popen.stderr.fileno()
        answer = bytearray()
        deadline = time.monotonic() + TIMEOUT
        while not answer.endswith(_END):  # one graph in, one picture out, ending with </svg>
            ready, _, _ = select.select([out, err], [], [], max(0.0, deadline - time.monotonic()))
            if not ready or err in ready:  # no answer in time, or a warning or an error
                return None
            chunk = os.read(out, 1 << 16)
            if not chunk:  # the process ended
                return None
            answer += chunk
        return _PAGE_PREFIX.sub(r"\1", answer.decode("utf-8"))

    def close(self) -> None:
        try:
            if self.popen.stdin is not None:
                self.popen.stdin.close()
            self.popen.wait(timeout=1)
        except (OSError, subprocess.TimeoutExpired):
            self.popen.kill()
            self.popen.wait()
        finally:
            for stream in (self.popen.stdout, self.popen.stderr):
                if stream is not None:
                    stream.close()


_processes: dict[str, _Process] = {}
_failures = 0
_lock = threading.Lock()


def render(source: str, engine: str) -> Optional[str]:
    """The SVG of `source` (one complete graph) laid out by `engine`, or None (see the module docstring)."""
    global _failures
    if os.name != "posix" or _failures >= MAX_FAILURES:
        return None
    with _lock:
        process = _processes.get(engine)
        if process is not None and process.pid != os.getpid():
            process = None  # inherited from the parent of a fork: leave its pipes alone
        try:
            if process is None:
                process = _processes[engine] = _Process(engine)
            svg = process.render(source)
        except OSError:  # Graphviz missing, or the process died while reading
            svg = None
        if svg is not None:
            _failures = 0
        else:
            _failures += 1
            if process is not None:
                _processes.pop(engine, None)
                process.close()
        return svg


@atexit.register
def _close_all() -> None:
    for process in list(_processes.values()):
        if process.pid == os.getpid():
            process.close()
    _processes.clear()
