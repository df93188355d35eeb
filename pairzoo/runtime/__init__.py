"""Running ONNX files: the one layer under export, ensemble and registry that touches onnxruntime.

- `safety`: only self-contained ONNX is loaded.
- `sessions`: CPU sessions with pairzoo's options and threads; how many run at once.
- `providers`: CUDA where it can work, and the provider really used.
- `runtimes`: the runtimes a file can run in, by name (light: the command line lists them).
- `backends`: a session in any of them (onnxruntime options, OpenVINO), one interface.
- `choice`: the fastest runtime on this CPU that gives the defaults' outputs, cached.
- `timing`: sessions timed side by side on one batch.
- `batches`: pairs split into (xa, xb), and the batch sequence every gate runs.
- `logits`: the (pairs x models) logit matrix of several sessions.
- `gate`: the tolerances, and the type every gate's runs are judged by.

Nothing here imports export, ensemble or registry code.
"""
