"""Hyper-parameter search over one architecture with Optuna; the best trial is a normal run."""
