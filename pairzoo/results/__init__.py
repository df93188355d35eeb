"""Measured figures as records in `results/`, and the tables in README.md and docs/ rendered from them.

Records are written only by programs (`make results`, `make bench`), so a table cannot show a
figure that was never measured; `make docs` rewrites every table between its markers.
"""
