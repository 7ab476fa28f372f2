import time

import torch
from safetensors.torch import load_file
from torch import nn

from depthgauge.train.loop import TrainConfig, train_module


def problem(n=2000, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    y = ((x[:, 0] * x[:, 1] + x[:, 2]) > 0).float()
    return x, y


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, x):
        return self.net(x)[:, 0]


def test_loss_falls_and_best_epoch_weights_are_kept(tmp_path):
    torch.manual_seed(0)
    x, y = problem()
    module = Net()
    checkpoint = tmp_path / "best.safetensors"
    history = train_module(module, nn.functional.binary_cross_entropy_with_logits, (x[:1500],), y[:1500],
                           (x[1500:],), y[1500:], TrainConfig(max_epochs=40, patience=5, checkpoint_path=checkpoint))
    assert history.train_loss[-1] < history.train_loss[0] * 0.7
    with torch.no_grad():
        final = float(nn.functional.binary_cross_entropy_with_logits(module(x[1500:]), y[1500:]))
    assert abs(final - min(history.val_loss)) < 1e-5
    assert history.best_epoch == history.val_loss.index(min(history.val_loss))
    saved = load_file(str(checkpoint))
    assert all(torch.equal(saved[k], v) for k, v in module.state_dict().items())


def test_early_stopping_stops_when_validation_stops_improving():
    torch.manual_seed(0)
    x, y = problem(400)
    noise = torch.rand(100) > 0.5  # a validation target the inputs cannot predict
    history = train_module(Net(), nn.functional.binary_cross_entropy_with_logits, (x[:300],), y[:300],
                           (x[300:],), noise.float(), TrainConfig(max_epochs=500, patience=3))
    assert history.stopped_because == "early_stopping"
    assert len(history.train_loss) < 100


def test_time_limit_is_respected():
    x, y = problem(20000)
    started = time.perf_counter()
    history = train_module(Net(), nn.functional.binary_cross_entropy_with_logits, (x,), y, None, None,
                           TrainConfig(max_epochs=10_000, batch_size=64, time_limit_s=1.0))
    assert history.stopped_because == "time_budget"
    assert time.perf_counter() - started < 3.0


def test_same_seed_same_weights():
    x, y = problem(500)
    weights = []
    for _ in range(2):
        torch.manual_seed(1)
        module = Net()
        train_module(module, nn.functional.binary_cross_entropy_with_logits, (x,), y, None, None,
                     TrainConfig(max_epochs=3, seed=7))
        weights.append(module.net[0].weight.detach().clone())
    assert torch.equal(weights[0], weights[1])
