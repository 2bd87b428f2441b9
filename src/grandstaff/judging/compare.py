"""Judging the music: generated pieces against held-out corpus pieces and the n-gram baseline.

>>> import grandstaff as gs
>>> from grandstaff.judging import judge, write_report
>>> result = judge(models="bach", samples=50, seed=0)       # doctest: +SKIP
>>> write_report(result, "docs/quality.md")                 # doctest: +SKIP

All statistics are taken in the reference keys (C major / A minor), where the corpus lives;
mode agreement is judged on the written pieces in their requested keys.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..composing.piece import written_shift
from ..errors import BadArgumentError
from ..music.events import CLEFS, Event
from ..music.keys import Key
from . import ensemble as en
from . import quality as q

KEYS = ("C major", "A minor", "G major", "E minor", "F major", "D minor", "Bb major",
        "G minor", "D major", "B minor")
BARS = 16
SETS = ("corpus", "model", "ngram")
LABELS = {"corpus": "held-out Bach", "model": "model", "ngram": "4-gram baseline"}
Staves = dict[str, list[Event]]


def _sample_ngram(corpus, train_pieces, keys, seed, top_k=(10, 5)) -> list[Staves]:
    from ..composing.generation import generate_staves
    from ..composing.sampling import TopKSampler
    from ..models.ngram import NGramGenerator
    from ..models.sequences import build_vocab, encode_sequences

    rng = np.random.default_rng(seed)
    generators = {}
    for clef in CLEFS:
        vocab = build_vocab(corpus, clef)
        generators[clef] = NGramGenerator(
            vocab, encode_sequences(corpus.sequences(clef, train_pieces), vocab))
    pieces = []
    for key in keys:
        staves = {}
        for clef in CLEFS:
            staves[clef] = generate_staves(
                generators[clef], mode=key.mode, length=4 * BARS,
                pitch_sampler=TopKSampler(top_k[0], seed=rng.spawn(1)[0]),
                duration_sampler=TopKSampler(top_k[1], seed=rng.spawn(1)[0]), bar=4)[0]
        pieces.append(staves)
    return pieces


def _mode_of(staves: Staves, key: Key) -> str:
    """The mode music21 hears in ``staves`` (reference key) written in ``key``."""
    from ..composing.piece import Piece

    shift = key.semitones_from_reference()
    return Piece({c: tuple(e.transposed(shift) for e in staves[c]) for c in CLEFS},
                 key=key).analysed_mode()


def judge(models: str = "bach", samples: int = 50, seed: int = 0, corpus=None,
          progress: bool = True, rules: bool = True) -> dict:
    """Compose ``samples`` pieces (both modes, several keys), sample as many from the n-gram
    baseline, and measure them beside the model set's held-out corpus pieces. ``rules=False``
    composes with the models alone (see :func:`~grandstaff.composing.compose`)."""
    from tqdm import tqdm

    from ..composing.composer import DEFAULT_CANDIDATES, compose
    from ..corpus import load_corpus
    from ..models.model import load_models

    if samples < 2:
        raise BadArgumentError(f"samples {samples!r} must be 2 or more to compare distributions")
    metrics = load_models(models)["treble"].metrics
    corpus = corpus or load_corpus(metrics.get("source", "bach"), progress=False)
    held = [p for p in metrics.get("held_out_pieces", []) if p in set(corpus.piece_names())]
    train = [p for p in corpus.piece_names() if p not in set(held)]
    keys = [Key.parse(KEYS[i % len(KEYS)]) for i in range(samples)]
    modes = dict(zip(corpus.pieces["piece"], corpus.pieces["mode"]))
    meters = dict(zip(corpus.pieces["piece"], corpus.pieces["time_signature"]))

    sets: dict[str, list[Staves]] = {"corpus": [], "model": [], "ngram": []}
    wanted: dict[str, list[str]] = {"corpus": [], "model": [], "ngram": []}
    meter: dict[str, list[str]] = {"corpus": [meters[name] for name in held],
                                   "model": ["4/4"] * samples, "ngram": ["4/4"] * samples}
    for name in held:
        sets["corpus"].append({c: corpus.events(c, name) for c in CLEFS})
        wanted["corpus"].append(modes[name])
    written: dict[str, list[Staves]] = {"corpus": sets["corpus"], "model": [], "ngram": []}
    chosen_in_mode = []
    for index, key in enumerate(tqdm(keys, desc="composing", disable=not progress)):
        # the measures take single samples, as the n-gram's are; compose's default choice
        # among candidates is judged on mode alone
        piece = compose(bars=BARS, key=key, seed=seed + index, models=models, candidates=1,
                        rules=rules)
        back = {"treble": -piece.info["shift"], "bass": -piece.info["bass_shift"]}
        sets["model"].append({c: [e.transposed(back[c]) for e in piece.staves[c]]
                              for c in CLEFS})
        written["model"].append({c: list(piece.staves[c]) for c in CLEFS})
        wanted["model"].append(key.mode)
        chosen = compose(bars=BARS, key=key, seed=seed + index, models=models, rules=rules)
        chosen_in_mode.append(chosen.info["mode_matched"])
    sets["ngram"] = _sample_ngram(corpus, train, keys, seed)
    for staves, key in zip(sets["ngram"], keys):  # written the way compose writes
        shift = written_shift(staves, key.semitones_from_reference())
        written["ngram"].append({c: [e.transposed(shift) for e in staves[c]] for c in CLEFS})
    wanted["ngram"] = [k.mode for k in keys]
    training = {c: [corpus.events(c, name) for name in train] for c in CLEFS}

    result = {"models": models, "samples": samples, "seed": seed, "bars": BARS, "rules": rules,
              "held_out_pieces": len(held), "clefs": {}, "both": {}}
    for clef in CLEFS:
        result["clefs"][clef] = _clef_table({s: [p[clef] for p in sets[s]] for s in SETS})
    result["both"]["consonance"] = {
        s: _summary([q.consonance(p["treble"], p["bass"]) for p in sets[s]]) for s in SETS}
    result["both"]["mode_agreement"] = {}
    for s in SETS:
        keys_for = ([Key("C", "major") if m == "major" else Key("A", "minor")
                     for m in wanted[s]] if s == "corpus" else keys)
        hits = [_mode_of(p, k) == k.mode for p, k in zip(sets[s], keys_for)]
        result["both"]["mode_agreement"][s] = round(sum(hits) / len(hits), 3)
    result["both"]["mode_agreement_chosen"] = round(sum(chosen_in_mode) / len(keys), 3)
    result["both"].update(_ensemble(sets, written, wanted, meter, keys))
    result["both"]["candidates"] = DEFAULT_CANDIDATES
    result["novelty"] = {}
    indexes = {c: q.VerbatimIndex(training[c]) for c in CLEFS}
    for s in SETS:
        copies = [indexes[c].longest(p[c]) for p in tqdm(
            sets[s], desc=f"novelty ({s})", disable=not progress) for c in CLEFS]
        result["novelty"][s] = {**_summary(copies), "max": max(copies),
                                "values": sorted(copies)}
    result["examples"] = {s: sets[s][0] for s in SETS}
    return result


def _ensemble(sets: dict[str, list[Staves]], written: dict[str, list[Staves]],
              wanted: dict[str, list[str]], meter: dict[str, list[str]],
              keys: Sequence[Key]) -> dict:
    """The both-hands measures of :mod:`grandstaff.judging.ensemble` for every set: harmony,
    cadence and voice leading in the reference keys; crossings and ledger lines where the
    notes are written (the requested keys; held-out Bach in its reference key)."""
    found: dict[str, dict] = {name: {} for name in (
        "final tonic", "final V-I", "harmonic fit", "strong beats", "parallels", "crossings",
        "ledger lines", "crossings by key", "ledger lines by key")}
    for s in SETS:
        pieces, modes = sets[s], wanted[s]
        cadences = [en.final_cadence(p["treble"], p["bass"], tonic=0 if m == "major" else 9,
                                     mode=m) for p, m in zip(pieces, modes)]
        found["final tonic"][s] = _share([t for t, _ in cadences])
        found["final V-I"][s] = _share([v for _, v in cadences])
        found["harmonic fit"][s] = _summary(
            [en.harmonic_fit(p["treble"], p["bass"], ts) for p, ts in zip(pieces, meter[s])])
        found["strong beats"][s] = {
            ts: _summary([en.strong_beat_share(p["treble"] + p["bass"], ts)
                          for p, m in zip(pieces, meter[s]) if m == ts])
            for ts in sorted(set(meter[s]))}
        found["parallels"][s] = _summary([en.parallels_per_100_beats(p["treble"], p["bass"], ts)
                                          for p, ts in zip(pieces, meter[s])])
        crossings = [en.crossing_share(p["treble"], p["bass"]) for p in written[s]]
        ledger = [en.ledger_share(p["treble"]) for p in written[s]]
        found["crossings"][s], found["ledger lines"][s] = _summary(crossings), _summary(ledger)
        if s != "corpus":
            found["crossings by key"][s] = _by_key(crossings, keys)
            found["ledger lines by key"][s] = _by_key(ledger, keys)
    return found


def _by_key(values: Sequence[float], keys: Sequence[Key]) -> dict[str, float]:
    """The mean of ``values`` for each key, in the order the keys first appear."""
    return {str(key): _summary([v for v, k in zip(values, keys) if k == key])["mean"]
            for key in dict.fromkeys(keys)}


def _share(flags: Sequence[bool]) -> float:
    return round(sum(flags) / len(flags), 3) if flags else float("nan")


def _summary(values: Sequence[float]) -> dict:
    clean = [v for v in values if not (isinstance(v, float) and math.isnan(v))]
    if not clean:
        return {"mean": float("nan"), "sd": float("nan"), "median": float("nan"), "values": []}
    return {"mean": round(statistics.fmean(clean), 4),
            "sd": round(statistics.pstdev(clean), 4),
            "median": round(statistics.median(clean), 4),
            "values": [round(float(v), 4) for v in clean]}


def _clef_table(staves: dict[str, list[list[Event]]]) -> dict:
    table: dict[str, dict] = {}
    histograms = {"pitch classes": q.pitch_class_histogram,
                  "chord sizes": q.chord_size_histogram, "durations": q.duration_histogram}
    for name, function in histograms.items():
        pooled = {s: function([e for piece in staves[s] for e in piece]) for s in SETS}
        table[name] = {"histograms": {s: [round(float(x), 4) for x in pooled[s]] for s in SETS},
                       "overlap": {s: round(q.overlap_histograms(pooled[s], pooled["corpus"]), 3)
                                   for s in ("model", "ngram")}}
    scalars = {"pitch range": q.pitch_range, "rest ratio": q.rest_ratio,
               "pitch-class entropy": q.pitch_class_entropy,
               "scale consistency": q.scale_consistency, "longest repeat": q.longest_repeat,
               "re-strike rate": q.restrike_rate}
    for name, function in scalars.items():
        values = {s: _summary([float(function(piece)) for piece in staves[s]]) for s in SETS}
        table[name] = {"summary": values, "overlap": {
            s: round(q.overlap_values(values[s]["values"], values["corpus"]["values"]), 3)
            for s in ("model", "ngram")}}
    return table


# --- report ----------------------------------------------------------------------------------


def write_report(result: dict, path: str | Path) -> list[Path]:
    """Write the Markdown report and its PNG figures next to it; returns the files written."""
    from ..files import write_text_atomic

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figures = [_plot_histograms(result, path.with_name(f"{path.stem}-histograms.png")),
               _plot_rolls(result, path.with_name(f"{path.stem}-piano-rolls.png"))]
    write_text_atomic(path, format_quality(result, figures))
    return [path, *figures]


def format_quality(result: dict, figures: Sequence[Path] = ()) -> str:
    lines = [
        f"# Quality of model set `{result['models']}`", "",
        f"{result['samples']} pieces of {result['bars']} bars composed with the default "
        "sampling (top-k 10 / 5, temperature 1"
        f"{'' if result.get('rules', True) else '; the models alone, without the rules'}) "
        f"in {min(result['samples'], len(KEYS))} keys of "
        f"both modes (seed {result['seed']}), the same number sampled from the 4-gram "
        "Kneser–Ney baseline (same vocabularies, same top-k, same bar filling), and the "
        f"{result['held_out_pieces']} held-out Bach chorales of the model set's split. "
        "Reproduce with `grandstaff evaluate --models "
        f"{result['models']} --samples {result['samples']} --seed {result['seed']} "
        f"{'' if result.get('rules', True) else '--no-rules '}--report docs/quality.md`.", "",
        "Overlap: for histograms, the overlapping area of the two normalised histograms "
        "(sum of minima); for per-piece values, the overlapping area of their Gaussian kernel "
        "density estimates (MGEval, Yang & Lerch 2018). 1 = the same distribution as held-out "
        "Bach.", ""]
    for clef, table in result["clefs"].items():
        lines += [f"## {clef.capitalize()} staff", "",
                  "| measure | held-out Bach | model | 4-gram | overlap model | overlap 4-gram |",
                  "|---|---|---|---|---|---|"]
        for name, row in table.items():
            if "summary" in row:
                cells = [f"{row['summary'][s]['mean']:.3f} ± {row['summary'][s]['sd']:.3f}"
                         for s in SETS]
            else:
                cells = ["(histogram)"] * 3
            lines.append(f"| {name} | {' | '.join(cells)} | {row['overlap']['model']:.3f} | "
                         f"{row['overlap']['ngram']:.3f} |")
        lines.append("")
    both = result["both"]
    lines += ["## Both hands", "", "| measure | held-out Bach | model | 4-gram |",
              "|---|---|---|---|",
              "| consonant treble/bass pairs (share) | " + " | ".join(
                  f"{both['consonance'][s]['mean']:.3f}" for s in SETS) + " |",
              "| mode agreement, single samples (music21's key analysis) | " + " | ".join(
                  f"{both['mode_agreement'][s]:.2f}" for s in SETS) + " |",
              f"| mode agreement of `compose` (keeps the first of {both['candidates']} "
              "candidates in the requested mode) | – | "
              f"{both['mode_agreement_chosen']:.2f} | – |",
              "| longest verbatim copy from a training piece, median (events) | " + " | ".join(
                  f"{result['novelty'][s]['median']:.0f}" for s in SETS) + " |",
              "| longest verbatim copy, max (events) | " + " | ".join(
                  f"{result['novelty'][s]['max']}" for s in SETS) + " |"]
    if "final tonic" in both:  # reports made before these measures lack them
        lines += _ensemble_rows(both)
    lines.append("")
    lines += ["Consonant: unison/octave, thirds, fifth and sixths between any treble and any bass "
              "pitch sounding together, sampled every 1/24 of a quarter. The final sonority is "
              "what both staves sound at the last onset that sounds; the major third counts in "
              "minor (a Picardy third). Harmonic fit looks at the pitch classes sounding on each "
              "beat (the dotted quarter in 6/8). Strong beats: 1 and 3 in 4/4, 1 in 3/4, both "
              "dotted beats in 6/8. Parallels: the top treble and lowest bass notes move the "
              "same way from one onset to the next and keep a fifth or octave. Ledger lines: "
              "below D4 or above G♯5. Harmony and cadence are measured in the reference keys, "
              "crossings and ledger lines in the requested keys. Novelty is measured per "
              "staff against every training piece of that staff; for held-out Bach it shows how "
              "much the chorales themselves share.", ""]
    for figure in figures:
        lines += [f"![{figure.stem}]({figure.name})", ""]
    return "\n".join(lines)


def _ensemble_rows(both: dict) -> list[str]:
    def mean(name: str, s: str) -> str:
        return f"{both[name][s]['mean']:.3f}"

    rows = [
        "| final sonority is the tonic triad, tonic in the bass (share) | " + " | ".join(
            f"{both['final tonic'][s]:.2f}" for s in SETS) + " |",
        "| last two harmonies V(7)–I (share) | " + " | ".join(
            f"{both['final V-I'][s]:.2f}" for s in SETS) + " |",
        "| harmonic fit: beats that one triad or dominant seventh explains | " + " | ".join(
            mean("harmonic fit", s) for s in SETS) + " |"]
    for ts in sorted({ts for s in SETS for ts in both["strong beats"][s]}):
        rows.append(f"| meter {ts}: notes of a quarter or longer on a strong beat | " + " | ".join(
            f"{both['strong beats'][s][ts]['mean']:.3f}" if ts in both["strong beats"][s]
            else "–" for s in SETS) + " |")
    rows += [
        "| parallel fifths and octaves, outer voices, per 100 beats | " + " | ".join(
            mean("parallels", s) for s in SETS) + " |",
        "| crossings: bass above the treble's lowest note (share of onsets) | " + " | ".join(
            mean("crossings", s) for s in SETS) + " |",
        "| treble notes on ledger lines (share) | " + " | ".join(
            mean("ledger lines", s) for s in SETS) + " |", "",
        "By requested key (model / 4-gram), crossings and treble ledger lines:", "",
        "| key | crossings model | crossings 4-gram | ledger model | ledger 4-gram |",
        "|---|---|---|---|---|"]
    for key in both["crossings by key"]["model"]:
        rows.append(f"| {key} | " + " | ".join(
            f"{both[name][s][key]:.3f}" for name in ("crossings by key", "ledger lines by key")
            for s in ("model", "ngram")) + " |")
    return rows


def _plot_histograms(result: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = ("pitch classes", "chord sizes", "durations")
    ticks = {"pitch classes": ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B"],
             "chord sizes": ["1", "2", "3", "4", "5+"], "durations": list(q.DURATION_TOKENS)}
    fig, axes = plt.subplots(len(CLEFS), len(names), figsize=(15, 6.5))
    for row, clef in enumerate(CLEFS):
        for col, name in enumerate(names):
            ax = axes[row][col]
            hist = result["clefs"][clef][name]["histograms"]
            x = np.arange(len(ticks[name]))
            for offset, s in zip((-0.27, 0, 0.27), SETS):
                ax.bar(x + offset, hist[s], width=0.27, label=LABELS[s])
            ax.set_xticks(x, ticks[name], fontsize=7, rotation=60 if name == "durations" else 0)
            ax.set_title(f"{clef}: {name}", fontsize=10)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _plot_rolls(result: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(15, 4.5), sharey=True)
    for ax, s in zip(axes, ("model", "corpus")):
        staves = result["examples"][s]
        for clef, colour in zip(CLEFS, ("tab:blue", "tab:orange")):
            time = 0.0
            for event in staves[clef]:
                if time >= 4 * BARS:
                    break
                for pitch in event.pitches:
                    ax.broken_barh([(time, float(event.duration) * 0.95)], (pitch - 0.4, 0.8),
                                   color=colour)
                time += float(event.duration)
        ax.set_xlim(0, 4 * BARS)
        ax.set_title(f"{LABELS[s]} (first {BARS} bars, reference key)", fontsize=10)
        ax.set_xlabel("quarter notes")
    axes[0].set_ylabel("MIDI pitch (blue treble, orange bass)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
