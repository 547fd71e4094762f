"""Samples shown in the dashboard: generated text (language models), generated points (GANs)."""

from __future__ import annotations

import torch


@torch.no_grad()
def sample_text(
    model: torch.nn.Module,
    seed_tokens: torch.Tensor,
    vocab: list[str],
    *,
    length: int = 200,
    temperature: float = 0.8,
    generator: torch.Generator | None = None,
) -> str:
    """``length`` characters continuing ``seed_tokens`` (L,), one forward pass per character.

    The model sees a sliding window of exactly its input length, so models with
    fixed positional tables work. ``temperature`` 0 means greedy.
    """
    was_training = model.training
    model.eval()
    window = seed_tokens.reshape(1, -1).clone()
    out_tokens: list[int] = []
    for _ in range(length):
        logits = model(window)[0, -1].float()
        if temperature <= 0:
            token = int(torch.argmax(logits))
        else:
            probs = torch.softmax(logits / temperature, dim=-1)
            token = int(torch.multinomial(probs, 1, generator=generator))
        out_tokens.append(token)
        window = torch.cat([window[:, 1:], window.new_tensor([[token]])], dim=1)
    model.train(was_training)
    return "".join(vocab[t] if 0 <= t < len(vocab) else "?" for t in out_tokens)


def decode(tokens: torch.Tensor, vocab: list[str]) -> str:
    """Token ids -> text."""
    return "".join(vocab[int(t)] if 0 <= int(t) < len(vocab) else "?" for t in tokens.tolist())


@torch.no_grad()
def sample_points(
    generator_model: torch.nn.Module,
    latent_dim: int,
    device: torch.device,
    *,
    count: int = 500,
    rng: torch.Generator | None = None,
) -> list[list[float]]:
    """``count`` generated samples as rounded lists (2-D points for 2-D data)."""
    was_training = generator_model.training
    generator_model.eval()
    z = torch.randn(count, latent_dim, device=device, generator=rng)
    points = generator_model(z).float().reshape(count, -1).cpu()
    generator_model.train(was_training)
    return [[round(float(v), 4) for v in row] for row in points.tolist()]


def reference_points(data: torch.Tensor, *, count: int = 500, seed: int = 0) -> list[list[float]]:
    """``count`` real samples drawn without replacement (all when fewer), as rounded lists.

    Recorded once at the start of a GAN run on 2-D data, so that generated samples
    can be drawn over the distribution they should cover.
    """
    rows = data.reshape(len(data), -1).float().cpu()
    if len(rows) > count:
        chosen = torch.randperm(len(rows), generator=torch.Generator().manual_seed(seed))[:count]
        rows = rows[chosen]
    return [[round(float(v), 4) for v in row] for row in rows.tolist()]


def describe_text_sample(epoch: int, seed: str, text: str) -> str:
    """The lines a person reads of a text sample: its seed's end on the first line, then
    the text as written (its line breaks kept, indented), controls shown as symbols.

    It goes to a terminal and to output.log, so nothing in it is obeyed; written with
    ``repr`` it was one line of ``\\n`` escapes that nobody reads.
    """
    from dltui.safe_text import printable

    head = ("…" if len(seed) > 40 else "") + printable(seed[-40:], keep_newlines=False)
    lines = printable(text.replace("\r\n", "\n")).split("\n")
    return f"sample (epoch {epoch}), after {head}:\n" + "\n".join("    " + line for line in lines)
