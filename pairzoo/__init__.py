"""pairzoo: train, export, register and ensemble pair-comparison image models."""

__version__ = "0.1.0"
