"""Model factories the command-line tests point at as ``cli_factories:<name>``."""
from torch import nn


def two_unsupported():
    """A model with two layers interlayer has no converter for."""
    return nn.Sequential(nn.BatchNorm2d(1, track_running_stats=False), nn.PixelShuffle(1), nn.Flatten())


def not_a_model():
    return 42
