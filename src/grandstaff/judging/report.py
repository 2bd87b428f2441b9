"""The Markdown report of a comparison and its two figures (matplotlib)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..composing.sampling import DURATION_TEMPERATURE
from ..music.events import CLEFS
from . import quality as q
from .measures import BARS, KEYS, LABELS, SETS


def write_report(result: dict, path: str | Path) -> list[Path]:
    """Write the Markdown report and its PNG figures next to it; returns the files written."""
    from ..files import write_text_atomic

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figures = [_plot_histograms(result, path.with_name(f"{path.stem}-histograms.png")),
               _plot_rolls(result, path.with_name(f"{path.stem}-piano-rolls.png"))]
    write_text_atomic(path, format_quality(result, figures, path))
    return [path, *figures]


def reference_label(result: dict) -> str:
    """What the held-out pieces are called: "held-out Bach" for a set trained on the chorales,
    "held-out pieces" for one trained on the user's own corpus."""
    return "held-out Bach" if result.get("source", "bach") == "bach" else "held-out pieces"


def format_quality(result: dict, figures: Sequence[Path] = (),
                   path: str | Path | None = None) -> str:
    """The report as Markdown; ``path``, where it is written, goes into its "Reproduce with"
    line (by default ``docs/quality.md`` for the shipped set, ``quality-NAME.md`` else)."""
    held = reference_label(result)
    if path is None:
        path = ("docs/quality.md" if result["models"] == "bach"
                else f"quality-{Path(str(result['models'])).name}.md")
    pieces = ("Bach chorales" if held == "held-out Bach"
              else f"pieces of the corpus ({result.get('source', '?')})")
    lines = [
        f"# Quality of model set `{result['models']}`", "",
        f"{result['samples']} pieces of {result['bars']} bars composed with the default "
        "sampling (top-k 10 / 5, temperature 1, the right hand's durations at "
        f"{DURATION_TEMPERATURE['treble']:g} of it"
        f"{'' if result.get('rules', True) else '; the models alone, without the rules'}) "
        f"in {min(result['samples'], len(KEYS))} keys of "
        f"both modes (seed {result['seed']}), the same number sampled from the 4-gram "
        "Kneser–Ney baseline (same vocabularies, same top-k, same bar filling), and the "
        f"{result['held_out_pieces']} held-out {pieces} of the model set's split. "
        "Reproduce with `grandstaff evaluate --models "
        f"{result['models']} --samples {result['samples']} --seed {result['seed']} "
        f"{'' if result.get('rules', True) else '--no-rules '}--report {path}`.", "",
        "Overlap: for histograms, the overlapping area of the two normalised histograms "
        "(sum of minima); for per-piece values, the overlapping area of their Gaussian kernel "
        "density estimates (MGEval, Yang & Lerch 2018). 1 = the same distribution as the "
        f"{held} pieces.", ""]
    for clef, table in result["clefs"].items():
        lines += [f"## {clef.capitalize()} staff", "",
                  f"| measure | {held} | model | 4-gram | overlap model | overlap 4-gram |",
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
    lines += ["## Both hands", "", f"| measure | {held} | model | 4-gram |",
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
              "staff against every training piece of that staff; for the held-out pieces it "
              "shows how much the corpus's pieces themselves share.", ""]
    if "phrases" in result:
        lines += _phrase_rows(result["phrases"], result["bars"], held) + [""]
    if "two_sample" in result:
        lines += _two_sample_rows(result["two_sample"],
                                  result["two_sample"].get("bars", result["bars"])) + [""]
    if "reharmonization" in result:
        from .reharmonizing import format_reharmonization

        lines += [format_reharmonization(result["reharmonization"]), ""]
    for figure in figures:
        lines += [f"![{figure.stem}]({figure.name})", ""]
    return "\n".join(lines)


def _phrase_rows(phrases: dict, bars: int, held: str) -> list[str]:
    """How the music breathes in each meter: the model's pieces beside the held-out ones."""
    def cell(value) -> str:
        return "–" if value is None else f"{value:.2f}"

    rows = ["## Phrases, by meter", "",
            f"Pieces of {bars} bars composed in each meter with the default phrase plan "
            "(`--phrases auto`), one sample each, beside the held-out pieces in that meter "
            "(the corpus has no 6/8). A cadence point is a beat where I, V or vi is held more "
            "than a beat in both hands with nothing moving, judged from the notes alone (a "
            "fermata earns nothing). A phrase end is heard when I, V or vi sounds there and "
            "its outer notes last a beat; the last one (the closing cadence, a rule) is left "
            "out, and for the held-out pieces their fermatas are the phrase ends. The last "
            "two columns count every fermata as a cadence point too, as a player holds it "
            "(the phrases issue's measure; a composed piece's fermatas are its plan's "
            "phrase ends).", "",
            f"| meter | pieces (model / {held}) | cadence points per 16 bars (model / "
            f"{held}) | longest stretch without one, bars | phrase ends heard as cadences | "
            "cadence points per 16 bars, fermatas counted | longest stretch without one, "
            "fermatas counted |",
            "|---|---|---|---|---|---|---|"]
    for meter, found in phrases.items():
        model, bach = found["model"], found["bach"]
        rows.append(
            f"| {meter} | {model['pieces']} / {bach['pieces']} | "
            f"{cell(model['cadence_points'])} / {cell(bach['cadence_points'])} | "
            f"{cell(model['longest_without'])} / {cell(bach['longest_without'])} | "
            f"{cell(model['phrase_ends_heard'])} / {cell(bach['phrase_ends_heard'])} | "
            f"{cell(model.get('with_fermatas'))} / {cell(bach.get('with_fermatas'))} | "
            f"{cell(model.get('longest_with_fermatas'))} / "
            f"{cell(bach.get('longest_with_fermatas'))} |")
    return rows


def _two_sample_rows(tests: dict, bars: int) -> list[str]:
    """The classifier two-sample test as a table, the features that tell most beside it."""
    names = {"model": "model against held-out Bach", "ngram": "4-gram against held-out Bach",
             "control": "training Bach against held-out Bach (control)"}
    rows = ["## Can a classifier tell them apart?", "",
            f"Each piece (its first {bars} bars, 4/4 only: the bars every piece holds before its "
            "last, so that neither length nor ending tells) becomes one vector of the measures "
            "above; a logistic regression and a gradient-boosted classifier are scored by ROC "
            "AUC under stratified 5-fold cross-validation, repeated 5 times. 0.5: cannot be "
            "told apart; 1.0: always told apart. The control must come out near 0.5.", "",
            "| comparison | pieces | logistic AUC | boosted AUC | most telling (logistic, "
            "+: larger in the first set) |", "|---|---|---|---|---|"]
    for key, label in names.items():
        test = tests[key]
        telling = ", ".join(f"{name} {weight:+.2f}" for name, weight in test["telling"])
        rows.append(f"| {label} | {test['pieces'][0]} / {test['pieces'][1]} | "
                    f"{test['logistic']['auc']:.3f} ± {test['logistic']['sd']:.3f} | "
                    f"{test['boosted']['auc']:.3f} ± {test['boosted']['sd']:.3f} | {telling} |")
    return rows


def _ensemble_rows(both: dict) -> list[str]:
    def mean(name: str, s: str) -> str:
        return f"{both[name][s]['mean']:.3f}"

    rows = [
        "| final sonority is the tonic triad, tonic in the bass (share) | " + " | ".join(
            f"{both['final tonic'][s]:.2f}" for s in SETS) + " |",
        "| last two harmonies V(7)–I (share) | " + " | ".join(
            f"{both['final V-I'][s]:.2f}" for s in SETS) + " |",
        *(["| the top voice ends on the tonic (share) | " + " | ".join(
            f"{both['top ends on tonic'][s]:.2f}" for s in SETS) + " |",
           "| a leading tone on top before the last onset rises to the tonic (share) | "
           + " | ".join(f"{both['leading tone resolves'][s]:.2f}" for s in SETS) + " |"]
          if "top ends on tonic" in both else []),
        *(["| the final chord's third in the bass staff, the tenor (share) | " + " | ".join(
            f"{both['final third in the bass staff'][s]:.2f}" for s in SETS) + " |",
           "| a minor piece's final chord with a major (Picardy) third (share) | "
           + " | ".join(f"{both['minor ends major'][s]:.2f}" for s in SETS) + " |"]
          if "minor ends major" in both else []),
        *(["| a pre-dominant (IV, ii, ii6/5, IV6) just before the final V (share) | "
            + " | ".join(f"{both['pre-dominant'][s]:.2f}" for s in SETS) + " |",
            "| a note (any voice) struck more than twice in a row in the final V (share) | "
            + " | ".join(f"{both['dominant restrikes'][s]:.2f}" for s in SETS) + " |",
            "| the leading tone doubled (share of dominant sonorities) | "
            + " | ".join(f"{both['doubled leading tone'][s]:.3f}" for s in SETS) + " |"]
          if "pre-dominant" in both else []),
        *(["| cadence points per 16 bars (I, V or vi held more than a beat in both hands, "
           "nothing moving) | " + " | ".join(mean("cadence points", s) for s in SETS) + " |",
           "| longest stretch without a cadence point (bars) | "
           + " | ".join(mean("longest without", s) for s in SETS) + " |",
           "| top voice: repeated notes (share of its moves) | "
           + " | ".join(mean("top repeats", s) for s in SETS) + " |",
           "| top voice: steps of one or two semitones (share of its moves) | "
           + " | ".join(mean("top steps", s) for s in SETS) + " |"]
          if "cadence points" in both else []),
        "| harmonic fit: beats that one triad or dominant seventh explains | " + " | ".join(
            mean("harmonic fit", s) for s in SETS) + " |"]
    for ts in sorted({ts for s in SETS for ts in both["strong beats"][s]}):
        rows.append(f"| meter {ts}: notes of a quarter or longer on a strong beat | " + " | ".join(
            f"{both['strong beats'][s][ts]['mean']:.3f}" if ts in both["strong beats"][s]
            else "–" for s in SETS) + " |")
    rows += [
        "| parallel fifths and octaves, outer voices, per 100 beats | " + " | ".join(
            mean("parallels", s) for s in SETS) + " |",
        *(["| parallel fifths and octaves, any two voices, per 100 moves | " + " | ".join(
            mean("voice parallels", s) for s in SETS) + " |"]
          if "voice parallels" in both else []),
        *(["| false relations between the hands (a note, then its chromatic alteration in "
           "the other hand), per 100 onsets | " + " | ".join(
            f"{both['false relations'][s]:.2f}" for s in SETS) + " |"]
          if "false relations" in both else []),
        "| crossings: bass above the treble's lowest note (share of onsets) | " + " | ".join(
            mean("crossings", s) for s in SETS) + " |",
        "| treble notes on ledger lines (share) | " + " | ".join(
            mean("ledger lines", s) for s in SETS) + " |"]
    by_key = ["crossings by key", "ledger lines by key"]
    if "hands apart" in both:  # reports made before the measure lack it
        rows.append("| hands more than an octave apart (share of beats) | " + " | ".join(
            mean("hands apart", s) for s in SETS) + " |")
        by_key.append("hands apart by key")
    if "wide left hand" in both:
        rows += ["| left-hand notes on ledger lines, piano staves (share) | " + " | ".join(
                     mean("left-hand ledger lines", s) for s in SETS) + " |",
                 *(["| right-hand notes on ledger lines, piano staves (share) | " + " | ".join(
                     mean("right-hand ledger lines", s) for s in SETS) + " |"]
                   if "right-hand ledger lines" in both else []),
                 *(["| right-hand ties per bar, piano staves (as engraved) | " + " | ".join(
                     mean("right-hand ties", s) for s in SETS) + " |",
                     "| left-hand ties per bar, piano staves (as engraved) | " + " | ".join(
                     mean("left-hand ties", s) for s in SETS) + " |"]
                   if "left-hand ties" in both else []),
                 "| left hand wider than a ninth, piano staves (share of beats) | "
                 + " | ".join(mean("wide left hand", s) for s in SETS) + " |"]
        if "left hand past a tenth" in both:
            rows += ["| left hand wider than a major tenth, piano staves (share of beats) | "
                     + " | ".join(mean("left hand past a tenth", s) for s in SETS) + " |"]
    if "left-hand ledger lines by key" in both:
        by_key.append("left-hand ledger lines by key")
    titles = {"crossings by key": "crossings", "ledger lines by key": "treble ledger lines",
              "hands apart by key": "hands more than an octave apart",
              "left-hand ledger lines by key": "left-hand ledger lines (piano staves)"}
    named = [titles[name] for name in by_key]
    rows += ["", "By requested key (model / 4-gram): " + ", ".join(named[:-1]) + " and "
             + named[-1] + ":", "",
             "| key | " + " | ".join(f"{name.removesuffix(' by key')} {s}" for name in by_key
                                    for s in ("model", "4-gram")) + " |",
             "|---|" + "---|" * (2 * len(by_key))]
    for key in both["crossings by key"]["model"]:
        rows.append(f"| {key} | " + " | ".join(
            f"{both[name][s][key]:.3f}" for name in by_key for s in ("model", "ngram")) + " |")
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
                label = reference_label(result) if s == "corpus" else LABELS[s]
                ax.bar(x + offset, hist[s], width=0.27, label=label)
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
        label = reference_label(result) if s == "corpus" else LABELS[s]
        ax.set_title(f"{label} (first {BARS} bars, reference key)", fontsize=10)
        ax.set_xlabel("quarter notes")
    axes[0].set_ylabel("MIDI pitch (blue treble, orange bass)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
