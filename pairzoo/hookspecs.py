"""Hook specifications: the four plugin families of pairzoo.

Every hook receives a ``register`` callback built by the core (see :mod:`pairzoo.plugins`).
The callback validates what it is given and records which plugin, and which version of it,
supplied each item, so that run directories and registry cards can name their provenance.
A plugin is a module (builtin, installed through the ``pairzoo`` entry-point group, or a loose
``.py`` file from ``--plugins-dir``) that implements any of these hooks with ``@hookimpl``.
"""

import pluggy

PROJECT = "pairzoo"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

# -------------------------------------------------------------------------
# Model building blocks
# -------------------------------------------------------------------------


@hookspec
def register_architectures(register):
    """Register pair-model architectures.

    :param register: ``register(name, factory, params=None, description="", tunable=None)``.
        ``factory(**params)`` returns a ``torch.nn.Module`` whose ``forward(xa, xb)`` takes two
        float32 tensors of shape (N, 1, 28, 28) and returns one logit per pair, shape (N,).
        ``params`` maps every parameter name to its default; the core rejects unknown
        parameters and values whose type differs from the default's. ``tunable`` maps numeric
        parameters to the range ``pairzoo tune`` searches: ``{"scale": k}`` (log-uniform from
        the run's value over k to k times it) or ``{"low": a, "high": b, "log": False}``
        (widened to hold the run's value); the others are left as they are (a parameter
        listing fusion heads is searched over subsets of its heads).

    The return value is ignored.
    """


@hookspec
def register_fusion_heads(register):
    """Register fusion heads, which turn the two tower embeddings into one logit.

    :param register: ``register(name, factory, params=None, description="")``.
        ``factory(feat_dim, **params)`` returns a module whose ``forward(ea, eb)`` maps two
        (N, feat_dim) embeddings to a logit of shape (N,), computed from the head's own feature.
        A head whose output cannot tell (a, b) from (b, a) sets the class attribute
        ``symmetric = True``; antisymmetric models leave such heads out (they would add 0).
        A head with a ``digit_classifier`` module (embedding -> 10 digit logits) lends it to the
        model, so the trainer's digit supervision trains it. A head class that sets
        ``uses_pair_prior = True`` takes ``rule`` and ``adjacent`` parameters, which the trainer
        fills in from the data's meta.json unless the config gives them.

    The return value is ignored.
    """


# -------------------------------------------------------------------------
# Training objectives and tasks
# -------------------------------------------------------------------------


@hookspec
def register_losses(register):
    """Register training losses.

    :param register: ``register(name, factory, params=None, description="", tunable=None)``.
        ``factory(**params)`` returns a module whose ``forward(logits, targets,
        teacher_logits=None)`` returns a scalar loss; ``targets`` are float labels in [0, 1].
        ``tunable`` is as for architectures; a float parameter it leaves out is searched from
        half its value. A ``label_smoothing`` parameter receives ``train.label_smoothing``;
        a loss without one is given targets smoothed to ``y (1 - ls) + ls / 2`` instead.
        A loss that learns from a teacher's logits sets ``needs_teacher = True`` on its
        factory (a class attribute when the factory is the module's class): the trainer then
        refuses to train it without teacher logits, and ``pairzoo distill`` trains with it
        (the config's loss if it is one, else the first such loss registered).

    The return value is ignored.
    """


@hookspec
def register_label_rules(register):
    """Register label rules: how two source digits become a pair label.

    :param register: ``register(rule)`` with a :class:`pairzoo.data.rules.LabelRule`. The data
        generator samples digit pairs and labels them with the rule; the trainer asks the rule
        how a label changes when the two images of a pair are swapped.

    The return value is ignored.
    """
