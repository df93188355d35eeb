"""Adapting a registry ensemble to unlabelled pairs: pseudo-labels, swap consistency, BN.

`pairzoo.adapt.run.adapt` is the library call behind `pairzoo adapt`: the ensemble labels the
target pairs it is confident about, every member is fine-tuned on its labelled train data plus
those pairs, and the adapted members and a refit ensemble are registered with their lineage,
unless the labelled val accuracy falls.
"""
