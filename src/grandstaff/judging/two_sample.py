"""A classifier two-sample test: can a classifier tell two sets of pieces apart?

Each piece becomes one vector of the report's own per-piece measures (per staff: the
pitch-class, chord-size and duration histograms, range, mean pitch, rests, entropy, scale
consistency, repeats, re-strikes, events per bar; both hands: consonance, harmonic fit,
parallels between any two voices, crossings, hands apart, notes on strong beats). A
standardised logistic regression and a gradient-boosted classifier (scikit-learn) are scored
by ROC AUC under stratified 5-fold cross-validation, repeated. An AUC of 0.5 means the sets
cannot be told apart; 1.0 means every piece is told apart. Two sets of the same music (the
held-out chorales against training chorales) must come out near 0.5, or the test is broken.

Every piece is cut to its first ``bars`` bars, so that length tells nothing, and no measure
of the ending is used (a chorale cut short does not end; a composed piece always does). For
that, ``bars`` must leave out every piece's last bar: :func:`shared_bars` finds it. (A cut
longer than the shortest pieces lets the classifier read how they end and how long they are:
most chorales are shorter than 16 bars, and their last bar's dotted half and closing rest
told them from composed pieces cut before their end.)

>>> from fractions import Fraction
>>> piece = {"treble": [Event((72, 76), Fraction(4))], "bass": [Event((48,), Fraction(4))]}
>>> features = piece_features(piece)
>>> features["consonance"], features["treble chords of 2"], features["bass mean pitch"]
(1.0, 1.0, 48.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from ..music.events import (
    CLEFS,
    DURATION_GRID,
    Event,
    bar_length,
    events_until,
    format_duration,
)
from . import ensemble as en
from . import quality as q

Staves = dict[str, list[Event]]


def cut(staves: Staves, bars: int, time_signature: str = "4/4") -> Staves:
    """The first ``bars`` bars of ``staves`` (the event that crosses the end shortened).

    >>> cut({"treble": [Event((60,), Fraction(6))], "bass": []}, 1)["treble"]
    [Event(pitches=(60,), duration=Fraction(4, 1), held=())]
    """
    end = bar_length(time_signature) * bars
    return {clef: events_until(events, end) for clef, events in staves.items()}


def shared_bars(pieces: Sequence[Staves], time_signature: str = "4/4", most: int = 16) -> int:
    """The whole bars that every piece of ``pieces`` holds before its last bar (at most
    ``most``, at least 1): a cut that leaves out every ending.

    >>> shared_bars([{"treble": [Event((60,), Fraction(36))], "bass": []},
    ...              {"treble": [Event((60,), Fraction(64))], "bass": []}])
    8
    """
    bar = bar_length(time_signature)
    shortest = min(sum((Fraction(e.duration) for e in p["treble"]), Fraction(0))
                   for p in pieces)
    whole = -(-shortest // bar)  # a last bar cut short is still the last bar
    return max(1, min(most, int(whole) - 1))


def piece_features(staves: Staves, time_signature: str = "4/4") -> dict[str, float]:
    """One piece's measures by name (see the module's text); NaN where a measure has no
    value (a staff without notes)."""
    features: dict[str, float] = {}
    bar = bar_length(time_signature)
    for clef in CLEFS:
        events = staves[clef]
        bars = float(sum((e.duration for e in events), Fraction(0)) / bar) or 1.0
        for index, share in enumerate(q.pitch_class_histogram(events)):
            features[f"{clef} pitch class {index}"] = float(share)
        for size, share in zip(q.CHORD_SIZES, q.chord_size_histogram(events)):
            features[f"{clef} chords of {size}"] = float(share)
        for duration, share in zip(DURATION_GRID, q.duration_histogram(events)):
            features[f"{clef} durations {format_duration(duration)}"] = float(share)
        notes = [p for e in events for p in e.pitches]
        features[f"{clef} pitch range"] = float(q.pitch_range(events))
        features[f"{clef} mean pitch"] = float(np.mean(notes)) if notes else float("nan")
        features[f"{clef} rest ratio"] = float(q.rest_ratio(events))
        features[f"{clef} pitch-class entropy"] = float(q.pitch_class_entropy(events))
        features[f"{clef} scale consistency"] = float(q.scale_consistency(events))
        features[f"{clef} longest repeat"] = float(q.longest_repeat(events))
        features[f"{clef} re-strike rate"] = float(q.restrike_rate(events))
        features[f"{clef} events per bar"] = len(events) / bars
    treble, bass = staves["treble"], staves["bass"]
    features["consonance"] = float(q.consonance(treble, bass))
    features["harmonic fit"] = float(en.harmonic_fit(treble, bass, time_signature))
    features["voice parallels"] = float(en.voice_parallels_per_100_moves(treble, bass))
    features["crossings"] = float(en.crossing_share(treble, bass))
    features["hands apart"] = float(en.hands_apart_share(treble, bass, time_signature))
    features["strong beats"] = float(en.strong_beat_share(treble + bass, time_signature))
    return features


def classifier_auc(first: Sequence[dict[str, float]], second: Sequence[dict[str, float]], *,
                   repeats: int = 5, folds: int = 5, seed: int = 0, top: int = 5) -> dict:
    """How well two classifiers tell ``first`` from ``second`` (lists of
    :func:`piece_features`): the mean and spread of the ROC AUC over ``repeats`` times
    ``folds`` stratified folds for a standardised logistic regression and a gradient-boosted
    classifier, and the ``top`` features the logistic regression leans on most (the mean
    standardised coefficient; positive: larger in ``first``)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import RepeatedStratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    names = sorted(set(first[0]))
    x = np.array([[piece.get(n, np.nan) for n in names] for piece in [*first, *second]],
                 dtype="float64")
    y = np.array([1] * len(first) + [0] * len(second))
    folds = min(folds, len(first), len(second))
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
    scores: dict[str, list[float]] = {"logistic": [], "boosted": []}
    weights = np.zeros(len(names))
    for train, test in splitter.split(x, y):
        logistic = make_pipeline(SimpleImputer(strategy="median"), StandardScaler(),
                                 LogisticRegression(C=0.5, max_iter=2000))
        boosted = make_pipeline(SimpleImputer(strategy="median"), HistGradientBoostingClassifier(
            max_depth=3, min_samples_leaf=4, max_iter=100, learning_rate=0.1,
            random_state=seed))  # small leaves: a few dozen pieces per fold
        for name, model in (("logistic", logistic), ("boosted", boosted)):
            model.fit(x[train], y[train])
            scores[name].append(float(roc_auc_score(y[test], model.predict_proba(x[test])[:, 1])))
        weights += logistic[-1].coef_[0]
    weights /= folds * repeats
    order = np.argsort(-np.abs(weights))[:top]
    return {**{name: {"auc": round(float(np.mean(values)), 3),
                      "sd": round(float(np.std(values)), 3)} for name, values in scores.items()},
            "pieces": [len(first), len(second)],
            "telling": [(names[i], round(float(weights[i]), 2)) for i in order]}
