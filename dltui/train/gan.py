"""A GAN run: generator and discriminator, the alternating epoch, samples of what it makes.

Each step is ``d_steps`` discriminator steps on real batches and generated ones,
then one generator step with the non-saturating loss. A step records four
values: both losses and the discriminator's mean score on real and on
generated samples. On 2-D data, real points are recorded once at the start so
the dashboard can draw generated ones over them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from dltui import run_format as rf
from dltui.data import Splits
from dltui.layers.modules import LayerStack
from dltui.model_summary import ModelSummary
from dltui.spec import Experiment
from dltui.spec.model import GanModel
from dltui.train.distributed import DistInfo
from dltui.train.errors import ConfigError
from dltui.train.grad_norms import LayerGroups, grad_norms, joined, layer_groups
from dltui.train.models import build_model, load_init_from, parallel, record_model
from dltui.train.optim import build_optimizer
from dltui.train.records import Recorder
from dltui.train.sampling import reference_points, sample_points

if TYPE_CHECKING:
    from dltui.train.loop import Trainer

SAMPLE_COUNT = 500
"""Points in each recorded sample (and in the real reference)."""


@dataclass
class Gan:
    """What trains in a GAN run."""

    generator: LayerStack
    discriminator: LayerStack
    g_model: nn.Module
    """What the generator step calls: the generator, or its DDP wrapper."""
    d_model: nn.Module
    """What the discriminator step calls: the discriminator, or its DDP wrapper."""
    raw_model: nn.Module
    """Both stacks, as ``generator`` and ``discriminator``."""
    g_groups: LayerGroups
    d_groups: LayerGroups
    groups: LayerGroups
    """Both models' groups, labelled ``generator/…`` and ``discriminator/…``."""
    g_opt: torch.optim.Optimizer
    d_opt: torch.optim.Optimizer
    latent_dim: int
    batches_per_step: int
    """``training.d_steps``: discriminator batches per generator step."""
    step_names: tuple[str, ...] = (*rf.GAN_LOSSES, *rf.GAN_SCORES)

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """``generator`` and ``discriminator``."""
        return {"generator": self.g_opt, "discriminator": self.d_opt}

    def per_epoch_tags(self, has_val: bool) -> list[str]:
        """The step's four values (a GAN is not validated)."""
        return [rf.tag("train", name) for name in self.step_names]

    def train_epoch(self, run: Trainer) -> dict[str, float]:
        """Alternating steps: ``d_steps`` discriminator steps, then one generator step."""
        F = torch.nn.functional
        env, spec = run.env, run.train_spec
        g_model, d_model, g_opt, d_opt = self.g_model, self.d_model, self.g_opt, self.d_opt
        g_sched, d_sched = run.schedules["generator"], run.schedules["discriminator"]
        source = env.sources["train"]
        log_every, d_steps, clip = spec.log_every, self.batches_per_step, spec.grad_clip
        record_norms = spec.grad_norms
        epoch, first, steps = run.epoch, run.step_in_epoch, env.steps_per_epoch
        device, autocast = env.device, env.autocast
        noise = env.generators["sample"]
        latent = self.latent_dim
        progress = run.recorder.progress
        tick = progress.tick if progress is not None and progress.live else None
        # Both schedules are alike: set once for the epoch unless they change per step.
        g_sched.at_step(epoch, first)
        d_sched.at_step(epoch, first)
        lr_per_step = g_sched.per_step(epoch)
        log = run.step_log
        log.start_epoch()
        losses = log.pending
        order = run.epoch_order(len(source))
        if first and order is not None:
            order = order[first * d_steps * source.batch_size :]
        g_model.train()
        d_model.train()
        norms = None
        interval_samples = epoch_samples = 0
        batches = source.batches(order)
        i = first
        while i < steps:
            d_step_losses = []
            for _ in range(d_steps):
                try:
                    real, _ = next(batches)
                except StopIteration:
                    break
                b = len(real)
                if lr_per_step:
                    d_sched.at_step(epoch, i)
                z = torch.randn(b, latent, device=device, generator=noise)
                with autocast():
                    fake = g_model(z).detach()
                    d_real = d_model(real).reshape(b)
                    d_fake = d_model(fake).reshape(b)
                    d_loss = F.binary_cross_entropy_with_logits(
                        d_real, torch.ones_like(d_real)
                    ) + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
                d_opt.zero_grad(set_to_none=True)
                d_loss.backward()
                if clip is not None:
                    torch.nn.utils.clip_grad_norm_(self.d_groups.flat, clip)
                d_opt.step()
                d_step_losses.append(
                    torch.stack(
                        [
                            d_loss.detach(),
                            torch.sigmoid(d_real.detach()).mean(),
                            torch.sigmoid(d_fake.detach()).mean(),
                        ]
                    )
                )
                interval_samples += b
                epoch_samples += b
            if not d_step_losses:
                break
            if lr_per_step:
                g_sched.at_step(epoch, i)
            z = torch.randn(source.batch_size, latent, device=device, generator=noise)
            with autocast():
                # The bare discriminator (not its DDP wrapper): this backward leaves its
                # weights alone, and DDP would wait for gradients that never come.
                scores = self.discriminator(g_model(z)).reshape(-1)
                # Non-saturating generator loss: maximise log D(G(z)).
                g_loss = F.binary_cross_entropy_with_logits(scores, torch.ones_like(scores))
            g_opt.zero_grad(set_to_none=True)
            # Gradients for the generator only: the discriminator's would be thrown
            # away by its next zero_grad, and would pollute its recorded norms.
            g_loss.backward(inputs=self.g_groups.flat)
            run.step += 1
            i += 1
            log_now = run.step % log_every == 0
            if log_now and record_norms:
                # The discriminator's grads from its last step are still there.
                norms = grad_norms(self.groups)
            if clip is not None:
                torch.nn.utils.clip_grad_norm_(self.g_groups.flat, clip)
            g_opt.step()
            d_mean = torch.stack(d_step_losses).mean(0)
            losses.append(torch.stack([d_mean[0], g_loss.detach(), d_mean[1], d_mean[2]]))
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
                return {}
        return log.epoch_means()

    def evaluate(self, run: Trainer, split: str) -> dict[str, float]:
        """Nothing: a GAN has no validation or test loss."""
        return {}

    def after_epoch(self, run: Trainer, epoch: int) -> None:
        """Every ``training.sample_every`` epochs: generated points (2-D data) or their
        statistics."""
        if epoch % run.train_spec.sample_every or run.recorder.writer is None:
            return
        env = run.env
        points = sample_points(
            self.generator,
            self.latent_dim,
            env.device,
            count=SAMPLE_COUNT,
            rng=env.generators["sample"],
        )
        fields: dict[str, Any] = {"epoch": epoch, "step": run.step, "count": len(points)}
        if tuple(env.info.input_shape) == (2,):
            fields["format"] = "points"
            fields["points"] = points
        else:
            flat = torch.tensor(points)
            fields["format"] = "stats"
            fields["mean"] = float(flat.mean())
            fields["std"] = float(flat.std())
        run.recorder.event("sample", **fields)

    def take_confusion(self) -> list[list[int]] | None:
        """None: nothing is classified."""
        return None


def build_gan(
    experiment: Experiment,
    summary: ModelSummary,
    splits: Splits,
    *,
    recorder: Recorder,
    device: torch.device,
    dist: DistInfo,
    runs_root: Path,
    init: bool,
) -> Gan:
    """Both stacks and their optimizers, on the device; ``init``: load ``init_from``."""
    model_spec = experiment.model
    assert isinstance(model_spec, GanModel)
    spec, info = experiment.training, splits.info
    data_shape = tuple(info.input_shape)
    gen = build_model(summary, model_spec.generator, "model.generator")
    disc = build_model(summary, model_spec.discriminator, "model.discriminator")
    record_model(recorder, summary.stacks["model.generator"], (model_spec.latent_dim,), "generator")
    record_model(recorder, summary.stacks["model.discriminator"], data_shape, "discriminator")
    if data_shape == (2,) and recorder.writer is not None:
        # Real points, once: the Samples pane draws the generated ones over them.
        real = reference_points(splits.train.x, count=SAMPLE_COUNT, seed=experiment.seed)
        recorder.event(
            "sample",
            format="points",
            reference=True,
            epoch=0,
            step=0,
            count=len(real),
            points=real,
        )
    pair = nn.ModuleDict({"generator": gen, "discriminator": disc})
    if model_spec.init_from is not None and init:
        load_init_from(recorder, pair, model_spec.init_from, runs_root)
    # Names refer to either stack; a selector must match in one of them.
    for selector in model_spec.freeze:
        done = False
        for stack in (gen, disc):
            try:
                stack.freeze([selector])
                done = True
            except (KeyError, IndexError, ValueError):
                continue
        if not done:
            raise ConfigError(
                f"model.freeze: {selector!r} names no generator or discriminator layer"
            )
    pair.to(device)
    g_groups = layer_groups(gen, "generator/")
    d_groups = layer_groups(disc, "discriminator/")
    return Gan(
        generator=gen,
        discriminator=disc,
        g_model=parallel(gen, device, dist),
        d_model=parallel(disc, device, dist),
        raw_model=pair,
        g_groups=g_groups,
        d_groups=d_groups,
        groups=joined(g_groups, d_groups),
        g_opt=build_optimizer(spec.optimizer, g_groups.flat),
        d_opt=build_optimizer(spec.optimizer, d_groups.flat),
        latent_dim=model_spec.latent_dim,
        batches_per_step=spec.d_steps,
    )
