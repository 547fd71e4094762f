"""The run directory: writer, incremental reader, discovery and control.

The format is documented in docs/run-format.md (format 1). Nothing here
imports torch or Textual.
"""

from dltui.run_format import FORMAT_VERSION, STATUSES
from dltui.runs.control import clear_stop, is_pid_alive, request_stop, stop_requested
from dltui.runs.discovery import (
    RunInfo,
    RunScan,
    SkippedRun,
    broken_run_info,
    discover_runs,
    read_run_info,
    scan_runs,
)
from dltui.runs.files import RunFileError, RunWriteError
from dltui.runs.layout import new_run_id
from dltui.runs.lock import LockHolder, RunLock, RunLockedError, lock_holder
from dltui.runs.reader import ReadOffsets, RunChanges, RunReader
from dltui.runs.removal import RunRemovalError, removable_run, remove_run, run_disk_usage
from dltui.runs.series import Series
from dltui.runs.status import HEARTBEAT_TIMEOUT, RunStatus, run_status
from dltui.runs.writer import RunWriter

__all__ = [
    "FORMAT_VERSION",
    "HEARTBEAT_TIMEOUT",
    "STATUSES",
    "LockHolder",
    "ReadOffsets",
    "RunChanges",
    "RunFileError",
    "RunInfo",
    "RunLock",
    "RunLockedError",
    "RunReader",
    "RunRemovalError",
    "RunScan",
    "RunStatus",
    "RunWriteError",
    "RunWriter",
    "Series",
    "SkippedRun",
    "broken_run_info",
    "clear_stop",
    "discover_runs",
    "is_pid_alive",
    "lock_holder",
    "new_run_id",
    "read_run_info",
    "removable_run",
    "remove_run",
    "request_stop",
    "run_disk_usage",
    "run_status",
    "scan_runs",
    "stop_requested",
]
