"""The run directory: writer, incremental reader, discovery and control.

The format is documented in docs/run-format.md (format 1). Nothing here
imports torch or Textual.
"""

from dltui.runs.control import clear_stop, is_pid_alive, request_stop, stop_requested
from dltui.runs.discovery import (
    RunInfo,
    RunScan,
    SkippedRun,
    discover_runs,
    read_run_info,
    scan_runs,
)
from dltui.runs.layout import FORMAT_VERSION, STATUSES, new_run_id
from dltui.runs.reader import ReadOffsets, RunChanges, RunReader
from dltui.runs.removal import RunRemovalError, removable_run, remove_run, run_disk_usage
from dltui.runs.series import Series
from dltui.runs.status import HEARTBEAT_TIMEOUT, RunStatus, run_status
from dltui.runs.writer import RunWriter

__all__ = [
    "FORMAT_VERSION",
    "HEARTBEAT_TIMEOUT",
    "STATUSES",
    "ReadOffsets",
    "RunChanges",
    "RunInfo",
    "RunReader",
    "RunRemovalError",
    "RunScan",
    "RunStatus",
    "RunWriter",
    "Series",
    "SkippedRun",
    "clear_stop",
    "discover_runs",
    "is_pid_alive",
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
