"""pairzoo.data."""
