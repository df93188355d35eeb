"""Label-free accuracy estimates: methods calibrated on generated shifts of known size."""
