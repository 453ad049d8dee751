"""Model factories the command-line tests point at as ``cli_factories:<name>``."""
import torch
from torch import nn


class CumulativeProduct(nn.Module):
    def forward(self, x):
        return torch.cumprod(x, dim=1)


def two_unsupported():
    """A model with two layers interlayer has no converter for (unfolding patches, a cumulative product)."""
    return nn.Sequential(nn.Unfold(2), CumulativeProduct(), nn.Flatten())


def not_a_model():
    return 42
