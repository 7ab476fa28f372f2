"""The one PyTorch training loop: forward, loss, backward, optimizer step, validation, checkpoint, early stop.

A model family supplies its module and its loss; it never writes its own loop.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from safetensors.torch import save_file
from torch import nn


@dataclass
class TrainConfig:
    max_epochs: int = 200
    batch_size: int = 256
    learning_rate: float = 1e-3
    weight_decay: float = 1e-5
    patience: int = 8
    seed: int = 0
    time_limit_s: float | None = None
    checkpoint_path: Path | None = None
    rank: int = 0  # data-parallel training (Ray Train, DDP): this process's share of every epoch
    world_size: int = 1
    eval_batch_size: int = 8192  # rows per validation forward pass; large models (text encoders) need fewer
    epoch_rows: int | None = None  # rows per epoch, drawn afresh each time; None: all (slow models on big data)


@dataclass
class TrainHistory:
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = -1
    stopped_because: str = "max_epochs"
    seconds: float = 0.0
    rows_seen: int = 0


def _evaluate(module: nn.Module, loss_fn, inputs: tuple[torch.Tensor, ...], target: torch.Tensor, chunk: int = 8192) -> float:
    module.eval()
    total, n = 0.0, len(target)
    with torch.no_grad():
        for start in range(0, n, chunk):
            part = tuple(x[start:start + chunk] for x in inputs)
            total += float(loss_fn(module(*part), target[start:start + chunk])) * len(part[0])
    return total / max(n, 1)


def _anyone(flag: bool, world_size: int) -> bool:
    """Return whether any data-parallel process raised `flag`, so all of them stop at the same batch."""
    if world_size == 1:
        return flag
    import torch.distributed as dist

    tensor = torch.tensor([1.0 if flag else 0.0])
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return bool(tensor.item())


def train_module(
    module: nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    train_inputs: tuple[torch.Tensor, ...],
    train_target: torch.Tensor,
    val_inputs: tuple[torch.Tensor, ...] | None,
    val_target: torch.Tensor | None,
    config: TrainConfig,
    on_epoch: Callable[[int, float, float | None], None] | None = None,
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> TrainHistory:
    """Train `module` in place with AdamW; keep the weights of the best validation epoch; return the history.

    Under data-parallel training (`config.world_size` > 1, `module` wrapped in DDP) every process
    draws the same shuffled order and takes its own equal share of each batch; the gradients are
    averaged by DDP, the stop decisions are shared, and the validation loss is the same everywhere.
    """
    started = time.perf_counter()
    deadline = started + config.time_limit_s if config.time_limit_s is not None else None
    generator = torch.Generator().manual_seed(config.seed)
    optimizer = torch.optim.AdamW(module.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    history = TrainHistory()
    world, rank = config.world_size, config.rank
    n = len(train_target) // world * world  # equal shares, so every process runs the same batches
    if config.epoch_rows is not None:  # a learning curve within the budget: validate every `epoch_rows` rows
        n = min(n, max(config.epoch_rows // world, 1) * world)
    batch = max(config.batch_size // world, 1)
    best_loss, best_state, waited = float("inf"), None, 0
    for epoch in range(config.max_epochs):
        module.train()
        order = torch.randperm(len(train_target), generator=generator)[:n][rank::world]
        epoch_loss = 0.0
        out_of_time = False
        for start in range(0, len(order), batch):
            if deadline is not None and _anyone(time.perf_counter() > deadline, world):
                out_of_time = True  # stop mid-epoch: on big data one epoch can be a large share of the budget
                break
            idx = order[start:start + batch]
            if len(idx) < 2 and len(order) > 1:
                continue  # a batch of one breaks batch statistics and adds only noise
            optimizer.zero_grad(set_to_none=True)
            batch_inputs = [x[idx] for x in train_inputs]
            if augment is not None:  # random transforms of the first input (images), training batches only
                batch_inputs[0] = augment(batch_inputs[0])
            loss = loss_fn(module(*batch_inputs), train_target[idx])
            loss.backward()
            optimizer.step()
            epoch_loss += loss.detach() * len(idx)
        seen = (min(start, len(order)) if out_of_time else len(order)) * world
        if seen == 0:
            history.stopped_because = "time_budget"
            break
        history.rows_seen += seen
        history.train_loss.append(float(epoch_loss) * world / seen)  # this process's share of the epoch
        if val_inputs is not None:
            val_loss = _evaluate(module, loss_fn, val_inputs, val_target, config.eval_batch_size)
            history.val_loss.append(val_loss)
            if val_loss < best_loss - 1e-6:
                best_loss, waited, history.best_epoch = val_loss, 0, epoch
                best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
                if config.checkpoint_path is not None:
                    save_file(best_state, str(config.checkpoint_path))
            else:
                waited += 1
        if on_epoch is not None:
            on_epoch(epoch, history.train_loss[-1], history.val_loss[-1] if history.val_loss else None)
        if val_inputs is not None and waited >= config.patience:
            history.stopped_because = "early_stopping"
            break
        if out_of_time or (deadline is not None and _anyone(time.perf_counter() > deadline, world)):
            history.stopped_because = "time_budget"
            break
    if best_state is not None:
        module.load_state_dict(best_state)
    else:
        history.best_epoch = len(history.train_loss) - 1
    module.eval()
    history.seconds = time.perf_counter() - started
    return history
