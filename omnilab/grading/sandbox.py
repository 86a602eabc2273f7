"""Run a learner's answer to one exercise in a fresh process, and bring back only artefacts.

The batch grader calls `run` once per (submission, exercise). The child process is either forked
from a *zygote* (``python -m omnilab.grading.sandbox --zygote``, one per grader thread, which has
imported the exercise bank once and never runs learner code) or, with ``prefork=False``, started
afresh as ``python -m omnilab.grading.sandbox`` with its job over stdin. Either way it leads a
process group of its own, gets the job (the bank's module name, the exercise id, the answer cells'
sources, and which checks to run on which seeds), and:

1. caps its own resources (address space, CPU seconds, file sizes) before any learner code exists
   in the process;
2. loads the answers (``bank.load_answers``: the answer cells executed in a fresh namespace);
3. for each check, calls only its ``produce(namespace, seed)`` for each seed and sends back the
   JSON artefact. It never calls ``judge``: pass or fail is decided by the parent, in its own
   process, from the artefact alone, so monkeypatching the grader, the invariants or the simulator
   inside an answer changes nothing that the verdict depends on.

The results travel on a pipe of their own (not stdout), moved to a descriptor number the job does
not name, with a random per-run token that the parent made; every message carries the token, and
the parent accepts only the messages it expects, in order (``ready``, ``loaded``, then ``start``
and one ``artefact`` or ``produce-error`` per seed of each check, then ``done``). Anything else on
that pipe is reported as tampering. The learner's own output (stdout and stderr) goes to a second
pipe that the parent drains with a cap, keeping the first bytes and discarding the rest, so a
megabyte printer neither fills the parent's memory nor blocks.

Limits, enforced by the parent: a per-check wall-clock timeout (and one for loading the answers);
on expiry the whole process group is killed, the check is ``timeout``, and a fresh child carries
on with the remaining checks, so one endless loop costs one check. A child that dies (a signal,
``os._exit``, the CPU cap) costs the check it was running, the same way. The address-space cap is
``RLIMIT_AS``, so an allocation loop ends in ``MemoryError`` inside the child.

What this does not defend against: the child runs as the same user as the grader. Code in an answer
can read files the grader can read and signal its processes, and a process running as root could
raise its own limits. For untrusted classes at scale, run the grader itself as an unprivileged
user or in a container; the verdicts stay sound either way, because they are computed outside the
child.
"""

from __future__ import annotations

import json
import os
import secrets
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

# Defaults for the limits (the batch grader exposes them as options).
MEMORY_MB = 1024                 # RLIMIT_AS of the child, in MiB
OUTPUT_CAP = 64 * 1024           # bytes of the learner's output kept; the rest is read and discarded
ARTEFACT_CAP = 32 * 1024 * 1024  # bytes of one message on the result pipe
LOAD_TIMEOUT = 20.0              # seconds for the answer cells to finish executing
FILE_CAP = 64 * 1024 * 1024      # bytes of any file the child writes
STARTUP_TIMEOUT = 120.0          # seconds for the child to import the bank (trusted code; a loaded machine is slow)


# ----------------------------------------------------------------------------------------------
# What the parent gets back


@dataclass
class CheckRun:
    """What happened to one check in the sandbox, before judging.

    ``state`` is ``"produced"`` (``artefacts`` holds one ``(seed, artefact)`` per seed, all of them),
    ``"not-implemented"`` (the answer raised NotImplementedError), ``"error"`` (the answer raised,
    the process died, or the channel was tampered with) or ``"timeout"``. ``reason`` says what the
    learner should know; ``seed`` is the seed that ended the check, when one did.
    """

    check: str
    state: str
    artefacts: list[tuple[int, Any]] = field(default_factory=list)
    reason: str = ""
    seed: int | None = None
    duration: float = 0.0


@dataclass
class SandboxResult:
    runs: dict[str, CheckRun]      # by check name, every check of the plan
    output: str                    # the learner's stdout and stderr, capped
    output_truncated: bool         # True when more was printed than the cap kept
    processes: int                 # children started (1, plus one per timeout or crash mid-run)


# ----------------------------------------------------------------------------------------------
# The parent's side


def run(bank: str, exercise_id: str, sources: dict[str, str], plan: list[tuple[str, list[int]]], *,
        timeouts: dict[str, float], load_timeout: float = LOAD_TIMEOUT, memory_mb: int = MEMORY_MB,
        output_cap: int = OUTPUT_CAP, pythonpath: list[str] | None = None, prefork: bool = True) -> SandboxResult:
    """Run ``produce`` for every (check, seeds) in `plan` on the answers in `sources`.

    `bank` is the importable name of the exercise bank module (it provides ``EXERCISES`` and
    ``load_answers``), `timeouts` the wall-clock seconds allowed per check. Never raises for
    anything the answer does: every check of the plan comes back with a `CheckRun`. `prefork`
    forks each child from a zygote that has the bank imported (see below) instead of starting
    Python afresh; the child is a fresh process either way.
    """
    runs: dict[str, CheckRun] = {}
    output = _CappedOutput(output_cap)
    remaining = list(plan)
    processes = 0
    while remaining:
        processes += 1
        stop = _run_child(bank, exercise_id, sources, remaining, runs, output, timeouts=timeouts,
                          load_timeout=load_timeout, memory_mb=memory_mb, pythonpath=pythonpath or [],
                          prefork=prefork and hasattr(os, "fork"))
        remaining = [(name, seeds) for name, seeds in remaining if name not in runs]
        if stop:  # the answers themselves could not be loaded: every check shares that fate
            break
    return SandboxResult(runs, output.text(), output.truncated, processes)


def _run_child(bank, exercise_id, sources, plan, runs, output, *, timeouts, load_timeout, memory_mb,
               pythonpath, prefork) -> bool:
    """One child process over `plan`, filling `runs`. Returns True when no later child can do
    better (the answers failed to load), False when the remaining checks should get a fresh child."""
    token = secrets.token_hex(16)
    cpu_seconds = int(load_timeout + sum(timeouts[name] for name, _ in plan) + 10)
    job = {"bank": bank, "exercise": exercise_id, "sources": sources, "plan": plan, "token": token,
           "memory_mb": memory_mb, "cpu_seconds": cpu_seconds}
    result_r, result_w = os.pipe()
    with tempfile.TemporaryDirectory(prefix="omnilab-sandbox-") as workdir:
        try:
            child = None
            if prefork:
                try:
                    child = _zygote(bank, pythonpath).fork(job, result_w, workdir)
                except OSError:
                    child = None  # no zygote to be had: start this child afresh
            if child is None:
                child = _Spawned(job, result_w, workdir, pythonpath)
        finally:
            os.close(result_w)
        drain = threading.Thread(target=output.drain, args=(child.output,), daemon=True)
        drain.start()
        try:
            return _follow(child, result_r, token, plan, runs, timeouts, load_timeout)
        finally:
            child.kill()
            os.close(result_r)
            drain.join(timeout=5)


class _Spawned:
    """A child started afresh: ``python -m omnilab.grading.sandbox``, its job over stdin."""

    def __init__(self, job: dict, result_w: int, workdir: str, pythonpath: list[str]):
        env = _child_env(pythonpath)
        env["HOME"] = workdir
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "omnilab.grading.sandbox"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, pass_fds=(result_w,), cwd=workdir, env=env,
            start_new_session=True)
        self.output = self.proc.stdout
        try:
            self.proc.stdin.write(json.dumps({**job, "fd": result_w}).encode())
            self.proc.stdin.close()
        except OSError:
            pass  # the child died at once; reading the result pipe says so

    def exit_code(self, wait: float) -> int | None:
        try:
            return self.proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """Kill the child and everything it started (it leads its own process group)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


# --- pre-forking: a zygote per grader thread --------------------------------------------------------
#
# Starting Python and importing omnilab and the bank costs about a second of CPU per child on this
# machine (more than many checks take). A zygote is a `python -m omnilab.grading.sandbox --zygote`
# process that imports the bank once and then only forks: each (submission, exercise) still gets a
# fresh process of its own, copied from one in which no learner code ever ran, and the zygote never
# runs any. One zygote per grader thread keeps its protocol a plain request and reply.

_local = threading.local()
_zygotes: list["_Zygote"] = []
_zygotes_lock = threading.Lock()


def _zygote(bank: str, pythonpath: list[str]) -> "_Zygote":
    key = (bank, tuple(pythonpath))
    mine = getattr(_local, "zygotes", None)
    if mine is None:
        mine = _local.zygotes = {}
    zygote = mine.get(key)
    if zygote is None or not zygote.alive():
        zygote = mine[key] = _Zygote(bank, pythonpath)
        with _zygotes_lock:
            _zygotes.append(zygote)
    return zygote


def shutdown_zygotes() -> None:
    """Stop every zygote this process started (the batch grader calls it when a run ends)."""
    with _zygotes_lock:
        zygotes, _zygotes[:] = list(_zygotes), []
    for zygote in zygotes:
        zygote.close()
    _local.__dict__.pop("zygotes", None)


def _send(sock, message: dict, fds=()) -> None:
    import socket

    payload = json.dumps(message).encode()
    header = len(payload).to_bytes(4, "big")
    if fds:
        socket.send_fds(sock, [header], list(fds))
    else:
        sock.sendall(header)
    sock.sendall(payload)


def _receive(sock, maxfds: int = 0) -> tuple[dict | None, list[int]]:
    import socket

    fds: list[int] = []
    if maxfds:
        data, fds, _, _ = socket.recv_fds(sock, 4, maxfds)
    else:
        data = sock.recv(4)
    if not data:
        return None, fds
    data = _exactly(sock, data, 4)
    payload = _exactly(sock, b"", int.from_bytes(data, "big"))
    return json.loads(payload), fds


def _exactly(sock, data: bytes, size: int) -> bytes:
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError("the other end closed the socket")
        data += chunk
    return data


class _Zygote:
    def __init__(self, bank: str, pythonpath: list[str]):
        import socket

        self.sock, theirs = socket.socketpair()
        env = _child_env(pythonpath)
        env["HOME"] = tempfile.gettempdir()  # each child gets its own scratch HOME when forked
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "omnilab.grading.sandbox", "--zygote", bank, str(theirs.fileno())],
            pass_fds=(theirs.fileno(),), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True, cwd=tempfile.gettempdir())
        theirs.close()
        self.failed = False

    def alive(self) -> bool:
        return not self.failed and self.proc.poll() is None

    def _ask(self, message: dict, fds=()) -> dict | None:
        try:
            _send(self.sock, message, fds)
            reply, _ = _receive(self.sock)
            return reply
        except (OSError, EOFError, ValueError):
            self.failed = True
            return None

    def fork(self, job: dict, result_w: int, workdir: str) -> "_Forked | None":
        """A fresh child running `job`, or None when the zygote is gone (the caller spawns instead)."""
        output_r, output_w = os.pipe()
        try:
            reply = self._ask({"op": "fork", "job": job, "workdir": workdir}, (result_w, output_w))
        finally:
            os.close(output_w)
        if not reply or "pid" not in reply:
            os.close(output_r)
            self.failed = True
            return None
        return _Forked(self, reply["pid"], os.fdopen(output_r, "rb"))

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class _Forked:
    """A child forked by a zygote; the zygote reports its exit status when asked."""

    def __init__(self, zygote: _Zygote, pid: int, output):
        self.zygote, self.pid, self.output = zygote, pid, output
        self.code: int | None = None
        self.reaped = False

    def exit_code(self, wait: float) -> int | None:
        if not self.reaped:
            reply = self.zygote._ask({"op": "wait", "pid": self.pid, "timeout": wait})
            if reply and reply.get("exited"):
                self.code, self.reaped = reply.get("code"), True
        return self.code

    def kill(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if not self.reaped:
            self.exit_code(10)


def _zygote_main(bank_name: str, fd: int) -> int:
    """The zygote's loop: import the bank, then fork a child per request, and report exit codes."""
    import importlib
    import socket

    sock = socket.socket(fileno=fd)
    bank = importlib.import_module(bank_name)
    bank.EXERCISES  # noqa: B018 - build the bank now, once, rather than in every child
    while True:
        try:
            request, fds = _receive(sock, maxfds=2)
        except (OSError, EOFError, ValueError):
            return 0
        if request is None:
            return 0
        if request["op"] == "fork":
            result_w, output_w = fds
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    sock.close()
                    os.setsid()
                    os.dup2(output_w, 1)
                    os.dup2(output_w, 2)
                    os.close(output_w)
                    devnull = os.open(os.devnull, os.O_RDONLY)
                    os.dup2(devnull, 0)
                    os.close(devnull)
                    os.chdir(request["workdir"])
                    os.environ["HOME"] = request["workdir"]
                    code = _child(request["job"], result_w)
                finally:
                    try:
                        sys.stdout.flush()
                        sys.stderr.flush()
                    finally:
                        os._exit(code)
            os.close(result_w)
            os.close(output_w)
            _send(sock, {"pid": pid})
        elif request["op"] == "wait":
            deadline = time.monotonic() + float(request["timeout"])
            reply = {"exited": False}
            while True:
                try:
                    done, status = os.waitpid(request["pid"], os.WNOHANG)
                except ChildProcessError:
                    reply = {"exited": True, "code": None}
                    break
                if done:
                    reply = {"exited": True, "code": os.waitstatus_to_exitcode(status)}
                    break
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.01)
            _send(sock, reply)


def _follow(child, result_r, token, plan, runs, timeouts, load_timeout) -> bool:
    """Read the child's messages, in the one order the protocol allows, until it is done, dies or
    overruns a deadline."""
    reader = _MessageReader(result_r, token)

    def fail_all(state: str, reason: str, names) -> None:
        for name in names:
            runs.setdefault(name, CheckRun(name, state, reason=reason))

    names = [name for name, _ in plan]

    message = reader.next(time.monotonic() + STARTUP_TIMEOUT)
    if message.get("event") != "ready":
        fail_all("error", _grader_failure(child, message, "starting the grading process"), names)
        return True

    message = reader.next(time.monotonic() + load_timeout)
    event = message.get("event")
    if event == "timeout":
        fail_all("timeout", f"the answer cells did not finish running within {load_timeout:g} s "
                            "(an endless loop at the top level of a cell?)", names)
        return True
    if event == "load-error":
        state = "not-implemented" if message.get("not_implemented") else "error"
        fail_all(state, "the answer cells raised " + str(message.get("reason", "")), names)
        return True
    if event != "loaded":
        fail_all("error", _grader_failure(child, message, "loading the answers"), names)
        return True

    for name, seeds in plan:
        started = time.monotonic()
        deadline = started + timeouts[name]
        message = reader.next(deadline)
        if message.get("event") != "start" or message.get("check") != name:
            runs[name] = CheckRun(name, "error", reason=_grader_failure(child, message, f"check {name}"),
                                  duration=time.monotonic() - started)
            return False
        artefacts = []
        for seed in seeds:
            message = reader.next(deadline)
            event = message.get("event")
            if event == "artefact" and message.get("check") == name and message.get("seed") == seed:
                artefacts.append((seed, message.get("artefact")))
                continue
            duration = time.monotonic() - started
            if event == "produce-error" and message.get("check") == name and message.get("seed") == seed:
                state = "not-implemented" if message.get("not_implemented") else "error"
                runs[name] = CheckRun(name, state, reason=str(message.get("reason", "")), seed=seed,
                                      duration=duration)
                break
            if event == "timeout":
                runs[name] = CheckRun(name, "timeout", seed=seed, duration=duration,
                                      reason=f"did not finish within {timeouts[name]:g} s on seed {seed} "
                                             "(an endless loop, or far too much work?)")
            else:
                runs[name] = CheckRun(name, "error", seed=seed, duration=duration,
                                      reason=_grader_failure(child, message, f"check {name}, seed {seed}"))
            return False
        else:
            runs[name] = CheckRun(name, "produced", artefacts=artefacts, duration=time.monotonic() - started)
    message = reader.next(time.monotonic() + 10)
    if message.get("event") != "done":
        # Every check has its artefacts; a child that misbehaves after them changes nothing.
        pass
    return False


def _grader_failure(child, message: dict, during: str) -> str:
    """The reason for a protocol break: the child died, or something unexpected was written."""
    event = message.get("event")
    if event == "eof":
        code = child.exit_code(2)
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            extra = " (the CPU-time cap)" if -code == signal.SIGXCPU else (
                " (killed: out of memory?)" if -code == signal.SIGKILL else "")
            return f"the grading process was killed by {name}{extra} during {during}"
        if code is None:
            return f"the grading process closed its result channel during {during}"
        return f"the grading process exited (code {code}) during {during}"
    if event == "tampered":
        return f"unexpected data on the grader's result channel during {during}: {message.get('reason')}"
    if event == "timeout":
        return f"no answer from the grading process during {during}"
    if event == "fatal":
        return f"the grader failed during {during}: {message.get('reason')}"
    return f"unexpected message {event!r} from the grading process during {during}"


def _child_env(pythonpath: list[str]) -> dict[str, str]:
    """A small, fixed environment: the same hash seed every run (so set iteration order in an
    answer is the same on every regrade), no user site packages."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONHASHSEED": "0",
           "PYTHONNOUSERSITE": "1", "PYTHONIOENCODING": "utf-8", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg",
           "LANG": "C.UTF-8"}
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        env["PYTHONDONTWRITEBYTECODE"] = os.environ["PYTHONDONTWRITEBYTECODE"]
    paths = [p for p in pythonpath if p]
    if paths:
        env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


class _CappedOutput:
    """The learner's output: the first `cap` bytes kept, the rest read and thrown away."""

    def __init__(self, cap: int):
        self.cap = cap
        self.kept = bytearray()
        self.truncated = False
        self.lock = threading.Lock()

    def drain(self, stream) -> None:
        try:
            while True:
                chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
                if not chunk:
                    break
                with self.lock:
                    room = self.cap - len(self.kept)
                    if room > 0:
                        self.kept += chunk[:room]
                    if len(chunk) > max(room, 0):
                        self.truncated = True
        except (OSError, ValueError):
            pass
        finally:
            try:
                stream.close()
            except OSError:
                pass

    def text(self) -> str:
        with self.lock:
            text = self.kept.decode("utf-8", errors="replace")
            if self.truncated:
                text += f"\n[output beyond {self.cap} bytes discarded]"
            return text


class _MessageReader:
    """Token-framed JSON lines from the result pipe, with deadlines.

    ``next(deadline)`` returns the next message, or a synthetic one: ``{"event": "timeout"}`` when
    the deadline passes, ``{"event": "eof"}`` when the child closed the pipe (died or exited), and
    ``{"event": "tampered", "reason": ...}`` for a line without the run's token, one that is not
    JSON, or one longer than `ARTEFACT_CAP`.
    """

    def __init__(self, fd: int, token: str):
        self.fd = fd
        self.prefix = (token + " ").encode()
        self.buffer = bytearray()
        self.eof = False
        self.selector = selectors.DefaultSelector()
        self.selector.register(fd, selectors.EVENT_READ)

    def next(self, deadline: float) -> dict:
        while True:
            newline = self.buffer.find(b"\n")
            if newline >= 0:
                line = bytes(self.buffer[:newline])
                del self.buffer[:newline + 1]
                return self._parse(line)
            if len(self.buffer) > ARTEFACT_CAP:
                self.buffer.clear()
                self.eof = True  # nothing after an oversized message can be trusted to line up
                return {"event": "tampered", "reason": f"a message larger than {ARTEFACT_CAP} bytes "
                                                       "(an artefact too large to grade)"}
            if self.eof:
                return {"event": "eof"}
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.selector.select(remaining):
                return {"event": "timeout"}
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                self.eof = True
            self.buffer += chunk

    def _parse(self, line: bytes) -> dict:
        if not line.startswith(self.prefix):
            return {"event": "tampered", "reason": "a line without this run's token"}
        try:
            message = json.loads(line[len(self.prefix):])
        except ValueError:
            return {"event": "tampered", "reason": "a line that is not JSON"}
        if not isinstance(message, dict):
            return {"event": "tampered", "reason": "a message that is not an object"}
        return message


# ----------------------------------------------------------------------------------------------
# The child's side (python -m omnilab.grading.sandbox)


def _describe(error: BaseException) -> str:
    """``Type: message``, and the innermost frame that came from an answer cell, if any."""
    text = f"{type(error).__name__}: {error}".rstrip(": ").strip()
    if isinstance(error, MemoryError):
        text = "MemoryError (the answer ran out of memory)"
    # The bank compiles each answer cell under a name such as "<ex01 answer is_quorum>".
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if f.filename.startswith("<") and "answer" in f.filename]
    if frames:
        text += f" (at line {frames[-1].lineno} of the answer cell)"
    return text[:2000]


def _set_limits(memory_mb: int, cpu_seconds: int) -> None:
    import resource

    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # Files an answer writes (in its scratch directory) stay small.
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_CAP, FILE_CAP))


def main() -> int:
    """``python -m omnilab.grading.sandbox``: one job from stdin, its result pipe named in it."""
    job = json.loads(sys.stdin.buffer.read())
    # Learner code that reads stdin gets end-of-file, not the job.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    return _child(job, job.pop("fd"))


def _child(job: dict, result_fd: int) -> int:
    """Run `job` in this (fresh) process, sending its messages down `result_fd`."""
    # The result pipe moves to a descriptor the job did not name, and its old number is closed.
    channel_fd = os.dup(result_fd)
    os.close(result_fd)
    prefix = (job.pop("token") + " ").encode()

    def send(event: str, **fields) -> None:
        data = prefix + json.dumps({"event": event, **fields}, allow_nan=False).encode() + b"\n"
        view = memoryview(data)
        while view:
            written = os.write(channel_fd, view)
            view = view[written:]

    try:
        import importlib

        bank = importlib.import_module(job["bank"])
        exercise = bank.EXERCISES[job["exercise"]]
        checks = {check.name: check for check in exercise.checks}
        produce = {name: checks[name].produce for name, _ in job["plan"]}
        _set_limits(job["memory_mb"], job["cpu_seconds"])
        # Line by line, so that what an answer printed before a timeout kills it is not lost.
        for stream in (sys.stdout, sys.stderr):
            stream.reconfigure(line_buffering=True)
    except BaseException as error:  # noqa: BLE001 - report, never crash silently
        send("fatal", reason=_describe(error))
        return 1
    send("ready")

    try:
        namespace = bank.load_answers(exercise, job["sources"])
    except BaseException as error:  # noqa: BLE001 - anything an answer cell raises is its reason
        send("load-error", reason=_describe(error), not_implemented=isinstance(error, NotImplementedError))
        return 0
    send("loaded")

    for name, seeds in job["plan"]:
        send("start", check=name)
        for seed in seeds:
            try:
                artefact = produce[name](namespace, seed)
                json.dumps(artefact, allow_nan=False)
            except BaseException as error:  # noqa: BLE001
                send("produce-error", check=name, seed=seed, reason=_describe(error),
                     not_implemented=isinstance(error, NotImplementedError))
                break
            send("artefact", check=name, seed=seed, artefact=artefact)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001 - an answer may have closed or replaced them
        pass
    send("done")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--zygote"]:
        sys.exit(_zygote_main(sys.argv[2], int(sys.argv[3])))
    # os._exit: no atexit handlers or finalizers that an answer may have registered.
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)
