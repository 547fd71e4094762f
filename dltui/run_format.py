"""The run format's names, in one place both sides import: files, states, exit codes, tags.

The trainer, `dltui.tracking` and the dashboard meet in a run directory
(docs/run-format.md). Everything they must spell alike lives here, and nothing
here imports numpy or anything else heavy: the dashboard reads it at start-up.

Tags are ``split/metric`` for what is measured on a split (``train/loss``,
``val/accuracy``, ``test/f1``), plus a few of their own (``lr``,
``throughput``, ``memory/…``, ``grad_norm/<layer>``, ``system/…``). A metric
recorded both every log step and once per epoch has its epoch value under
``<name>_epoch`` (``train/loss_epoch``, ``train/d_loss_epoch``): the same
metric, two resolutions, never two metrics.
"""

from __future__ import annotations

# ----------------------------------------------------------------------------- files

FORMAT_VERSION = 1
"""The run-directory format this code writes and reads (``meta.json["format"]``)."""

META = "meta.json"
EXPERIMENT = "experiment.toml"
EVENTS = "events.jsonl"
SCALARS = "scalars.bin"
STATUS = "status.json"
OUTPUT = "output.log"
CHECKPOINTS = "checkpoints"
SWEEPS = "sweeps"
"""Beside an experiment's runs (``runs/<experiment>/sweeps/``): its sweeps' folders, not a run."""
LAST_CHECKPOINT = "last.pt"
BEST_CHECKPOINT = "best.pt"
STOP = "stop"
LOCK = "lock"

RUN_FILES = (META, EXPERIMENT, EVENTS, SCALARS, STATUS, OUTPUT, STOP, LOCK)
"""The files of a run folder (besides ``checkpoints/``)."""

LAST_CHECKPOINT_PATH = f"{CHECKPOINTS}/{LAST_CHECKPOINT}"
"""``checkpoints/last.pt``, relative to the run folder: what ``--resume`` continues from."""
BEST_CHECKPOINT_PATH = f"{CHECKPOINTS}/{BEST_CHECKPOINT}"

# ----------------------------------------------------------------------------- states

STARTING, RUNNING, FINISHED, STOPPED, FAILED = (
    "starting",
    "running",
    "finished",
    "stopped",
    "failed",
)
STATUSES = (STARTING, RUNNING, FINISHED, STOPPED, FAILED)
"""The states a writer may record in status.json."""

DEAD = "dead"
"""A run still ``starting``/``running`` on disk whose writer is gone."""
BROKEN = "broken"
"""A run folder whose files cannot be read (the reason says why)."""
UNKNOWN = "unknown"
"""No status file at all."""

ACTIVE_STATUSES = frozenset({STARTING, RUNNING})
"""States in which the writer is expected to be alive and heartbeating."""

RESUMABLE_STATES = frozenset({STOPPED, FAILED, DEAD})
"""States from which ``dltui run --resume`` continues a run (given its last checkpoint)."""

# ----------------------------------------------------------------------------- exit codes

EXIT_FINISHED = 0
"""The run finished: every epoch, or early stopping (the normal end of training)."""
EXIT_FAILED = 1
EXIT_INVALID = 2
"""The experiment or the arguments are invalid: nothing was trained."""
EXIT_BUSY = 4
"""Refused: another process is writing that run (it holds the run's lock)."""
EXIT_INTERRUPTED = 130
"""Stopped by Ctrl-C, SIGTERM or the dashboard's stop request."""

EXIT_OUTCOMES = {
    EXIT_FINISHED: "finished",
    EXIT_FAILED: "failed",
    EXIT_INVALID: "invalid experiment",
    EXIT_BUSY: "already running (another process is writing it)",
    EXIT_INTERRUPTED: "stopped",  # as its status says: on request, a checkpoint saved
    -2: "interrupted",
    -15: "terminated",
    -9: "killed",
}
"""What a trainer's exit code (or the signal that ended it, negative) means, in words."""

# ----------------------------------------------------------------------------- tags

SPLITS = ("train", "val", "test")
LOSS = "loss"
TRAIN_LOSS = "train/loss"
VAL_LOSS = "val/loss"
"""What the trainer watches for the best weights when nothing else is named."""
LR = "lr"
THROUGHPUT = "throughput"
EPOCH_TIME = "epoch_time"
"""Seconds from one epoch's results to the next's (what the dashboard's ETA multiplies)."""
MEMORY_PREFIX = "memory/"
MEMORY_ALLOCATED = MEMORY_PREFIX + "allocated"
MEMORY_RESERVED = MEMORY_PREFIX + "reserved"
GRAD_NORM_PREFIX = "grad_norm/"
GRAD_NORM_TOTAL = "grad_norm/total"
SYSTEM_PREFIX = "system/"
SYSTEM_CPU = "system/cpu_percent"
SYSTEM_RAM = "system/ram_used"
SYSTEM_RSS = "system/process_rss"
GPU_QUANTITIES = ("util", "mem_used", "temp", "power")
"""What is sampled of each GPU: ``system/gpu<i>/<quantity>`` (`gpu_tag`)."""
EPOCH_SUFFIX = "_epoch"

D_LOSS, G_LOSS = "d_loss", "g_loss"
GAN_LOSSES = (D_LOSS, G_LOSS)
"""A GAN's two losses, recorded instead of ``loss``."""
D_REAL, D_FAKE = "d_real", "d_fake"
GAN_SCORES = (D_REAL, D_FAKE)
"""A GAN discriminator's mean output on real and generated samples."""
LOSS_NAMES = frozenset({LOSS, *GAN_LOSSES})

_OWN_PREFIXES = (GRAD_NORM_PREFIX, SYSTEM_PREFIX, MEMORY_PREFIX)


def tag(split: str, metric: str) -> str:
    """``tag("val", "accuracy")`` -> ``val/accuracy``."""
    return f"{split}/{metric}"


def epoch_tag(tag_name: str) -> str:
    """The tag of a per-step metric's once-per-epoch value: ``train/loss_epoch``."""
    return tag_name + EPOCH_SUFFIX


def split_of(tag_name: str) -> str | None:
    """``train``/``val``/``test`` for a split's tag, else None."""
    head, sep, _ = tag_name.partition("/")
    return head if sep and head in SPLITS else None


def metric_of(tag_name: str) -> str:
    """The metric a tag measures, the epoch suffix dropped: ``train/loss_epoch`` -> ``loss``."""
    _, _, leaf = tag_name.rpartition("/")
    return leaf.removesuffix(EPOCH_SUFFIX) if leaf != EPOCH_SUFFIX else leaf


def is_epoch_value(tag_name: str, tags: set[str] | frozenset[str] | None = None) -> bool:
    """Whether ``tag_name`` is the per-epoch twin of a per-step tag (``train/loss_epoch``).

    Given the run's ``tags``, only a twin whose per-step tag exists counts (a
    metric that is really named ``…_epoch`` is left alone).
    """
    if not tag_name.endswith(EPOCH_SUFFIX) or split_of(tag_name) is None:
        return False
    return tags is None or tag_name.removesuffix(EPOCH_SUFFIX) in tags


def is_loss(tag_name: str) -> bool:
    """Whether the tag is a loss (``loss``, a GAN's ``d_loss``/``g_loss``), at any resolution."""
    return split_of(tag_name) is not None and metric_of(tag_name) in LOSS_NAMES


def is_own(tag_name: str) -> bool:
    """Whether the tag is about the run rather than the model's quality: gradient norms,
    system and device memory, throughput, epoch time, learning rate."""
    return tag_name in (LR, THROUGHPUT, EPOCH_TIME) or tag_name.startswith(_OWN_PREFIXES)


def is_metric(tag_name: str) -> bool:
    """Whether the tag is a quality metric of a split other than a loss (``val/accuracy``)."""
    return (
        split_of(tag_name) is not None
        and not is_loss(tag_name)
        and (metric_of(tag_name) not in GAN_SCORES)
    )


def grad_norm_tag(layer: str) -> str:
    """The tag of a layer's gradient norm."""
    return GRAD_NORM_PREFIX + layer


def gpu_tag(index: int, quantity: str) -> str:
    """``system/gpu0/util``: one of `GPU_QUANTITIES` of GPU ``index``."""
    return f"{SYSTEM_PREFIX}gpu{index}/{quantity}"


LEARNING_RATE_NAMES = frozenset({LR, "learning_rate", "learning-rate"})
"""Last parts of tags that hold a learning rate: dltui's ``lr`` and other tools' spellings."""


def is_learning_rate(tag_name: str) -> bool:
    """Whether the tag holds a learning rate (``lr``, ``train/learning_rate``, Lightning's
    ``lr-Adam``): a setting, drawn as recorded, never smoothed."""
    name = tag_name.rsplit("/", 1)[-1].lower()
    return name in LEARNING_RATE_NAMES or name.startswith(("lr_", "lr-"))
