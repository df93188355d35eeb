"""pairzoo.zoo."""
