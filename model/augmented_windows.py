"""The augmented training rows of the placement-gated recipe, by placement id (see :mod:`.augment`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .augment import Augmentation
from .motionsense import load_motionsense_windows, split_subjects
from .train import POCKET_AUGMENTED, WAIST_AUGMENTED
from .windows import WindowSet, load_windows

_FIELDS = ("X", "y", "subject", "experiment", "start")


def concatenate(sets: list[WindowSet]) -> WindowSet:
    return WindowSet(*(np.concatenate([getattr(w, f) for w in sets]) for f in _FIELDS))


def augmented_windows(augmentation: Augmentation, *, hop: int, hapt_source: str | Path | None = None,
                      motionsense: str | Path | None = None, waist: bool = True,
                      log=print) -> dict[int, WindowSet]:
    """Labelled training-subject windows every ``hop`` samples of the augmented trials.

    Parameters
    ----------
    augmentation : Augmentation
    hop : int
        Samples between window starts.
    hapt_source : path, optional
        HAPT recordings (default: the cached sdist); used when ``waist``.
    motionsense : path, optional
        MotionSense folder; without it, no pocket rows.
    waist : bool
        False when the waist rows are published features (no raw recordings to tilt).

    Returns
    -------
    dict
        ``WAIST_AUGMENTED`` and/or ``POCKET_AUGMENTED`` -> WindowSet; held-out subjects never appear.
    """
    out = {}
    if waist:
        tilted = []
        for tilts in (augmentation.waist, augmentation.waist_lying):
            if tilts is not None:
                w = load_windows(hapt_source, hop=hop, tilts=tilts, log=log, quiet=True).labelled()
                tilted.append(w.select(tilts.keep(w.y)))
        if tilted:
            out[WAIST_AUGMENTED] = concatenate(tilted)
    if motionsense is not None:
        pocket = []
        if augmentation.pocket_turned:
            pocket.append(split_subjects(load_motionsense_windows(motionsense, hop=hop, turned=True,
                                                                  log=log).labelled())[0])
        if augmentation.pocket is not None:
            w = split_subjects(load_motionsense_windows(motionsense, hop=hop, tilts=augmentation.pocket,
                                                        log=log).labelled())[0]
            pocket.append(w.select(augmentation.pocket.keep(w.y)))
        if pocket:
            out[POCKET_AUGMENTED] = concatenate(pocket)
    return out
