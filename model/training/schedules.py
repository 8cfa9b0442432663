"""Learning-rate schedules of the training loop: layer-wise decay groups, warmup then linear decay.

Why apart from the network: how fast each layer learns is a training decision,
not part of the model a serving process loads.
"""

from __future__ import annotations

from torch import nn

from model.network.modeling import JointModel


def layerwise_parameter_groups(model: JointModel, lr: float, layer_decay: float, weight_decay: float) -> list[dict]:
    """AdamW groups with layer-wise LR decay: heads get lr, encoder layer i gets
    lr * decay^(L - i), embeddings lr * decay^(L + 1). Lower layers hold general
    language knowledge that fine-tuning should disturb least."""
    n_layers = model.encoder.bert.config.num_hidden_layers
    groups: dict[tuple[float, bool], list[nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if name.startswith("encoder.bert.encoder.layer."):
            depth = int(name.split(".")[4]) + 1
            scale = layer_decay ** (n_layers + 1 - depth)
        elif name.startswith("encoder."):  # embeddings, shape embeddings
            scale = layer_decay ** (n_layers + 1)
        else:
            scale = 1.0
        no_decay = param.ndim < 2 or "LayerNorm" in name or name.endswith("log_variance")
        groups.setdefault((scale, no_decay), []).append(param)
    return [{"params": params, "lr": lr * scale, "base_lr": lr * scale,
             "weight_decay": 0.0 if no_decay else weight_decay}
            for (scale, no_decay), params in groups.items()]


def warmup_linear_factor(step: int, warmup_steps: int, total_steps: int) -> float:
    """LR multiplier: linear warmup to 1, then linear decay to 0 at total_steps."""
    if step < warmup_steps:
        return (step + 1) / max(1, warmup_steps)
    remaining = total_steps - step
    return max(0.0, remaining / max(1, total_steps - warmup_steps))
