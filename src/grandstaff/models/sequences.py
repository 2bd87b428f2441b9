"""Token sequences as model inputs: the split by piece, transposed copies, vocabularies,
encoded arrays, training chunks and padded batches of whole pieces.

Shared by training, evaluation and judging, so none of them imports another for these.

>>> import numpy as np
>>> make_chunks([np.array([[1, 5, 6, 7], [1, 3, 3, 4]])], length=2)["pitch"].tolist()
[[5, 6], [7, 0]]
"""

from __future__ import annotations

import numpy as np

from ..corpus import Corpus
from ..errors import BadInputError
from ..music.events import REST, format_pitches, is_special, parse_pitch_token
from ..music.vocab import Vocabulary
from .model import ClefVocab

Sequences = list[tuple[list[str], list[str]]]


def split_pieces(corpus: Corpus, share: float, seed: int) -> tuple[list[str], list[str]]:
    """(training pieces, held-out pieces): a split by piece, never by window."""
    from sklearn.model_selection import GroupShuffleSplit

    names = np.array(corpus.piece_names())
    if len(names) < 2:
        raise BadInputError("training needs at least two pieces (one is held out)")
    splitter = GroupShuffleSplit(n_splits=1, test_size=share, random_state=seed)
    train_index, held_index = next(splitter.split(names, groups=names))
    return sorted(names[train_index].tolist()), sorted(names[held_index].tolist())


def _shifted(token: str, shift: int) -> str | None:
    """A pitch token moved by ``shift`` semitones (None if a note leaves MIDI 0..127)."""
    if is_special(token) or token == REST:
        return token
    pitches, held = parse_pitch_token(token)
    moved = [p + shift for p in pitches]
    if min(moved) < 0 or max(moved) > 127:
        return None
    return format_pitches(moved, [p + shift for p in held])


def transposed_copies(sequences: Sequences, transpositions: tuple[int, ...]) -> Sequences:
    """Each piece moved by each number of semitones, *without* its start token.

    Sequences that open with ``<major>`` / ``<minor>`` stay in C major / A minor, so composing
    from a start token still means the reference key; the copies, like the many chunks that
    begin mid-piece, teach the model to read the key from the music itself. A copy that would
    move a note off the MIDI range is left out.
    """
    copies = []
    for shift in transpositions:
        for pitches, durations in sequences:
            moved = [_shifted(t, shift) for t in pitches[1:]]
            if None not in moved:
                copies.append((moved, durations[1:]))
    return copies


def build_vocab(corpus: Corpus, clef: str, transpositions: tuple[int, ...] = ()) -> ClefVocab:
    """Both vocabularies of ``clef`` over every piece of the corpus (the token inventory),
    with the pitch tokens of its transposed copies."""
    table = corpus.tables[clef]
    original = set(table["pitch"].astype(str))
    pitches = set(original)
    for shift in transpositions:
        pitches |= {_shifted(t, shift) for t in original} - {None}
    return ClefVocab(Vocabulary.build(pitches, head="pitch"),
                     Vocabulary.build(table["duration"].astype(str), head="duration"))


def encode_sequences(sequences: Sequences, vocab: ClefVocab) -> list[np.ndarray]:
    """Each piece as an array of shape (2, length): pitch ids and duration ids."""
    return [np.array([vocab.pitch.encode(p), vocab.duration.encode(d)], dtype="int32")
            for p, d in sequences]


def make_chunks(encoded: list[np.ndarray], length: int,
                stride: int | None = None) -> dict[str, np.ndarray]:
    """Chunks of ``length + 1`` ids, padded with 0: inputs, targets, weights.

    With ``stride`` equal to ``length`` (the default) chunks overlap by one id and every event
    of every piece is a target exactly once; a smaller stride makes each event a target in up to
    ``length / stride`` chunks, each time after a different stretch of context.
    """
    stride = stride or length
    rows = []
    for ids in encoded:
        for start in range(0, max(ids.shape[1] - 1, 1), stride):
            piece = ids[:, start:start + length + 1]
            if piece.shape[1] < 2:
                continue
            padded = np.zeros((2, length + 1), dtype="int32")
            padded[:, :piece.shape[1]] = piece
            rows.append(padded)
    if not rows:
        raise BadInputError("no training chunks: the pieces are empty")
    chunks = np.stack(rows)  # (n, 2, length + 1)
    inputs, targets = chunks[:, :, :-1], chunks[:, :, 1:]
    return {
        "pitch_in": inputs[:, 0], "duration_in": inputs[:, 1],
        "pitch": targets[:, 0], "duration": targets[:, 1],
        "weight": (targets[:, 0] != 0).astype("float32"),
    }


def pad_pieces(encoded: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Whole pieces as one padded batch (for scoring held-out pieces with all their context)."""
    longest = max(ids.shape[1] for ids in encoded)
    batch = np.zeros((len(encoded), 2, longest), dtype="int32")
    for row, ids in enumerate(encoded):
        batch[row, :, :ids.shape[1]] = ids
    inputs, targets = batch[:, :, :-1], batch[:, :, 1:]
    return {"pitch_in": inputs[:, 0], "duration_in": inputs[:, 1],
            "pitch": targets[:, 0], "duration": targets[:, 1],
            "weight": (targets[:, 0] != 0).astype("float32")}
