"""A supervised run: one model, its loss, optimizer and metrics; its epoch and evaluation.

The epoch is the hot loop: batches on the device, one optimizer step per batch,
losses kept on the device (`dltui.train.records.StepLog`) and read back with the
gradient norms every ``log_every`` steps. Under fp16 the gradients are unscaled
before they are clipped or measured, so both see their true size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from dltui import run_format as rf
from dltui.data import Splits, augment_batch
from dltui.model_summary import ModelSummary
from dltui.spec import Experiment
from dltui.train.distributed import DistInfo, all_sum
from dltui.train.errors import ConfigError
from dltui.train.grad_norms import LayerGroups, grad_norms, layer_groups, weight_l1
from dltui.train.losses import build_loss
from dltui.train.metrics import MetricSet
from dltui.train.models import build_model, freeze, load_init_from, parallel, record_model
from dltui.train.optim import build_optimizer
from dltui.train.records import Recorder
from dltui.train.sampling import decode, describe_text_sample, sample_text

if TYPE_CHECKING:
    from dltui.train.loop import Trainer

TRAIN_LOSS = rf.TRAIN_LOSS
PERPLEXITY = "perplexity"
TEXT_TEMPERATURE = 0.8


@dataclass
class Supervised:
    """What trains in a supervised run (classification, regression, a language model)."""

    raw_model: nn.Module
    """The layer stack itself."""
    model: nn.Module
    """What the step calls: the stack, or its DDP wrapper."""
    loss_fn: Any
    groups: LayerGroups
    optimizer: torch.optim.Optimizer
    metric_sets: dict[str, MetricSet]
    """The metrics of ``train``, ``val`` and ``test`` (the test's also counts confusions)."""
    is_lm: bool
    """A language model: perplexities, and a text sample after each epoch."""
    step_names: tuple[str, ...] = (rf.LOSS,)
    batches_per_step: int = 1
    channels_last: bool = False
    """``training.channels_last``: the model's weights and every batch in NHWC layout."""

    @property
    def params(self) -> list[nn.Parameter]:
        """What the optimizer updates: the gradients each step drops before its backward."""
        return [p for group in self.optimizer.param_groups for p in group["params"]]

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """The one optimizer, as ``model``."""
        return {"model": self.optimizer}

    def per_epoch_tags(self, has_val: bool) -> list[str]:
        """The losses and metrics of train (and val), perplexities for a language model."""
        metrics = [rf.LOSS, *self.metric_sets["train"].names]  # perplexity is not one
        splits = ["train", "val"] if has_val else ["train"]
        tags = [rf.tag(split, m) for split in splits for m in metrics]
        if self.is_lm:
            tags += [rf.tag(split, PERPLEXITY) for split in splits]
        return tags

    # ------------------------------------------------------------------ the epoch

    def train_epoch(self, run: Trainer) -> dict[str, float]:
        """One pass over this rank's shard of the training split.

        The step does what a hand-written loop does, and per step only what the
        experiment asks for: no autocast context in 32-bit, the learning rate set
        once per epoch unless it changes per step (warm-up, one-cycle), gradients
        dropped by assignment (what ``zero_grad(set_to_none=True)`` does, without
        its dispatch), the progress bar only on a terminal.
        """
        env, spec = run.env, run.train_spec
        model, optimizer, loss_fn, scaler = self.model, self.optimizer, self.loss_fn, env.scaler
        schedule = run.schedules["model"]
        source = env.sources["train"]
        metrics = self.metric_sets["train"]
        counting = bool(metrics.metrics)
        groups, autocast, autocasts = self.groups, env.autocast, env.autocasts
        params = self.params
        augment = run.exp.data.augment
        aug_gen = env.generators["augment"]
        channels_last = self.channels_last
        log_every, l1, clip = spec.log_every, spec.l1, spec.grad_clip
        record_norms = spec.grad_norms
        epoch, first, steps = run.epoch, run.step_in_epoch, env.steps_per_epoch
        progress = run.recorder.progress
        tick = progress.tick if progress is not None and progress.live else None
        log = run.step_log
        log.start_epoch()
        losses = log.pending
        schedule.at_step(epoch, first)
        lr_per_step = schedule.per_step(epoch)

        def forward(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            out = model(x)
            loss = loss_fn(out, y)
            if l1:
                loss = loss + l1 * weight_l1(groups)
            return out, loss

        order = run.epoch_order(len(source))
        if first and order is not None:
            order = order[first * source.batch_size :]
        model.train()
        norms = None
        interval_samples = epoch_samples = 0
        i = first
        for x, y in source.batches(order):
            if augment is not None:
                x = augment_batch(x, augment, aug_gen)
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            if lr_per_step:
                schedule.at_step(epoch, i)
            if autocasts:
                with autocast():
                    out, loss = forward(x, y)
            else:
                out, loss = forward(x, y)
            for p in params:
                p.grad = None
            run.step += 1
            i += 1
            log_now = run.step % log_every == 0
            if scaler is not None:
                scaler.scale(loss).backward()
                if clip is not None or (log_now and record_norms):
                    scaler.unscale_(optimizer)  # clip and record true norms under fp16
            else:
                loss.backward()
            if log_now and record_norms:
                norms = grad_norms(groups)
            if clip is not None:
                torch.nn.utils.clip_grad_norm_(groups.flat, clip)
            if scaler is not None:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            losses.append(loss.detach())
            if counting:
                metrics.update(out, y)
            n = y.shape[0]
            interval_samples += n
            epoch_samples += n
            run.step_in_epoch = i
            if log_now or i == steps:
                log.read(
                    run.step,
                    epoch + i / steps,
                    log=log_now,
                    samples=interval_samples,
                    norms=norms if log_now and record_norms else None,
                )
                if log_now:
                    interval_samples = 0
                    run.poll_stop()
            if tick is not None:
                tick(i, epoch_samples)
            if run.should_stop():
                break
        if losses:
            log.read(run.step, epoch + i / steps)
        if run.should_stop():
            return {}
        values = log.epoch_means()
        values[rf.epoch_tag(TRAIN_LOSS)] = values[TRAIN_LOSS]
        values.update({rf.tag("train", k): v for k, v in metrics.compute().items()})
        if self.is_lm:
            values[rf.tag("train", PERPLEXITY)] = perplexity(values[TRAIN_LOSS])
        return values

    @torch.no_grad()
    def evaluate(self, run: Trainer, split: str) -> dict[str, float]:
        """Loss and metrics over ``split`` (this rank's shard, summed over ranks)."""
        env = run.env
        source = env.sources[split]
        if len(source) == 0:
            return {}
        model, loss_fn, metrics = self.model, self.loss_fn, self.metric_sets[split]
        device, dist = env.device, env.dist
        model.eval()
        order = None
        if dist.enabled:
            order = torch.arange(len(source), device=device)[dist.rank :: dist.world_size]
        total = torch.zeros((), dtype=torch.float64, device=device)
        count = 0
        for x, y in source.batches(order):
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with env.autocast():
                out = model(x)
                loss = loss_fn(out, y)
            total += loss.double() * len(y)
            count += len(y)
            if metrics.active:
                metrics.update(out, y)
        model.train()
        sums = all_sum(
            torch.stack([total, torch.tensor(float(count), dtype=torch.float64, device=device)]),
            dist,
        ).tolist()
        loss_tag = rf.tag(split, rf.LOSS)
        values = {loss_tag: sums[0] / max(1.0, sums[1])}
        values.update({rf.tag(split, k): v for k, v in metrics.compute().items()})
        if self.is_lm:
            values[rf.tag(split, PERPLEXITY)] = perplexity(values[loss_tag])
        return values

    def after_epoch(self, run: Trainer, epoch: int) -> None:
        """A language model's text sample, continuing a seed from the data."""
        info, splits = run.env.info, run.env.splits
        if not self.is_lm or run.recorder.writer is None or not info.vocab:
            return
        split = splits.val if len(splits.val) else splits.train
        seed = split.x[0].to(run.env.device)
        text = sample_text(
            self.raw_model,
            seed,
            info.vocab,
            temperature=TEXT_TEMPERATURE,
            generator=run.env.generators["sample"],
        )
        seed_text = decode(split.x[0], info.vocab)
        run.recorder.event(
            "sample",
            format="text",
            epoch=epoch,
            step=run.step,
            seed=seed_text,
            text=text,
            temperature=TEXT_TEMPERATURE,
        )
        run.recorder.say(describe_text_sample(epoch, seed_text, text))

    def take_confusion(self) -> list[list[int]] | None:
        """The test split's confusion matrix (classification with a test split), once."""
        return self.metric_sets["test"].take_confusion()


def build_supervised(
    experiment: Experiment,
    summary: ModelSummary,
    splits: Splits,
    *,
    recorder: Recorder,
    device: torch.device,
    dist: DistInfo,
    runs_root: Path,
    init: bool,
) -> Supervised:
    """The stack, its loss, optimizer and metrics, on the device; ``init``: load ``init_from``."""
    spec, info = experiment.training, splits.info
    model_spec = experiment.sequential
    stack = build_model(summary, model_spec.layers, "model.layers")
    try:
        loss_fn = build_loss(
            spec.loss,
            task=info.task,
            label_smoothing=spec.label_smoothing,
            huber_delta=spec.huber_delta,
        )
    except ValueError as error:
        raise ConfigError(str(error)) from None
    record_model(
        recorder, summary.stacks["model.layers"], summary.inputs["model.layers"].shape, None
    )
    if model_spec.init_from is not None and init:
        load_init_from(recorder, stack, model_spec.init_from, runs_root)
    if model_spec.freeze:
        freeze(recorder, stack, model_spec.freeze)
    stack.to(device)
    if spec.channels_last:
        # Module.to takes memory_format (4-D weights only), though torch's stubs omit it.
        stack.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    groups = layer_groups(stack)
    metric_sets = {
        split: MetricSet(
            spec.metrics,
            task=info.task,
            num_classes=info.num_classes,
            loss=spec.loss,
            device=device,
            confusion=split == "test" and len(splits.test) > 0,
        )
        for split in ("train", "val", "test")
    }
    return Supervised(
        raw_model=stack,
        model=parallel(stack, device, dist),
        loss_fn=loss_fn,
        groups=groups,
        optimizer=build_optimizer(spec.optimizer, groups.flat),
        metric_sets=metric_sets,
        is_lm=info.task == "language_model",
        channels_last=spec.channels_last,
    )


def perplexity(loss: float) -> float:
    """``exp(loss)``, infinite beyond what a float holds."""
    return math.exp(loss) if loss < 700 else math.inf
