"""PyTorch models the whole-model tests share: seeded randomisation, and hand-written networks whose forward is
code (a residual network, a U-Net, a squeeze-excitation network)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def target_cases(models, slow) -> list:
    """One test parameter per model and target framework (ids ``<model>-to-<target>``), the ``slow`` ones marked."""
    import pytest

    return [pytest.param(name, target, id=f"{name}-to-{target}", marks=[pytest.mark.slow] if name in slow else [])
            for name in models for target in ("keras", "torch")]


def randomise(model: nn.Module, seed: int = 0) -> nn.Module:
    """Seeded values for every floating tensor of the state_dict: weights scaled by fan-in; norm scales, layer
    scales, biases, offsets and BatchNorm running means around their usual values (so that a deep network keeps
    depending on its input); positive running variances."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if not tensor.is_floating_point():
                continue
            noise = torch.randn(tensor.shape, generator=generator)
            if name.endswith("running_var"):
                values = torch.rand(tensor.shape, generator=generator) + 0.5
            elif tensor.dim() >= 2:
                values = noise / max(tensor[0].numel(), 1) ** 0.5
            elif name.endswith("bias") or name.endswith("running_mean"):
                values = noise * 0.1
            else:  # a norm's scale, a layer scale
                values = 1.0 + noise * 0.2
            tensor.copy_(values)
    return model.eval()


# hand-written models ------------------------------------------------------------------------------------------


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return F.relu(out)


class ResidualNet(nn.Module):
    def __init__(self, classes: int = 10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True))
        self.layers = nn.Sequential(BasicBlock(16, 16, 1), BasicBlock(16, 32, 2), BasicBlock(32, 64, 2))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        features = self.layers(self.stem(x))
        return self.fc(torch.flatten(self.pool(features), 1)), features


class UNet(nn.Module):
    def __init__(self, width: int = 8):
        super().__init__()

        def block(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())

        self.down1, self.down2 = block(3, width), block(width, 2 * width)
        self.bottom = block(2 * width, 4 * width)
        self.pool = nn.MaxPool2d(2)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.dec2, self.dec1 = block(6 * width, 2 * width), block(3 * width, width)
        self.head = nn.Conv2d(width, 2, 1)

    def forward(self, x):
        skip1 = self.down1(x)
        skip2 = self.down2(self.pool(skip1))
        y = self.bottom(self.pool(skip2))
        y = self.dec2(torch.cat([self.up(y), skip2], dim=1))
        y = F.interpolate(y, scale_factor=2.0, mode="bilinear", align_corners=False)
        return self.head(self.dec1(torch.cat([y, skip1], dim=1)))


class SqueezeExcitation(nn.Module):
    """torchvision's formulation: global pooling, two 1x1 convolutions, a sigmoid gate multiplied in."""

    def __init__(self, channels: int, squeezed: int):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeezed, 1)
        self.fc2 = nn.Conv2d(squeezed, channels, 1)

    def forward(self, x):
        scale = torch.sigmoid(self.fc2(F.relu(self.fc1(self.avgpool(x)))))
        return x * scale


class SENet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.BatchNorm2d(16), nn.SiLU())
        self.blocks = nn.ModuleList([nn.Sequential(nn.Conv2d(16, 16, 3, 1, 1, groups=16), nn.BatchNorm2d(16),
                                                   nn.SiLU(), SqueezeExcitation(16, 4), nn.Conv2d(16, 16, 1))
                                     for _ in range(2)])
        self.head = nn.Linear(16, 5)

    def forward(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = x + block(x)
        return self.head(x.mean(dim=(2, 3)))


def archive_maker(folder, make):
    """``get(name) -> (source model, archive path)``, each model made once on first use by ``make(name) ->
    (model, example_inputs)``, exported and saved into ``folder``."""
    import interlayer

    made: dict = {}

    def get(name: str):
        if name not in made:
            model, example = make(name)
            graph = interlayer.export(model, example_inputs=example)
            made[name] = model, interlayer.save(graph, folder / f"{name}.safetensors")
        return made[name]

    return get
