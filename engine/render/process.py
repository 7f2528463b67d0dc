"""The engine in a process of its own: `EngineProcess`, with the engine's interface.

The studio window renders through this, so that its own process never imports torch,
diffusers or a model: a render can no longer hold the window's interpreter lock (torch's
C initialisation alone holds it for about 50 ms), and a crash inside a native library
fails the job instead of closing the studio.

The child (`engine.render.process.main` in an isolated interpreter, see `child_command`) runs an
ordinary `Engine`, with its worker thread, over the same take folder. Commands go to it
(the frozen dataclasses of `engine.protocol`: `Submit`, `Cancel`, `Ask`...), and the events
of `studio.jobs` and the `Reply` to each `Ask` come back, as pickles over its standard
input and output; `handle` is the one place in the child that carries out each command;
its own prints and native output go to standard error, which the parent copies to its
own (or, with no terminal to read it, to its log) and keeps the last lines of. The child
logs to `engine.log` and leaves the Python stacks of a native crash in the log folder
(`engine.render.faults`). If the child dies, every job it had fails with that tail and any such
traceback as the detail, and the next submit starts a new child. The child shuts down
when the parent closes the pipe, so it never outlives the studio.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import itertools
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from engine.logs import configure_logging
from engine.protocol import (
    Ask,
    BackendFactory,
    Cancel,
    CancelAll,
    Command,
    EventSink,
    ExportInputs,
    RenderService,
    Reorder,
    Reply,
    Reprioritise,
    ServiceFactory,
    Shutdown,
    Submit,
    Unload,
)
from engine.render.faults import disable_fault_log, enable_fault_log, fault_report
from engine.render.worker import background_niceness, deliver, set_niceness
from studio.errors import StudioError
from studio.jobs import TERMINAL_EVENTS, Cancelled, Event, Failed, Priority
from studio.project.takes import TakeStore

if TYPE_CHECKING:
    from engine.render.worker import Engine

DEFAULT_BACKENDS = "engine.render.worker:default_backend_factory"
LOG_LINES = 40  # lines of the child's standard error kept for a crash report
ASK_TIMEOUT = 10.0  # seconds to wait for the child to answer a question
_PACKAGES = str(Path(__file__).resolve().parents[2])  # the folder that holds engine/

log = logging.getLogger("gallop.engine")


# The child's interpreter starts isolated (-I: neither the working folder nor PYTHONPATH
# nor PYTHON* variables reach its sys.path), so that a numpy.py or sitecustomize.py in
# whatever folder the studio was started from never runs inside the engine. The packages
# come from the folder that holds them, put first on sys.path by this bootstrap, whose
# first argument is that folder.
_BOOTSTRAP = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); "
    "from engine.render.process import main; sys.exit(main())"
)
# Variables that name folders: made absolute, since the child runs in another folder.
_PATH_VARIABLES = (
    "GALLOP_MODELS",
    "GALLOP_LOG_DIR",
    "HF_HOME",
    "HF_HUB_CACHE",
    "HUGGINGFACE_HUB_CACHE",
    "TORCH_HOME",
    "XDG_CACHE_HOME",
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
)


def child_command() -> list[str]:
    """The interpreter's arguments that start the engine child, before its own."""
    return ["-I", "-c", _BOOTSTRAP, _PACKAGES]


def child_environment() -> dict[str, str]:
    """The child's environment: the caller's, with folders made absolute (the child's
    working folder is the package folder, never the caller's)."""
    env = dict(os.environ)
    for name in _PATH_VARIABLES:
        value = env.get(name)
        if value and not os.path.isabs(value):
            env[name] = os.path.abspath(value)
    return env


def load_factory(spec: str) -> BackendFactory:
    """'module:function' -> the backend factory it names (imported in the child)."""
    module, _, name = spec.partition(":")
    if not module or not name:
        raise StudioError(f"a backend factory is 'module:function', not {spec!r}")
    return getattr(importlib.import_module(module), name)


def _pack(message: object) -> bytes:
    """The message as the other side reads it; StudioError when it cannot be pickled."""
    try:
        return pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # noqa: BLE001 - pickling raises many kinds of errors
        raise StudioError(f"cannot send {type(message).__name__} to the engine: {exc}") from exc


def _send(stream: BinaryIO, lock: threading.Lock, message: object | bytes) -> bool:
    """Write one message (or one `_pack`ed already), whole: one that cannot be pickled is
    never half written. False when the other side has gone or it cannot be pickled."""
    try:
        data = message if isinstance(message, bytes) else _pack(message)
    except StudioError:
        log.exception("a message to the other side of the engine's pipe was dropped")
        return False
    with lock:
        try:
            stream.write(data)
            stream.flush()
        except (OSError, ValueError):  # the other side has gone
            return False
    return True


def stderr_is_terminal() -> bool:
    """Whether this process's standard error is a terminal someone may read (not so when
    the studio was started from a desktop menu, where it is closed or goes to a journal)."""
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def exit_reason(code: int | None) -> str:
    if code is None:
        return "is not answering"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (the system may have run out of memory)" if name == "SIGKILL" else ""
        return f"was stopped by {name}{hint}"
    return f"exited with code {code}"


class _Child:
    """One engine process and the jobs it was given."""

    def __init__(self, host: EngineProcess) -> None:
        self.host = host
        args = [
            host.python,
            *child_command(),
            "--takes",
            os.path.abspath(host.take_store.folder),
            "--backends",
            host.backends,
        ]
        niceness = background_niceness() if host.low_priority else None
        if niceness is not None:
            args += ["--niceness", str(niceness)]
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=_PACKAGES,
            env=child_environment(),
        )
        if niceness is not None:  # at once; the child sets it again before its threads start
            set_niceness(niceness, self.proc.pid)
        log.info("engine process %d started (%s)", self.proc.pid, host.backends)
        # Its output goes where someone can read it: the terminal, else the studio's log.
        self._to_logger = not stderr_is_terminal()
        self.live: set[str] = set()  # jobs given and not yet finished, failed or cancelled
        self.ended = False  # its output has closed; `live` was failed or cancelled
        self.state = threading.Lock()  # guards `live` and `ended`
        self.log: deque[str] = deque(maxlen=LOG_LINES)
        self.closing = False  # the parent asked it to stop
        self._write_lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, name="gallop-engine-events")
        self._reader.daemon = True
        self._logger = threading.Thread(target=self._copy_log, name="gallop-engine-log")
        self._logger.daemon = True
        self._reader.start()
        self._logger.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def running(self) -> bool:
        return not self.ended and self.proc.poll() is None and self._reader.is_alive()

    def send(self, command: Command | bytes) -> bool:
        return _send(self.proc.stdin, self._write_lock, command)

    def close(self) -> None:
        """Ask the child to shut down (it cancels its jobs and exits)."""
        self.closing = True
        self.send(Shutdown())
        with contextlib.suppress(OSError, ValueError):
            self.proc.stdin.close()

    def wait(self, timeout: float | None) -> None:
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(timeout=5)

    # -- the child's output, on the reader threads ---------------------------------------
    def _copy_log(self) -> None:
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace")
            self.log.append(line.rstrip("\n"))
            self._pass_on(line)
        with contextlib.suppress(OSError, ValueError):
            self.proc.stderr.close()

    def _pass_on(self, line: str) -> None:
        if self._to_logger:
            log.info("%s", line.rstrip("\n"))
            return
        with contextlib.suppress(OSError, ValueError, AttributeError):  # no stderr
            sys.stderr.write(line if line.endswith("\n") else line + "\n")

    def _read(self) -> None:
        stream = self.proc.stdout
        try:
            while True:
                try:
                    message = pickle.load(stream)
                except EOFError:
                    break
                except Exception as exc:  # noqa: BLE001 - a broken message ends the child
                    self.log.append(f"unreadable message from the engine: {exc!r}")
                    break
                self._dispatch(message)
        finally:
            self._ended()

    def _dispatch(self, message: object) -> None:
        if isinstance(message, Reply):
            self.host._answer(message.number, message.value)
            return
        event: Event = message  # type: ignore[assignment] - the child sends events or replies
        if isinstance(event, TERMINAL_EVENTS):
            with self.state:
                self.live.discard(event.job_id)
        deliver(self.host._on_event, event)

    def _ended(self) -> None:
        """The child's output closed: fail (or, when asked to stop, cancel) what it had."""
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # alive but no longer heard: it cannot go on
            self.proc.kill()
            self.proc.wait()
        self._logger.join(timeout=2)
        code = self.proc.poll()
        faults = fault_report(self.pid) if code else []  # what a native crash left
        for line in faults:
            self._pass_on(line)
        if code == 0 or self.closing:
            log.info("engine process %d %s", self.pid, exit_reason(code))
        else:
            log.warning("engine process %d %s", self.pid, exit_reason(code))
        with self.state:
            self.ended = True
            orphans, self.live = sorted(self.live), set()
        if not orphans:
            self.host._answer_all_missing()
            return
        detail = "\n".join([*self.log, *faults])
        message = (
            f"The render engine {exit_reason(code)}. The studio is fine and starts a new "
            "engine for the next render; render again to retry."
        )
        for job_id in orphans:
            event = Cancelled(job_id) if self.closing else Failed(job_id, message, detail)
            deliver(self.host._on_event, event)
        self.host._answer_all_missing()


class EngineProcess(RenderService):
    """The engine in a child process, a `engine.protocol.RenderService`: `start()` it,
    `submit()` renders and exports, `shutdown()` once (a later submit raises `StudioError`).
    An export's project crosses the pipe as a pickle and is written in the child.

    `backends` names the child's backend factory as 'module:function'. `low_priority` runs
    the child, and every thread it starts, below the window (`BACKGROUND_NICENESS`).
    """

    def __init__(
        self,
        take_store: TakeStore,
        on_event: EventSink,
        backends: str = DEFAULT_BACKENDS,
        *,
        low_priority: bool = False,
        python: str = sys.executable,
    ) -> None:
        self.take_store = take_store
        self.backends = backends
        self.low_priority = low_priority
        self.python = python
        self._on_event = on_event
        self._lock = threading.Lock()
        self._child: _Child | None = None
        self._stopping = False
        self._questions = itertools.count()
        self._answers: dict[int, Any] = {}
        self._asked: set[int] = set()
        self._answered = threading.Condition()

    # -- life ---------------------------------------------------------------------------
    def start(self) -> EngineProcess:
        """Start the child now (it starts on first use otherwise)."""
        self._current()
        return self

    def _current(self) -> _Child:
        with self._lock:
            if self._stopping:
                raise StudioError("the engine has shut down")
            if self._child is None or not self._child.running:
                try:
                    self._child = _Child(self)
                except OSError as exc:
                    raise StudioError(f"cannot start the render engine: {exc}") from exc
            return self._child

    @property
    def pid(self) -> int | None:
        child = self._child
        return child.pid if child is not None else None

    @property
    def alive(self) -> bool:
        child = self._child
        return child is not None and child.running

    def shutdown(self, timeout: float | None = None) -> None:
        """Cancel everything and stop the child: wait up to `timeout` seconds for it to
        exit (then kill it); with 0, let it finish cancelling in the background."""
        with self._lock:
            self._stopping = True
            child, self._child = self._child, None
        if child is None:
            return
        child.close()
        if timeout is not None and timeout <= 0:
            reaper = threading.Thread(target=child.wait, args=(60,), name="gallop-engine-reap")
            reaper.daemon = True
            reaper.start()
        else:
            child.wait(timeout)

    # -- commands, any thread -----------------------------------------------------------
    def _enqueue(self, job: Submit) -> None:
        command = _pack(job.absolute())  # before the job is the child's: it may not pickle
        while True:
            child = self._current()
            with child.state:
                if not child.ended:
                    child.live.add(job.job_id)
                    break
        # Should the child die before it reads this, its reader fails the job (in `live`).
        child.send(command)

    def _owner(self, job_id: str) -> _Child | None:
        child = self._child
        if child is None:
            return None
        with child.state:
            return child if job_id in child.live else None

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued job at once or a running one at its next step."""
        child = self._owner(job_id)
        return child is not None and child.send(Cancel(job_id))

    def cancel_all(self) -> None:
        child = self._child
        if child is not None:
            child.send(CancelAll())

    def reprioritise(self, job_id: str, priority: Priority) -> bool:
        """Give a queued job another priority. Answered without asking the child: whether
        the job is one of its live ones (a running job is left as it is)."""
        child = self._owner(job_id)
        return child is not None and child.send(Reprioritise(job_id, priority))

    def reorder(self, job_ids: Sequence[str]) -> None:
        child = self._child
        if child is not None:
            child.send(Reorder(tuple(job_ids)))

    def unload(self) -> None:
        """Free the loaded models (after the current job, before the next); a child that
        is not running has none loaded."""
        child = self._child
        if child is not None:
            child.send(Unload())

    def pending(self) -> list[str]:
        """The queued jobs in the order they will run (asks the child)."""
        return self._ask("pending") or []

    @property
    def running(self) -> str | None:
        return self._ask("running")

    # -- questions ----------------------------------------------------------------------
    def _ask(self, what: str) -> Any:
        child = self._child
        if child is None or not child.running:
            return None
        with self._answered:
            number = next(self._questions)
            self._asked.add(number)
        try:
            if not child.send(Ask(number, what)):
                return None
            with self._answered:
                self._answered.wait_for(lambda: number in self._answers, ASK_TIMEOUT)
                return self._answers.pop(number, None)
        finally:
            with self._answered:
                self._asked.discard(number)

    def _answer(self, number: int, value: Any) -> None:
        with self._answered:
            if number in self._asked:
                self._answers[number] = value
            self._answered.notify_all()

    def _answer_all_missing(self) -> None:
        with self._answered:
            for number in self._asked:
                self._answers.setdefault(number, None)
            self._answered.notify_all()


def process_engine_factory(
    backends: str = DEFAULT_BACKENDS, *, low_priority: bool = False
) -> ServiceFactory:
    """Engines in a child process (see `EngineProcess`), for the bridge's factory."""

    def build(store: TakeStore, sink: EventSink) -> EngineProcess:
        return EngineProcess(store, sink, backends, low_priority=low_priority).start()

    return build


# --- the child ----------------------------------------------------------------------------


def serve(
    commands: BinaryIO,
    replies: BinaryIO,
    store: TakeStore,
    backend_factory: BackendFactory,
) -> None:
    """Run an engine over `store`: commands from one stream, events to the other, until
    a `Shutdown` or the end of the commands."""
    from engine.render.worker import Engine

    lock = threading.Lock()
    exports: set[str] = set()  # the jobs that are exports, for the log

    def send(message: object) -> None:
        _send(replies, lock, message)

    def emit(event: Event) -> None:
        if isinstance(event, TERMINAL_EVENTS):
            _log_end(event, "export" if event.job_id in exports else "render")
            exports.discard(event.job_id)
        send(event)

    engine = Engine(store, emit, backend_factory).start()
    try:
        while True:
            try:
                command = pickle.load(commands)
            except (EOFError, OSError):
                break
            if not handle(engine, command, send, exports):
                break
    finally:
        engine.shutdown()


def handle(
    engine: Engine, command: Command, send: Callable[[object], None], exports: set[str]
) -> bool:
    """Carry out one command of the parent on the child's engine; False once it says to
    stop. The ids of the exports it queues go into `exports`."""
    match command:
        case Submit(job_id, request, inputs, priority, label):
            if isinstance(inputs, ExportInputs):
                work, what = "export", f"to {request.output}"
                exports.add(job_id)
            else:
                work, what = "render", f"{request.model_id}, seed {request.seed}"
            log.info("%s %s queued: %s, %s", work, job_id, label or "-", what)
            try:
                engine.submit(request, inputs, priority=priority, label=label, job_id=job_id)
            except Exception as exc:  # noqa: BLE001 - the job fails, the engine goes on
                exports.discard(job_id)
                send(Failed(job_id, f"could not queue the {work}: {exc}", ""))
        case Cancel(job_id):
            engine.cancel(job_id)
        case CancelAll():
            engine.cancel_all()
        case Reprioritise(job_id, priority):
            engine.reprioritise(job_id, priority)
        case Reorder(job_ids):
            engine.reorder(job_ids)
        case Unload():
            engine.unload()
        case Ask(number, "pending"):
            send(Reply(number, engine.pending()))
        case Ask(number, "running"):
            send(Reply(number, engine.running))
        case Ask(number, _):
            send(Reply(number, None))
        case Shutdown():
            return False
        case _:
            log.warning("unknown command from the studio: %r", command)
    return True


def _log_end(event: Event, work: str) -> None:
    if isinstance(event, Failed):
        log.warning("%s %s failed: %s", work, event.job_id, event.message)
    elif isinstance(event, Cancelled):
        log.info("%s %s cancelled", work, event.job_id)
    else:
        log.info("%s %s finished", work, event.job_id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.render.process")
    parser.add_argument("--takes", required=True, help="the project's take folder")
    parser.add_argument("--backends", default=DEFAULT_BACKENDS, help="module:function")
    parser.add_argument("--niceness", type=int, default=None, help="run at this niceness")
    args = parser.parse_args(argv)
    # The protocol owns the original stdin and stdout; anything else that prints (Python
    # or native code) goes to standard error, which the parent copies and keeps.
    commands = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    with open(os.devnull, "rb") as null:
        os.dup2(null.fileno(), 0)
    sys.stdout = sys.stderr
    configure_logging("engine", stream=sys.stderr)  # warnings also reach the parent
    enable_fault_log(sys.stderr)  # a native crash still leaves the Python stacks
    if args.niceness is not None:
        set_niceness(args.niceness)  # before any thread starts: they all inherit it
    log.info("engine process %d serving %s with %s", os.getpid(), args.takes, args.backends)
    try:
        serve(commands, replies, TakeStore(args.takes), load_factory(args.backends))
    finally:
        log.info("engine process %d stopping", os.getpid())
        disable_fault_log()
    return 0


if __name__ == "__main__":
    sys.exit(main())
