"""The ``grandstaff`` command: argument parsing only; every command calls the library.

Exit codes: 0 success, 2 bad input or arguments (one line on stderr), 1 an unexpected failure.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .bounds import (
    MAX_BARS,
    MAX_TEMPERATURE,
    MAX_TEMPO,
    MIN_TEMPERATURE,
    MIN_TEMPO,
    PAGE_MAX_BARS,
)
from .composing.sampling import DURATION_TEMPERATURE
from .errors import BadArgumentError, GrandstaffError
from .music.hands import STAFF_SPLITS

EPILOG = "Run 'grandstaff COMMAND --help' for the options of one command."


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        self.exit(2, f"grandstaff: error: {message} (see --help)\n")


def _number(convert=int, *, least: float | None = None, above: float | None = None,
            most: float | None = None, label: str = ""):
    """An argparse type: ``convert`` the text, then hold it to a bound, or say why not."""
    noun = "a whole number" if convert is int else "a number"

    def parse(text: str):
        shown = f"{label} {text!r}" if label else repr(text)
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{shown} is not {noun}") from None
        if least is not None and not value >= least:
            if most is not None:
                raise argparse.ArgumentTypeError(f"{shown} must be from {least:g} to {most:g}")
            raise argparse.ArgumentTypeError(f"{shown} must be {least} or more")
        if most is not None and not value <= most:
            raise argparse.ArgumentTypeError(f"{shown} must be from {least:g} to {most:g}")
        if above is not None and not value > above:
            raise argparse.ArgumentTypeError(f"{shown} must be above {above:g}")
        return value

    return parse


_seed = _number(least=0, label="seed")
_count = _number(least=0)
_positive_int = _number(least=1)
_positive_float = _number(float, above=0)
_port = _number(least=1, most=65535, label="port")
_device_count = _number(least=1, label="devices")
_bars = _number(least=1, most=MAX_BARS, label="bars")
_tempo = _number(float, least=MIN_TEMPO, most=MAX_TEMPO, label="tempo")
_temperature = _number(float, least=MIN_TEMPERATURE, most=MAX_TEMPERATURE, label="temperature")


def _devices(text: str):
    return "all" if text == "all" else _device_count(text)


def build_parser() -> argparse.ArgumentParser:
    """The ``grandstaff`` parser: one ``_add_<command>`` per subcommand, with shared parent
    parsers for the options several commands take."""
    parser = _Parser(
        prog="grandstaff",
        description="Learn piano music and write new pieces as printable grand-staff scores.",
        epilog=EPILOG,
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"grandstaff {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    parents = _parents()
    for add in (_add_ingest, _add_train, _add_evaluate, _add_compose, _add_harmonize,
                _add_serve):
        add(commands, parents)
    return parser


def _parents() -> dict[str, argparse.ArgumentParser]:
    """Parent parsers of the options shared by several commands."""
    from .backend import default_compilation_cache
    from .output.engrave import ENGRAVERS

    compiled = _Parser(add_help=False)
    compiled.add_argument(
        "--jax-cache", default=str(default_compilation_cache()), metavar="DIR",
        help="keep JAX's compiled programs here so that later runs start faster "
             "(default: %(default)s)")
    compiled.add_argument("--no-jax-cache", action="store_true",
                          help="compile everything afresh and keep nothing")
    models = _Parser(add_help=False)
    models.add_argument("--models", default="bach",
                        help="model set: a name under clefs/ or a folder (default: bach)")
    engraver = _Parser(add_help=False)
    engraver.add_argument("--engraver", choices=ENGRAVERS, default="lilypond",
                          help="engraves the PDFs: lilypond (default) or musescore")
    return {"compiled": compiled, "models": models, "engraver": engraver}


def _add_ingest(commands, parents: dict) -> None:
    ingest = commands.add_parser(
        "ingest", help="read a corpus into token tables (cached under data/)",
        description="Read a corpus, split every piece into treble and bass staves, transpose "
                    "it to C major / A minor, and cache the token tables under data/. Bad files "
                    "are skipped with a reason.",
    )
    ingest.add_argument("source", nargs="?", default="bach",
                        help="'bach' (the chorales music21 ships; default), a folder or a file "
                             "of .mid .midi .mxl .musicxml .xml .krn .abc")
    ingest.add_argument("--json", action="store_true", help="print a machine-readable summary")
    ingest.add_argument("--cache", default="data", help="cache folder (default: data)")
    ingest.add_argument("--no-cache", action="store_true", help="read every file again")
    ingest.add_argument("--workers", type=_positive_int, default=None,
                        help="processes to read with (default: every core)")
    ingest.add_argument("--timeout", type=_positive_float, default=60, metavar="SECONDS",
                        help="skip a file that takes longer than this to read (default 60)")
    ingest.add_argument("--memory-mb", type=_positive_int, default=2048, metavar="MB",
                        help="skip a file that needs more memory than this to read "
                             "(default 2048)")
    ingest.add_argument("--max-events", type=_count, default=10_000_000, metavar="N",
                        help="refuse a corpus of more events than this, before it fills the "
                             "memory (default 10000000; 0 lifts the bound)")
    ingest.add_argument("--follow-links", action="store_true",
                        help="follow symbolic links inside the source (by default a link is "
                             "skipped with a reason, so nothing outside the folder is read)")
    ingest.set_defaults(run=_ingest)



def _add_train(commands, parents: dict) -> None:
    train = commands.add_parser(
        "train", parents=[parents["compiled"]], help="train one model per clef on a corpus",
        description="Train the treble and bass models on a corpus (split by piece into "
                    "training and held-out pieces) and save them to your data folder "
                    "(~/.local/share/grandstaff/clefs/NAME/ unless --out says otherwise).",
    )
    train.add_argument("source", nargs="?", default="bach",
                       help="'bach' (default), a folder or a file of music")
    train.add_argument("--name", required=True,
                       help="model set name: a plain folder name, e.g. mine")
    train.add_argument("--epochs", type=_positive_int, default=None,
                       help="most epochs (default 100; training stops early on a plateau)")
    train.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    train.add_argument("--out", default=None,
                       help="folder of model sets (default: your data folder, "
                            "$XDG_DATA_HOME/grandstaff/clefs or ~/.local/share/grandstaff/"
                            "clefs; --models NAME finds sets there)")
    train.add_argument("--force", action="store_true", help="replace an existing model set")
    train.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    train.add_argument("--devices", type=_devices, default=None, metavar="N|all",
                       help="split every batch across N accelerators (GPUs, TPUs), or all of "
                            "them, with keras.distribution.DataParallel (default: one)")
    train.add_argument("--multi-host", action="store_true",
                       help="run as one of several hosts training together (jax.distributed): "
                            "set KERAS_DISTRIBUTION_JOB_ADDRESSES, _NUM_PROCESSES and "
                            "_PROCESS_ID on each, and run the same command with --devices all; "
                            "the first host saves the set")
    train.add_argument("--follow-links", action="store_true",
                       help="follow symbolic links inside the source (skipped by default)")
    train.set_defaults(run=_train)



def _add_evaluate(commands, parents: dict) -> None:
    evaluate = commands.add_parser(
        "evaluate", parents=[parents["compiled"], parents["models"]],
        help="held-out likelihood of a model set against n-gram baselines",
        description="Score a model set on its held-out pieces: negative log-likelihood per "
                    "event (nats), perplexity and top-1 accuracy for each clef and head, beside "
                    "interpolated Kneser-Ney n-grams (1- to 4-gram) fitted on the same split.",
    )
    evaluate.add_argument("--json", action="store_true", help="print the results as JSON")
    mode = evaluate.add_mutually_exclusive_group()
    mode.add_argument("--samples", type=_positive_int, default=None,
                          help="judge the music instead: compose N pieces (50 is a good "
                               "number) and compare them with held-out pieces and the n-gram "
                               "baseline (distributions, consonance, mode, novelty)")
    evaluate.add_argument("--seed", type=_seed, default=0, help="seed of the samples (default 0)")
    evaluate.add_argument("--report", default=None,
                          help="with --samples: write a Markdown report and PNG figures here, "
                               "e.g. docs/quality.md; with --folds: the margins table")
    mode.add_argument("--folds", type=_positive_int, default=None,
                          help="cross-validate instead: train both clefs afresh on K folds by "
                               "piece with the set's configuration and corpus, coupled and "
                               "independent, and report the mean and spread of their margins "
                               "over the best n-gram (5 is usual; hours on a CPU: every trained "
                               "model's scores are kept as it finishes, so the same command "
                               "run again, after Ctrl-C or --runs, continues)")
    evaluate.add_argument("--no-rules", dest="rules", action="store_false",
                          help="with --samples: compose with the models alone, as "
                               "'compose --no-rules' does")
    evaluate.add_argument("--reharmonize", action="store_true",
                          help="with --samples: also harmonise the soprano of every held-out "
                               "piece with the set and with the 4-gram, and compare them with "
                               "the pieces' own settings (a section of the report)")
    evaluate.add_argument("--epochs", type=_positive_int, default=None,
                          help="with --folds: at most this many epochs per model (default: the "
                               "set's own)")
    evaluate.add_argument("--runs", type=_count, default=None,
                          help="with --folds: train at most this many of the 4K models now "
                               "and report the folds done so far (0: only report); the same "
                               "command again continues (so does one stopped with Ctrl-C)")
    evaluate.add_argument("--store", default=None,
                          help="with --folds: the JSON file that keeps every trained model's "
                               "scores as it finishes (default: data/folds-<settings>.json, "
                               "found again by the same command)")
    evaluate.set_defaults(run=_evaluate)



def _add_sampling(command, made: str) -> None:
    """The tempo, sampling and staff options ``compose`` and ``harmonize`` share; ``made``:
    what the command writes (for the seed's help)."""
    command.add_argument("--tempo", type=_tempo, default=96,
                         help=f"quarter notes per minute, {MIN_TEMPO:g} to {MAX_TEMPO:g} "
                              "(default 96)")
    command.add_argument("--seed", type=_seed, default=None,
                         help=f"random seed; the same seed writes the same {made}")
    command.add_argument("--top-k-pitch", type=_positive_int, default=10,
                         help="sample pitches from the k most likely (default 10)")
    command.add_argument("--top-k-duration", type=_positive_int, default=5,
                         help="sample durations from the k most likely (default 5)")
    command.add_argument("--temperature", type=_temperature, default=1.0,
                         help="above 1 bolder, below 1 safer, from "
                              f"{MIN_TEMPERATURE:g} to {MAX_TEMPERATURE:g} (default 1.0; "
                              "the right hand's durations are drawn at "
                              f"{DURATION_TEMPERATURE['treble']:g} of it)")
    command.add_argument("--staves", choices=STAFF_SPLITS, default="piano",
                         help="piano (default): the tenor written in the right hand where "
                              "that hand then spans an octave or less and the left would need "
                              "ledger lines or stretch past a ninth (the sound is the same); "
                              "as-sampled: soprano and alto in the right hand, tenor and bass "
                              "in the left, as the models wrote them")


def _add_compose(commands, parents: dict) -> None:
    compose = commands.add_parser(
        "compose", help="write a new piano piece (MusicXML, MIDI, PDF)",
        parents=[parents["compiled"], parents["models"], parents["engraver"]],
        description="Compose a piece for piano with a model set and write it as MusicXML, "
                    "MIDI and PDF sheet music (plus a PNG of the first page).",
    )
    compose.add_argument("--bars", type=_bars, default=16,
                         help=f"bars, 1 to {MAX_BARS} (default 16; the web page: at most "
                              f"{PAGE_MAX_BARS})")
    compose.add_argument("--key", default="C major",
                         help="key, e.g. 'E minor', 'Bb major', 'f#' (default 'C major')")
    compose.add_argument("--time", default="4/4", help="time signature (default 4/4)")
    _add_sampling(compose, "piece")
    compose.add_argument("--candidates", type=_positive_int, default=8,
                         help="pieces sampled in one batch; the first that music21's key "
                              "analysis hears in the requested mode is written (default 8; "
                              "1 writes the first sample as it is)")
    compose.add_argument("--ending", choices=("cadence", "open"), default="cadence",
                         help="cadence (default): close on the tonic chord, the tonic in the "
                              "bass; open: stop wherever the last bar ends")
    compose.add_argument("--form", default="auto", metavar="LETTERS",
                         help="a letter per phrase, e.g. AABA or ABAB' (--bars divides into "
                              "them evenly): a repeated letter restates the earlier phrase's "
                              "melody under new harmony, a primed one (B') keeps its first "
                              "half and ends differently; auto (default): a phrase of the "
                              "plan as long as an earlier one restates it, a quarter of the "
                              "bars at most; none: nothing comes back")
    compose.add_argument("--phrases", default="auto", metavar="PLAN",
                         help="where the piece breathes: auto (default) draws phrase lengths "
                              "from the corpus's own for the meter; bars per phrase such as "
                              "4,4,2,2 (adding up to --bars) sets them; none composes without "
                              "a plan. The models hear how far each phrase end is")
    compose.add_argument("--pickup", default="auto", metavar="QUARTERS",
                         help="how the piece opens: auto (default) with a pickup as often "
                              "as the corpus's pieces in the meter do (most 4/4 chorales open "
                              "with one beat); none on the downbeat; a length in quarters "
                              "such as 1 or 1/2. The first bar holds it (an anacrusis)")
    compose.add_argument("--no-fermatas", dest="fermatas", action="store_false",
                         help="leave the fermatas off the phrase ends (the plan still shapes "
                              "the music; the MIDI keeps an even tempo)")
    compose.add_argument("--no-rules", dest="rules", action="store_false",
                         help="sample the models alone: only the rules a valid piece needs "
                              "stay (--list-rules marks them essential); the ending still "
                              "follows --ending")
    compose.add_argument("--list-rules", action="store_true",
                         help="print the sampling rules in the order they apply and exit")
    compose.add_argument("--primer", default=None,
                         help="a music file or 'bach:PIECE' that conditions the start")
    compose.add_argument("--formats", default="musicxml,midi,pdf",
                         help="comma-separated: musicxml, midi, pdf, png, svg, wav (default "
                              "musicxml,midi,pdf; a PDF comes with a PNG preview; svg is the "
                              "whole score drawn in process by Verovio, no engraver needed; "
                              "wav is the piece played by a SoundFont piano)")
    compose.add_argument("--soundfont", default=None,
                         help="an .sf2 SoundFont for --formats wav (default: the General MIDI "
                              "one that pip installs with pretty-midi)")
    compose.add_argument("--out", default=None,
                         help="output path without suffix (default scores/<key>-<seed>)")
    compose.add_argument("--title", default=None, help="title on the score")
    compose.add_argument("--composer", default=None, help="composer line on the score")
    compose.add_argument("--force", action="store_true", help="overwrite existing files")
    compose.set_defaults(run=_compose)



def _add_harmonize(commands, parents: dict) -> None:
    harmonize = commands.add_parser(
        "harmonize", help="set a given melody for piano: the tune on top, both hands under it",
        parents=[parents["compiled"], parents["models"], parents["engraver"]],
        description="Harmonise a melody: the top line of the first part of MELODY (a MIDI, "
                    "MusicXML, kern or ABC file), or a tune typed with --abc, becomes the top "
                    "voice of a two-hand piano piece; the models write the alto under it and "
                    "the whole left hand, with every sampling rule on. Key, meter and a pickup "
                    "come from the melody unless given. Written as MusicXML, MIDI and PDF.",
        epilog="example: grandstaff harmonize --abc 'X:1\\nM:3/4\\nK:G\\nD|G2A B2c|d4 B2|]' "
               "--seed 3",
    )
    harmonize.add_argument("melody", nargs="?", default=None,
                           help="a music file whose first part's top line is the melody")
    harmonize.add_argument("--abc", default=None, metavar="TUNE",
                           help="the melody typed as ABC instead of a file (\\n between "
                                "lines; no chords)")
    harmonize.add_argument("--key", default=None,
                           help="move the melody to this key of its mode (default: its own)")
    harmonize.add_argument("--time", default=None,
                           help="read the melody in this time signature (default: its own)")
    _add_sampling(harmonize, "setting")
    harmonize.add_argument("--candidates", type=_positive_int, default=8,
                           help="settings sampled in one batch; the first that keeps every "
                                "melody note and sounds in its mode is written (default 8)")
    harmonize.add_argument("--no-rules", dest="rules", action="store_false",
                           help="the models alone under the essential rules (the melody is "
                                "one of them)")
    harmonize.add_argument("--formats", default="musicxml,midi,pdf",
                           help="comma-separated: musicxml, midi, pdf, png, svg, wav (default "
                                "musicxml,midi,pdf)")
    harmonize.add_argument("--soundfont", default=None, help="an .sf2 SoundFont for wav")
    harmonize.add_argument("--out", default=None,
                           help="output path without suffix "
                                "(default scores/harmonised-<key>-<seed>)")
    harmonize.add_argument("--title", default=None,
                           help="title on the score (default: the melody's own, if it has one)")
    harmonize.add_argument("--composer", default=None, help="composer line on the score")
    harmonize.add_argument("--force", action="store_true", help="overwrite existing files")
    harmonize.set_defaults(run=_harmonize)


def _add_serve(commands, parents: dict) -> None:
    serve = commands.add_parser(
        "serve", help="a local web page to compose, hear and transpose",
        parents=[parents["compiled"], parents["models"], parents["engraver"]],
        description="Serve a web page on this machine that composes with the musical "
                    "controls of 'compose' (key, meter, tempo, bars, seed, ending, model set, "
                    "temperature, top-k, candidates, a Bach primer; at most 64 bars and 10 "
                    "minutes of audio), shows the score, plays it on request, transposes it and "
                    "changes its tempo, and offers MusicXML, MIDI, PDF and WAV. Needs the app "
                    "extra: pip install 'grandstaff[app]'.",
    )
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    serve.add_argument("--out", default="scores/web",
                       help="folder the pieces are written into, one folder each "
                            "(default: scores/web)")
    serve.add_argument("--keep", type=_positive_int, default=256, metavar="N",
                       help="keep the newest N pieces under --out and remove older ones, so "
                            "the folder cannot grow without bound (default 256)")
    serve.add_argument("--keep-mb", type=_positive_float, default=500, metavar="MB",
                       help="and at most this many megabytes of them (default 500)")
    serve.add_argument("--budget", type=float, default=120, metavar="SECONDS",
                       help="seconds one piece may take to compose and write (1 to 3600, "
                            "default 120); past them, or when the page that asked is closed, "
                            "the work is stopped and nothing is kept")
    serve.add_argument("--no-warm-up", action="store_true",
                       help="start listening at once; the first piece then waits for the "
                            "models to load and the sampler to compile")
    serve.set_defaults(run=_serve)


def _ingest(args) -> int:
    from .corpus import load_corpus

    corpus = load_corpus(args.source, cache_dir=None if args.no_cache else args.cache,
                         workers=args.workers, progress=not args.json, timeout=args.timeout,
                         memory_mb=args.memory_mb, max_events=args.max_events or None,
                         follow_links=args.follow_links)
    summary = corpus.summary()
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"{summary['pieces']} pieces in {summary['seconds']:.2f} s"
          f"{' (from the cache)' if corpus.cached else ''}; modes: "
          + ", ".join(f"{n} {m}" for m, n in summary["modes"].items()))
    for clef in ("treble", "bass"):
        vocab = summary["vocabulary"][clef]
        print(f"  {clef:6}  {summary['events'][clef]:7d} events, {vocab['pitch']} pitch tokens, "
              f"{vocab['duration']} duration tokens")
    print(f"  durations snapped to the grid: {summary['duration_snaps']}")
    if corpus.skipped:
        print(f"  skipped {len(corpus.skipped)} files:")
        for path, reason in corpus.skipped:
            print(f"    {path}: {reason}")
    return 0


def _train(args) -> int:
    from pathlib import Path

    from .corpus import load_corpus
    from .errors import OutputExistsError
    from .models.model import ClefConfig, user_models_folder
    from .models.training import check_set_name, data_parallel, train

    check_set_name(args.name)  # before anything starts a thread or a process
    args.out = args.out or str(user_models_folder())
    target = Path(args.out) / args.name
    if target.exists() and not args.force:
        raise OutputExistsError(f"model set {target} exists already; pass --force to replace it")
    if args.multi_host:
        from .backend import join_hosts

        join_hosts()
    data_parallel(args.devices, ClefConfig().batch_size)  # refused before reading the corpus
    corpus = load_corpus(args.source, progress=not args.quiet, follow_links=args.follow_links)
    models = train(corpus, name=args.name, epochs=args.epochs, seed=args.seed, out=args.out,
                   source=str(args.source), verbose=0 if args.quiet else 2,
                   devices=args.devices)
    for clef, model in models.items():
        epochs = model.metrics["epochs_run"]
        print(f"{clef}: {model.path} ({epochs} epoch{'' if epochs == 1 else 's'}, "
              f"{model.metrics['train_seconds']:.0f} s)")
    return 0


def _evaluate(args) -> int:
    from .errors import BadArgumentError

    if args.folds is not None:  # argparse keeps --folds and --samples apart
        if not args.rules:
            raise BadArgumentError("--no-rules needs --samples N (cross-validation samples "
                                   "nothing)")
        return _cross_validate(args)
    for given, name in ((args.epochs, "--epochs"), (args.runs, "--runs"),
                        (args.store, "--store")):
        if given is not None:
            raise BadArgumentError(f"{name} needs --folds K (only cross-validation trains)")
    if args.samples is not None:
        return _judge(args)
    if args.reharmonize:
        raise BadArgumentError("--reharmonize needs --samples N (it is a section of the "
                               "music's report)")
    if not args.rules:
        raise BadArgumentError("--no-rules needs --samples N (only judging the music samples)")
    if args.report:
        raise BadArgumentError("--report needs --samples N (the report is about composed pieces)")
    from .models.evaluation import evaluate, format_report

    report = evaluate(models=args.models)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def _cross_validate(args) -> int:
    from dataclasses import replace
    from pathlib import Path

    from .corpus import load_corpus
    from .files import write_text_atomic
    from .models.folds import (
        check_folds,
        cross_validate,
        default_store,
        fold_settings,
        format_folds,
    )
    from .models.model import load_models

    check_folds(args.folds)  # before the models and the corpus are read
    treble = load_models(args.models)["treble"]
    corpus = load_corpus(treble.metrics.get("source", "bach"), progress=not args.json)
    config = treble.config if args.epochs is None else replace(treble.config,
                                                               epochs=args.epochs)
    store = Path(args.store) if args.store else default_store(
        fold_settings(corpus, folds=args.folds, seed=args.seed, config=config))
    print(f"each trained model's scores are kept in {store}; the same command continues "
          "from there", file=sys.stderr)
    result = cross_validate(corpus, folds=args.folds, seed=args.seed, config=config,
                            progress=not args.json, store=store, max_runs=args.runs,
                            verbose=0 if args.json else 2)  # a line per epoch: hours of work
    table = format_folds(result)
    if args.report:
        path = Path(args.report)
        write_text_atomic(path, table + "\n")
        write_text_atomic(path.with_suffix(".json"), json.dumps(result, indent=2) + "\n")
        print(f"wrote {path} and {path.with_suffix('.json')}", file=sys.stderr)
    print(json.dumps(result, indent=2) if args.json else table)
    if result["runs"]["interrupted"]:
        return 130
    return 0


def _judge(args) -> int:
    from .judging.compare import format_quality, judge, write_report

    result = judge(models=args.models, samples=args.samples, seed=args.seed,
                   progress=not args.json, rules=args.rules)
    if args.reharmonize:
        from .judging.reharmonizing import reharmonize

        result["reharmonization"] = reharmonize(models=args.models, seed=args.seed,
                                                progress=not args.json, rules=args.rules)
    written = write_report(result, args.report) if args.report else []
    if args.json:
        shown = {k: v for k, v in result.items() if k != "examples"}
        print(json.dumps(shown, indent=2, default=str))
    else:
        print(format_quality(result))
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    return 0


def _compose(args) -> int:
    from contextlib import nullcontext

    if args.list_rules:
        from .composing.rules import rules_table

        print(rules_table())
        return 0

    from .composing.composer import check_bars, check_candidates, compose
    from .composing.piece import check_outputs, parse_formats
    from .music.keys import Key
    from .output.engrave import Engraver, check_engraver
    from .text import clean_text

    formats = parse_formats(args.formats)
    check_engraver(args.engraver)
    if "wav" in formats:
        _check_audio(args.soundfont, args.bars, args.time, args.tempo)
    check_candidates(args.candidates, check_bars(args.bars))
    from .composing.form import parse_form

    parse_form(args.form, args.bars)
    from .composing.phrasing import parse_phrases, parse_pickup

    parse_phrases(args.phrases, args.bars)
    parse_pickup(args.pickup, args.time)
    key = Key.parse(args.key)
    for text, what in ((args.title, "title"), (args.composer, "composer")):
        if text is not None:
            clean_text(text, what)
    if args.out is not None:  # a path that cannot be written is refused before composing
        check_outputs(args.out, formats, force=args.force)
    if args.seed is None:  # drawn here, so that an interrupted run can say which it was
        import numpy as np

        args.seed = int(np.random.SeedSequence().entropy % (2**31))
    # the engraver gets ready (LilyPond's converter starts) while the piece is composed
    engraved = "pdf" in formats or "png" in formats
    with Engraver(args.engraver) if engraved else nullcontext() as engraver:
        piece = compose(bars=args.bars, key=key, tempo=args.tempo, time_signature=args.time,
                        seed=args.seed, models=args.models, top_k_pitch=args.top_k_pitch,
                        top_k_duration=args.top_k_duration, temperature=args.temperature,
                        primer=args.primer, title=args.title, composer=args.composer,
                        candidates=args.candidates, ending=args.ending, rules=args.rules,
                        form=args.form, staves=args.staves, phrases=args.phrases,
                        fermatas=args.fermatas, pickup=args.pickup)
        out = args.out or (f"scores/{key.tonic.replace('#', 's')}-{key.mode}-"
                           f"seed{piece.info['seed']}")
        written = _write(args, piece, out, formats, engraver)
    heard = ("" if piece.info["mode_matched"] else
             f"; none of the {piece.info['candidates']} candidates sounded {key.mode} to "
             "music21's key analysis (try another --seed or more --candidates)")
    print(f"{piece.title}: {piece.bars} bars, {piece.time_signature}, {piece.tempo:g} bpm, "
          f"seed {piece.info['seed']}{heard}")
    for path in written.values():
        print(path)
    return 0


def _check_audio(soundfont, bars: int, time_signature: str, tempo: float) -> None:
    """Refuse a SoundFont that cannot be read or audio past its bound, before composing."""
    from .bounds import check_audio_length
    from .music.events import bar_length
    from .output.audio import check_soundfont

    check_soundfont(soundfont)
    check_audio_length(bars * bar_length(time_signature), tempo)


def _write(args, piece, out: str, formats, engraver) -> dict:
    """Write ``piece``'s ``formats`` to ``out``; an interruption names the seed and the files
    it kept, a failed engraving the files it wrote."""
    import time

    from .composing.piece import EngravingFailed, output_paths

    # where the files will go, to name those kept if interrupted; whether they may be
    # written is decided under the folder's lock, in Piece.write
    targets = output_paths(out, formats)
    started = time.time()
    try:
        return piece.write(out, formats=formats, engraver=engraver or args.engraver,
                           soundfont=args.soundfont, force=args.force)
    except EngravingFailed as exc:
        for path in exc.written.values():
            print(path)
        raise
    except (KeyboardInterrupt, _Terminated) as exc:
        exc.kept = [t for t in targets.values()  # type: ignore[union-attr]
                    if t.is_file() and t.stat().st_mtime >= started - 1]
        exc.seed = piece.info["seed"]  # type: ignore[union-attr]
        raise


def _harmonize(args) -> int:
    from contextlib import nullcontext

    from .composing.composer import check_candidates
    from .composing.harmonizing import as_melody, harmonize
    from .composing.piece import check_outputs, parse_formats
    from .music.keys import Key
    from .output.engrave import Engraver, check_engraver
    from .text import clean_text

    if (args.melody is None) == (args.abc is None):
        raise BadArgumentError("give a melody file or --abc TUNE (one of them)")
    formats = parse_formats(args.formats)
    check_engraver(args.engraver)
    for text, what in ((args.title, "title"), (args.composer, "composer")):
        if text is not None:
            clean_text(text, what)
    if args.out is not None:
        check_outputs(args.out, formats, force=args.force)
    key = Key.parse(args.key) if args.key is not None else None
    tune = as_melody(args.abc if args.abc is not None else args.melody, key=key,
                     time_signature=args.time, abc=args.abc is not None)
    check_candidates(args.candidates, tune.bars)
    if "wav" in formats:
        _check_audio(args.soundfont, tune.bars, tune.time_signature, args.tempo)
    if args.seed is None:
        import numpy as np

        args.seed = int(np.random.SeedSequence().entropy % (2**31))
    engraved = "pdf" in formats or "png" in formats
    with Engraver(args.engraver) if engraved else nullcontext() as engraver:
        piece = harmonize(tune, tempo=args.tempo, seed=args.seed, models=args.models,
                          top_k_pitch=args.top_k_pitch, top_k_duration=args.top_k_duration,
                          temperature=args.temperature, candidates=args.candidates,
                          rules=args.rules, title=args.title, composer=args.composer,
                          staves=args.staves)
        out = args.out or (f"scores/harmonised-{tune.key.tonic.replace('#', 's')}-"
                           f"{tune.key.mode}-seed{piece.info['seed']}")
        written = _write(args, piece, out, formats, engraver)
    kept = piece.info["melody_kept"]
    print(f"{piece.title}: {piece.bars} bars, {piece.time_signature}, {piece.key}, "
          f"{piece.tempo:g} bpm, seed {piece.info['seed']}; {piece.info['melody_notes']} "
          f"melody notes, {kept:.0%} kept on top; ends {piece.info['ending']}")
    for path in written.values():
        print(path)
    return 0


def _serve(args) -> int:
    from .bounds import check_budget
    from .serving.web import serve

    seconds = check_budget(args.budget)
    serve(host=args.host, port=args.port, out=args.out, models=args.models,
          engraver=args.engraver, warm_up=not args.no_warm_up, keep=args.keep,
          keep_mb=args.keep_mb, seconds=seconds)
    return 0


def _one_line(fallback):
    """A ``warnings.showwarning`` that prints grandstaff's own warnings as one line."""
    from .errors import GrandstaffWarning

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        if issubclass(category, GrandstaffWarning):
            print(f"grandstaff: warning: {message}", file=sys.stderr)
        else:
            fallback(message, category, filename, lineno, file, line)

    return show


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that temporary files and child processes are cleaned up."""


def _stop_on_sigterm():
    """Make SIGTERM raise :class:`_Terminated`; returns a function that undoes it."""
    import signal
    import threading

    def stop(signum, frame):
        raise _Terminated()

    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.signal(signal.SIGTERM, stop)
    return lambda: signal.signal(signal.SIGTERM, previous)


def _kept(exc: BaseException) -> str:
    """What an interrupted command leaves: the finished files it kept, and the seed."""
    kept = getattr(exc, "kept", [])
    seed = getattr(exc, "seed", None)
    said = f" (seed {seed})" if seed is not None else ""
    if kept:
        return (f"{said}; kept the finished {', '.join(str(p) for p in kept)}; nothing "
                "half-written was left")
    return f"{said}; nothing half-written was left"


def main(argv: Sequence[str] | None = None) -> int:
    import gc
    import warnings

    from .errors import GrandstaffWarning

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version, or a bad argument (already reported)
        return int(exit_.code or 0)
    if not getattr(args, "run", None):  # no command: the help, and a code that says so
        parser.print_help(sys.stderr)
        return 2
    # a compose lives seconds and allocates much (imports, tracing, the score): Python's cycle
    # collector cost it about 0.2 s and saved 3 MB, so it waits until the command is done
    pause_collector = args.run is _compose and gc.isenabled()
    shown = warnings.showwarning
    restore = _stop_on_sigterm()
    try:
        if pause_collector:
            gc.disable()
        if getattr(args, "jax_cache", None) and not args.no_jax_cache:
            from .backend import use_compilation_cache

            use_compilation_cache(args.jax_cache)
        with warnings.catch_warnings():
            warnings.simplefilter("always", GrandstaffWarning)
            warnings.showwarning = _one_line(shown)
            return args.run(args)
    except GrandstaffError as exc:
        print(f"grandstaff: error: {exc}", file=sys.stderr)
        return 2
    except _Terminated as exc:
        print(f"grandstaff: stopped (SIGTERM){_kept(exc)}", file=sys.stderr)
        return 143
    except KeyboardInterrupt as exc:
        print(f"grandstaff: interrupted{_kept(exc)}", file=sys.stderr)
        return 130
    except OSError as exc:  # a full disk, say: one line, no traceback
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"grandstaff: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    finally:
        restore()
        if pause_collector:
            gc.enable()


if __name__ == "__main__":
    sys.exit(main())
