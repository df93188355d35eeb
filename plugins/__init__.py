"""Builtin pairzoo plugins, installed as `pairzoo_plugins` and loaded like any third-party plugin."""
