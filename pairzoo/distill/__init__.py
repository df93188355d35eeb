"""Distilling an exported ensemble into one model trained on its soft targets."""
