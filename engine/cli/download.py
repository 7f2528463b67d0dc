"""`gallop models download ID`: fetch a catalog model (engine.models.download) with a
progress bar on a terminal, plain lines in a pipe or a log (one every tenth of the
download), nothing with -q. Ctrl+C stops it and keeps what was fetched: running the
command again continues where it stopped."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from engine.cli.parser import Exit
from engine.models.catalog import Catalog
from engine.models.download import (
    DiskSpaceError,
    DownloadControl,
    DownloadProgress,
    DownloadStopped,
    LicenceError,
    download,
)
from engine.models.hub import HubError
from engine.render.reporter import bar, size_text


class DownloadPrinter:
    """Download progress on `stream`: a rich bar on a terminal, else a plain line at each
    tenth of the bytes."""

    def __init__(self, stream: TextIO, *, live: bool, quiet: bool = False) -> None:
        self.stream, self.quiet = stream, quiet
        self.live = live and not quiet
        self._step = -1
        self._progress: Any = None
        self._task: Any = None

    def __call__(self, event: DownloadProgress) -> None:
        if self.quiet:
            return
        if self.live:
            self._draw(event)
            return
        step = int(event.fraction * 10)
        if step > self._step:
            self._step = step
            percent = f"{event.fraction * 100:3.0f}%"
            self.stream.write(f"{bar(event.fraction)} {percent} {event.text} · {event.file}\n")
            self.stream.flush()

    def _draw(self, event: DownloadProgress) -> None:
        if self._progress is None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TransferSpeedColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                DownloadColumn(binary_units=True),
                TransferSpeedColumn(),
                TextColumn("{task.fields[eta]}", markup=False),
                console=Console(file=self.stream, highlight=False),
            )
            self._progress.start()
            self._task = self._progress.add_task(event.model_id, total=event.total, eta="")
        self._progress.update(self._task, total=event.total, completed=event.done, eta=event.eta)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def cmd_download(catalog: Catalog, model_id: str, accept_licence: bool, quiet: bool) -> int:
    entry = catalog.get(model_id)
    if entry.repo is None:
        print(f"{entry.id} is bundled with the studio; nothing to download")
        return Exit.OK
    printer = DownloadPrinter(sys.stderr, live=_is_terminal(sys.stderr), quiet=quiet)
    control = DownloadControl()
    if not quiet:
        print(f"downloading {entry.repo} ({entry.revision})…", file=sys.stderr)
    try:
        folder = download(
            entry, accept_licence=accept_licence, on_progress=printer, control=control
        )
    except LicenceError as exc:
        printer.close()
        print(f"gallop: {exc}; then run again with --accept-licence", file=sys.stderr)
        return Exit.FAILED
    except (DiskSpaceError, HubError) as exc:
        printer.close()
        print(f"gallop: {exc}", file=sys.stderr)
        return Exit.FAILED
    except (KeyboardInterrupt, DownloadStopped):
        printer.close()
        print(
            f"gallop: download of {entry.id} stopped; run the command again to continue it",
            file=sys.stderr,
        )
        return Exit.INTERRUPTED
    printer.close()
    from engine.models.installed import model_status

    status = model_status(entry)
    print(f"{entry.id}: ready in {folder} ({size_text(status.size_on_disk)})")
    return Exit.OK
