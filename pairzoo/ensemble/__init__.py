"""pairzoo.ensemble."""
