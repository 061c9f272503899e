"""The augmented training rows of the placement-gated recipe, by placement id (see :mod:`.augment`)."""

from __future__ import annotations

from pathlib import Path

from .augment import Augmentation
from .motionsense import load_motionsense_windows, split_subjects
from .train import POCKET_AUGMENTED, WAIST_AUGMENTED
from .windows import WindowSet, load_windows


def augmented_windows(augmentation: Augmentation, *, hop: int, hapt_source: str | Path | None = None,
                      motionsense: str | Path | None = None, log=print) -> dict[int, WindowSet]:
    """Labelled training-subject windows every ``hop`` samples of the augmented trials.

    Parameters
    ----------
    augmentation : Augmentation
    hop : int
        Samples between window starts.
    hapt_source : path, optional
        HAPT recordings (default: the cached sdist).
    motionsense : path, optional
        MotionSense folder; without it, no pocket rows.

    Returns
    -------
    dict
        ``WAIST_AUGMENTED`` and/or ``POCKET_AUGMENTED`` -> WindowSet; held-out subjects never appear.
    """
    out = {}
    tilted = [load_windows(hapt_source, hop=hop, tilts=tilts, log=log, quiet=True).labelled()
              for tilts in (augmentation.waist, augmentation.waist_lying) if tilts is not None]
    if tilted:
        out[WAIST_AUGMENTED] = WindowSet.concatenate(tilted)
    if motionsense is not None:
        pocket = []
        if augmentation.pocket_turned:
            pocket.append(split_subjects(load_motionsense_windows(motionsense, hop=hop, turned=True,
                                                                  log=log).labelled())[0])
        if augmentation.pocket is not None:
            pocket.append(split_subjects(load_motionsense_windows(motionsense, hop=hop, tilts=augmentation.pocket,
                                                                  log=log).labelled())[0])
        if pocket:
            out[POCKET_AUGMENTED] = WindowSet.concatenate(pocket)
    return out
