"""pairzoo.train."""
