"""A background thread sampling CPU, RAM and (when pynvml imports) GPU use every 2 s
(the first reading half a second in, a last one when the run ends).

The values go through the run writer as ``system/...`` scalars at the loop's
current step; the dashboard plots them on the run's time axis.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import psutil

from dltui import run_format as rf

FIRST_SAMPLE_AFTER = 0.5  # seconds: long enough for a meaningful CPU percentage


class SystemSampler(threading.Thread):
    """Records ``system/cpu_percent``, ``system/ram_used``, ``system/process_rss`` and
    ``system/gpu<i>/{util,mem_used,temp,power}``."""

    def __init__(
        self,
        record: Callable[[dict[str, float]], None],
        *,
        interval: float = 2.0,
        gpus: bool = False,
    ) -> None:
        super().__init__(name="dltui-system-sampler", daemon=True)
        self.record = record
        self.interval = interval
        self._stop_event = threading.Event()
        self._process = psutil.Process()
        self._nvml: Any = None
        self._handles: list[Any] = []
        if gpus:
            self._init_nvml()

    def _init_nvml(self) -> None:
        try:
            import pynvml

            pynvml.nvmlInit()
            count = pynvml.nvmlDeviceGetCount()
            self._handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            self._nvml = pynvml
        except Exception:
            # No driver, no package, or no permission: GPU sampling is optional.
            self._nvml = None
            self._handles = []

    def sample(self) -> dict[str, float]:
        """One reading of every quantity available."""
        values: dict[str, float] = {
            rf.SYSTEM_CPU: psutil.cpu_percent(interval=None),
            rf.SYSTEM_RAM: float(psutil.virtual_memory().used),
            rf.SYSTEM_RSS: float(self._process.memory_info().rss),
        }
        nvml = self._nvml
        for i, handle in enumerate(self._handles):
            util, used, temp, power = (rf.gpu_tag(i, q) for q in rf.GPU_QUANTITIES)
            try:
                values[util] = float(nvml.nvmlDeviceGetUtilizationRates(handle).gpu)
                values[used] = float(nvml.nvmlDeviceGetMemoryInfo(handle).used)
                values[temp] = float(
                    nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU)
                )
                values[power] = nvml.nvmlDeviceGetPowerUsage(handle) / 1000.0
            except Exception:
                continue
        return values

    def run(self) -> None:
        """Sample until `stop`: the first reading soon after the start (a run of a few
        seconds still has one), then every ``interval``; the first CPU call only primes
        psutil's counter."""
        psutil.cpu_percent(interval=None)
        wait = min(FIRST_SAMPLE_AFTER, self.interval)
        while not self._stop_event.wait(wait):
            wait = self.interval
            if not self._record():
                return

    def _record(self) -> bool:
        try:
            self.record(self.sample())
        except Exception:
            # A closed writer at shutdown must not kill the process.
            return False
        return True

    def stop(self) -> None:
        """End the thread with a last reading (how the run ended), and shut NVML down."""
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout=5)
            self._record()
        if self._nvml is not None:
            with contextlib.suppress(Exception):
                self._nvml.nvmlShutdown()
