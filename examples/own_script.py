"""A plain PyTorch training script that records its run for the dltui dashboard.

    python examples/own_script.py [--epochs 20] [--runs runs]
    dltui --runs runs          # then open the "own-script" run

Nothing here is dltui-specific except the ``dltui.tracking`` calls: a small
MLP learns to classify points of two interleaved spirals (synthetic data, no
download). It honours the dashboard's stop request.
"""

from __future__ import annotations

import argparse
import math

import torch
from torch import nn

import dltui.tracking


def spirals(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` noisy points on two spirals, labelled 0 and 1."""
    labels = torch.randint(0, 2, (n,), generator=generator)
    radius = torch.rand(n, generator=generator) * 3 * math.pi + 0.5
    angle = radius + labels * math.pi
    points = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1) / 5
    return points + 0.05 * torch.randn(n, 2, generator=generator), labels


def main() -> None:
    """Train, recording loss, accuracy, learning rate and gradient norms."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--runs", default="runs", help="runs folder (default: %(default)s)")
    args = parser.parse_args()

    generator = torch.Generator().manual_seed(0)
    x_train, y_train = spirals(4000, generator)
    x_val, y_val = spirals(1000, generator)
    model = nn.Sequential(
        nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2)
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)
    steps_per_epoch = math.ceil(len(x_train) / args.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch
    )
    loss_fn = nn.CrossEntropyLoss()

    config = vars(args) | {"model": "MLP 2-64-64-2", "data": "two spirals"}
    with dltui.tracking.init(experiment="own-script", root=args.runs, config=config) as run:
        step = 0
        for epoch in range(args.epochs):
            model.train()
            order = torch.randperm(len(x_train), generator=generator)
            for start in range(0, len(x_train), args.batch_size):
                batch = order[start : start + args.batch_size]
                loss = loss_fn(model(x_train[batch]), y_train[batch])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if step % 10 == 0:
                    run.log_grad_norms(model, step=step)
                optimizer.step()
                scheduler.step()
                run.log(
                    {"train/loss": loss.item(), "lr": float(scheduler.get_last_lr()[0])},
                    step=step,
                    epoch=epoch + start / len(x_train),
                )
                step += 1
            model.eval()
            with torch.no_grad():
                logits = model(x_val)
                val_loss = loss_fn(logits, y_val).item()
                val_acc = (logits.argmax(1) == y_val).float().mean().item()
            run.log({"val/loss": val_loss, "val/accuracy": val_acc}, step=step, epoch=epoch + 1)
            run.event(
                "epoch",
                epoch=epoch + 1,
                step=step,
                metrics={"val/loss": val_loss, "val/accuracy": val_acc},
            )
            print(f"epoch {epoch + 1}: val loss {val_loss:.4f}, accuracy {val_acc:.3f}")
            if run.stop_requested():
                run.finish("stopped", reason="stop requested from the dashboard")
                break
        print(f"run recorded in {run.run_dir}")


if __name__ == "__main__":
    main()
