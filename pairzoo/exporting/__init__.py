"""Export runs to ONNX behind a parity gate, and register them.

`export_run(run_dir, registry, name=None) -> card` exports one finished run;
`export_all(runs_dir, registry)` every finished run the registry does not hold yet.
"""

from pairzoo.exporting.run_export import export_all, export_run

__all__ = ["export_all", "export_run"]
