"""The ``grandstaff`` command: argument parsing only; every command calls the library.

Exit codes: 0 success, 2 bad input or arguments (one line on stderr), 1 an unexpected failure.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .errors import GrandstaffError

EPILOG = "Run 'grandstaff COMMAND --help' for the options of one command."


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        self.exit(2, f"grandstaff: error: {message} (see --help)\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be 1 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="grandstaff",
        description="Learn piano music and write new pieces as printable grand-staff scores.",
        epilog=EPILOG,
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"grandstaff {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

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
    ingest.set_defaults(run=_ingest)
    return parser


def _ingest(args) -> int:
    from .corpus import load_corpus

    corpus = load_corpus(args.source, cache_dir=None if args.no_cache else args.cache,
                         workers=args.workers, progress=not args.json)
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 0
    try:
        return args.run(args)
    except GrandstaffError as exc:
        print(f"grandstaff: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("grandstaff: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
