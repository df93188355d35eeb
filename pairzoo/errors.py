"""Exception types raised by library code; the CLI turns each into one clear line."""


class PairzooError(Exception):
    """Base class: the message names the bad thing, what was expected and what was found."""


class DataError(PairzooError):
    """A data file (npz, labels CSV, meta.json) does not match the pair format."""


class ConfigError(PairzooError):
    """A configuration value (CLI option, TOML file, zoo file) is invalid."""


class PluginError(PairzooError):
    """A plugin is missing, broken, or registered something invalid."""


class RunError(PairzooError):
    """A run directory is incomplete, corrupted or unsafe to load."""


class RegistryError(PairzooError):
    """A registry entry or catalogue is missing, tampered or inconsistent."""


class ExportError(PairzooError):
    """An ONNX export failed, or the exported model does not match the PyTorch one."""
