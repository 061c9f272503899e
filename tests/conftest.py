"""Shared fixtures: the team's reference data beside the checkout, and the HAPT recordings."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HAR_SHARED_DIR", ROOT.parent / "shared"))
UCI_REFERENCE = SHARED / "uci_reference"


@pytest.fixture(scope="session")
def uci_reference() -> Path:
    if not (UCI_REFERENCE / "reference_train_windows.npz").exists():
        pytest.skip(f"team reference data not found at {UCI_REFERENCE} (set HAR_SHARED_DIR)")
    return UCI_REFERENCE


@pytest.fixture(scope="session")
def hapt_recordings():
    """All 61 HAPT recordings (fetched into the cache on first use), or a skip saying why not."""
    from har.runtime.tools.hapt import DatasetError, load_hapt

    try:
        return {r.experiment: r for r in load_hapt(download=True)}
    except DatasetError as exc:
        pytest.skip(f"HAPT recordings unavailable: {exc}")


@pytest.fixture(scope="session")
def sample_recording():
    """The real recording excerpt bundled with the runtime (HAPT experiment 3, test subject 2)."""
    from importlib import resources

    with resources.files("har.runtime").joinpath("data/sample_recording.npz").open("rb") as fh:
        data = np.load(fh)
        return {k: data[k] for k in data.files}
