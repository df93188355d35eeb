"""pairzoo.exporting."""
