"""The 561-column table: (signal, statistic, axis) -> column, in official order.

Names, order and the computation plan all come from ``COLUMNS``. A column reads one value of one
*source*: a statistic computed for every series of a domain (``extract.compute_sources`` fills them),
addressed as (source, series index, position within the statistic's output).
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

AXES = ("X", "Y", "Z")

#: Time-domain series, 128 samples per window, in this order (the index is the series id).
TIME_3AXIS = ("tBodyAcc", "tGravityAcc", "tBodyAccJerk", "tBodyGyro", "tBodyGyroJerk")
# tGravityAccMag is computed from tBodyAcc: an official quirk reproduced for compatibility.
TIME_MAG = ("tBodyAccMag", "tGravityAccMag", "tBodyAccJerkMag", "tBodyGyroMag", "tBodyGyroJerkMag")
TIME_SERIES = tuple(f"{s}-{a}" for s in TIME_3AXIS for a in AXES) + TIME_MAG

#: Frequency-domain series, 64 bins per window: the spectra of these time series.
FREQ_3AXIS = ("fBodyAcc", "fBodyAccJerk", "fBodyGyro")
FREQ_MAG = ("fBodyAccMag", "fBodyBodyAccJerkMag", "fBodyBodyGyroMag", "fBodyBodyGyroJerkMag")
FREQ_SERIES = tuple(f"{s}-{a}" for s in FREQ_3AXIS for a in AXES) + FREQ_MAG
#: Which time series each frequency series is the spectrum of.
FREQ_OF_TIME = tuple(TIME_SERIES.index(f"{t}-{a}") for t in ("tBodyAcc", "tBodyAccJerk", "tBodyGyro")
                     for a in AXES) + tuple(TIME_SERIES.index(m) for m in
                                            ("tBodyAccMag", "tBodyAccJerkMag", "tBodyGyroMag", "tBodyGyroJerkMag"))

#: Widths of every source (values per series). Statistics of width 1 are per-series scalars.
SOURCE_WIDTH = {
    "mean": 1, "std": 1, "mad": 1, "max": 1, "min": 1, "energy": 1, "iqr": 1, "entropy": 1,
    "arCoeff": 4, "sma3": 1, "correlation": 3,
    "maxInds": 1, "meanFreq": 1, "skewness": 1, "kurtosis": 1, "bandsEnergy": 14,
    "angle": 1,
}
#: Number of series each (domain, source) is computed for.
DOMAIN_SIZE = {"t": len(TIME_SERIES), "f": len(FREQ_SERIES), "t3": len(TIME_3AXIS),
               "f3": len(FREQ_3AXIS), "angle": 7}

_COMMON = ("mean", "std", "mad", "max", "min")
_BANDS = ("1,8", "9,16", "17,24", "25,32", "33,40", "41,48", "49,56", "57,64",
          "1,16", "17,32", "33,48", "49,64", "1,24", "25,48")
_PAIRS = ("X,Y", "X,Z", "Y,Z")
ANGLE_NAMES = ("angle(tBodyAccMean,gravity)", "angle(tBodyAccJerkMean),gravityMean)",
               "angle(tBodyGyroMean,gravityMean)", "angle(tBodyGyroJerkMean,gravityMean)",
               "angle(X,gravityMean)", "angle(Y,gravityMean)", "angle(Z,gravityMean)")


class Column(NamedTuple):
    name: str           # unique name (bandsEnergy carries its axis)
    official: str       # the name as written in the published features.txt
    domain: str         # "t", "f", "t3", "f3" or "angle": which series the source runs over
    source: str         # key of SOURCE_WIDTH
    series: int         # series index within the domain
    offset: int         # position within the source's width


def _three_axis_block(sig: str, domain: str, sig_index: int) -> list[Column]:
    def axis_series(a):
        return sig_index * 3 + a

    cols = []
    for stat in _COMMON:
        cols += [Column(f"{sig}-{stat}()-{ax}", f"{sig}-{stat}()-{ax}", domain, stat, axis_series(a), 0)
                 for a, ax in enumerate(AXES)]
    cols.append(Column(f"{sig}-sma()", f"{sig}-sma()", domain + "3", "sma3", sig_index, 0))
    for stat in ("energy", "iqr", "entropy"):
        cols += [Column(f"{sig}-{stat}()-{ax}", f"{sig}-{stat}()-{ax}", domain, stat, axis_series(a), 0)
                 for a, ax in enumerate(AXES)]
    if domain == "t":
        for a, ax in enumerate(AXES):
            cols += [Column(f"{sig}-arCoeff()-{ax},{k + 1}", f"{sig}-arCoeff()-{ax},{k + 1}", "t",
                            "arCoeff", axis_series(a), k) for k in range(4)]
        cols += [Column(f"{sig}-correlation()-{p}", f"{sig}-correlation()-{p}", "t3", "correlation",
                        sig_index, j) for j, p in enumerate(_PAIRS)]
    else:
        cols += [Column(f"{sig}-maxInds-{ax}", f"{sig}-maxInds-{ax}", "f", "maxInds", axis_series(a), 0)
                 for a, ax in enumerate(AXES)]
        cols += [Column(f"{sig}-meanFreq()-{ax}", f"{sig}-meanFreq()-{ax}", "f", "meanFreq", axis_series(a), 0)
                 for a, ax in enumerate(AXES)]
        for a, ax in enumerate(AXES):
            cols += [Column(f"{sig}-{stat}()-{ax}", f"{sig}-{stat}()-{ax}", "f", stat, axis_series(a), 0)
                     for stat in ("skewness", "kurtosis")]
        for a, ax in enumerate(AXES):
            cols += [Column(f"{sig}-bandsEnergy()-{ax},{b}", f"{sig}-bandsEnergy()-{b}", "f", "bandsEnergy",
                            axis_series(a), j) for j, b in enumerate(_BANDS)]
    return cols


def _magnitude_block(sig: str, domain: str, series: int) -> list[Column]:
    def col(stat, name_stat=None, source=None, offset=0):
        name = f"{sig}-{name_stat or stat + '()'}"
        return Column(name, name, domain, source or stat, series, offset)

    cols = [col(s) for s in _COMMON]
    # For a magnitude sma is mean(|m|) = mean(m): read the mean.
    cols.append(col("sma", source="mean"))
    cols += [col(s) for s in ("energy", "iqr", "entropy")]
    if domain == "t":
        cols += [col("arCoeff", name_stat=f"arCoeff(){k + 1}", offset=k) for k in range(4)]
    else:
        cols.append(col("maxInds", name_stat="maxInds"))
        cols += [col(s) for s in ("meanFreq", "skewness", "kurtosis")]
    return cols


def _build() -> tuple[Column, ...]:
    cols: list[Column] = []
    for i, sig in enumerate(TIME_3AXIS):
        cols += _three_axis_block(sig, "t", i)
    for sig in TIME_MAG:
        cols += _magnitude_block(sig, "t", TIME_SERIES.index(sig))
    for i, sig in enumerate(FREQ_3AXIS):
        cols += _three_axis_block(sig, "f", i)
    for sig in FREQ_MAG:
        cols += _magnitude_block(sig, "f", FREQ_SERIES.index(sig))
    cols += [Column(n, n, "angle", "angle", j, 0) for j, n in enumerate(ANGLE_NAMES)]
    return tuple(cols)


COLUMNS = _build()
N_FEATURES = len(COLUMNS)
FEATURE_NAMES = tuple(c.name for c in COLUMNS)
OFFICIAL_NAMES = tuple(c.official for c in COLUMNS)

#: Bump when a change to the feature code changes any number it computes.
FEATURES_VERSION = "1.0"
#: Digest of the ordered names: a model trained on other columns is refused.
FEATURE_DIGEST = hashlib.sha256("\n".join(FEATURE_NAMES).encode()).hexdigest()[:16]
