"""pairzoo.registry."""
