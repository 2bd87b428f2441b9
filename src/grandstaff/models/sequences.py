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
from ..music.events import CLEFS, PAD, REST, format_pitches, is_special, parse_pitch_token
from ..music.vocab import Vocabulary
from .conditioning import PHRASE_UNKNOWN, piece_conditions
from .model import CONDITIONS, ClefVocab

#: Per piece: (pitch tokens, duration tokens), and for a coupled model also the partner,
#: meter and position tokens and the countdown of every position, and for a model that
#: hears phrases their phrase ids (see ``conditioning.py``).
Sequences = list[tuple[list, ...]]
#: The model inputs of a coupled model beside its own tokens, in the order of the rows of an
#: encoded piece after the pitch and duration ids (the phrase row only where it hears them).
CONDITION_INPUTS: tuple[str, ...] = tuple(f"{name}_in" for name in (*CONDITIONS, "countdown",
                                                                    "phrase"))


def other_clef(clef: str) -> str:
    return CLEFS[1 - CLEFS.index(clef)]


def corpus_sequences(corpus: Corpus, clef: str, pieces: list[str] | None = None, *,
                     coupled: bool = False, phrases: bool = False) -> Sequences:
    """Each piece's sequence of ``clef`` (its start token, then its events); for a coupled
    model with its inputs, which hear the other clef of the same piece, and with ``phrases``
    the phrase ids from its fermatas (unknown where its file has none). The start token's
    inputs are padding."""
    own = corpus.sequences(clef, pieces)
    if not coupled:
        return own
    names = corpus.piece_names() if pieces is None else pieces
    other = corpus.sequences(other_clef(clef), names)
    meters = dict(zip(corpus.pieces["piece"], corpus.pieces["time_signature"]))
    result = []
    for name, mine, theirs in zip(names, own, other):
        staves = {clef: (mine[0][1:], mine[1][1:]), other_clef(clef): (theirs[0][1:],
                                                                        theirs[1][1:])}
        found = piece_conditions(staves, meters[name],
                                 corpus.fermatas(name) if phrases else None)[clef]
        rows = (*mine, [PAD, *found.partner], [PAD, *found.meter], [PAD, *found.position],
                [-1, *found.countdown])
        result.append((*rows, [0, *found.phrase]) if phrases else rows)
    return result


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
        for pitches, durations, *inputs in sequences:
            moved = [_shifted(t, shift) for t in pitches[1:]]
            if None in moved:
                continue
            if inputs:  # the partner moves with the piece; a note it loses reads as padding
                partner = [_shifted(t, shift) or PAD for t in inputs[0][1:]]
                inputs = [partner, *(row[1:] for row in inputs[1:])]
            copies.append((moved, durations[1:], *inputs))
    return copies


def _pitch_vocab(corpus: Corpus, clef: str, transpositions: tuple[int, ...]) -> Vocabulary:
    original = set(corpus.tables[clef]["pitch"].astype(str))
    pitches = set(original)
    for shift in transpositions:
        pitches |= {_shifted(t, shift) for t in original} - {None}
    return Vocabulary.build(pitches, head="pitch")


def build_vocab(corpus: Corpus, clef: str, transpositions: tuple[int, ...] = (), *,
                coupled: bool = False) -> ClefVocab:
    """Both vocabularies of ``clef`` over every piece of the corpus (the token inventory),
    with the pitch tokens of its transposed copies; for a coupled model also its inputs' (the
    partner's is the other clef's pitch vocabulary)."""
    duration = Vocabulary.build(corpus.tables[clef]["duration"].astype(str), head="duration")
    pitch = _pitch_vocab(corpus, clef, transpositions)
    if not coupled:
        return ClefVocab(pitch, duration)
    meters = sorted(set(corpus.pieces["time_signature"].astype(str)))
    positions = {t for _, _, _, _, row, *_ in corpus_sequences(corpus, clef, coupled=True)
                 for t in row[1:]}
    return ClefVocab(pitch, duration, partner=_pitch_vocab(corpus, other_clef(clef),
                                                           transpositions),
                     meter=Vocabulary.build(meters, head="meter"),
                     position=Vocabulary.build(positions, head="position"))


def _ids_or_padding(vocab: Vocabulary, tokens: list[str]) -> list[int]:
    return [vocab.id(t) if t in vocab else vocab.pad_id for t in tokens]


def encode_sequences(sequences: Sequences, vocab: ClefVocab) -> list[np.ndarray]:
    """Each piece as an int32 array of shape (rows, length): pitch ids and duration ids, then
    for a coupled model the ids of its partner, meter and position inputs (a token the
    vocabulary lacks reads as padding), its countdown plus one (0 is padding) and, where it
    hears phrases, its phrase ids."""
    encoded = []
    for pitches, durations, *inputs in sequences:
        rows = [vocab.pitch.encode(pitches), vocab.duration.encode(durations)]
        if inputs:
            rows += [_ids_or_padding(vocab.condition(name), row)
                     for name, row in zip(CONDITIONS, inputs)]
            rows.append([count + 1 for count in inputs[len(CONDITIONS)]])
            rows += [list(row) for row in inputs[len(CONDITIONS) + 1:]]
        encoded.append(np.array(rows, dtype="int32"))
    return encoded


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
            padded = np.zeros((ids.shape[0], length + 1), dtype="int32")
            padded[:, :piece.shape[1]] = piece
            rows.append(padded)
    if not rows:
        raise BadInputError("no training chunks: the pieces are empty")
    return _inputs_and_targets(np.stack(rows))  # (n, rows, length + 1)


def _inputs_and_targets(batch: np.ndarray) -> dict[str, np.ndarray]:
    """Model inputs and targets of padded pieces: each step reads the event before and the
    inputs of the event it predicts."""
    inputs, targets = batch[:, :, :-1], batch[:, :, 1:]
    found = {"pitch_in": inputs[:, 0], "duration_in": inputs[:, 1],
             "pitch": targets[:, 0], "duration": targets[:, 1],
             "weight": (targets[:, 0] != 0).astype("float32")}
    for row, name in enumerate(CONDITION_INPUTS[:batch.shape[1] - 2], start=2):
        found[name] = targets[:, row]
    return found


def hide_meter(data: dict[str, np.ndarray], share: float, seed: int) -> dict[str, np.ndarray]:
    """``data`` with the meter of a random ``share`` of its chunks read as padding."""
    if "meter_in" not in data or not share:
        return data
    hidden = np.random.default_rng(seed).random(len(data["meter_in"])) < share
    return {**data, "meter_in": np.where(hidden[:, None], 0, data["meter_in"])}


def hide_phrases(data: dict[str, np.ndarray], share: float, seed: int) -> dict[str, np.ndarray]:
    """``data`` with the phrase ids of a random ``share`` of its chunks read as unknown, as
    a piece without fermatas reads, so that composing without a phrase plan still has a
    trained input (padding stays padding)."""
    if "phrase_in" not in data or not share:
        return data
    hidden = np.random.default_rng(seed + 1).random(len(data["phrase_in"])) < share
    phrase = data["phrase_in"]
    return {**data, "phrase_in": np.where(hidden[:, None] & (phrase > 0), PHRASE_UNKNOWN,
                                          phrase)}


def model_inputs(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays of ``data`` that are model inputs."""
    return {name: array for name, array in data.items() if name.endswith("_in")}


def pad_pieces(encoded: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Whole pieces as one padded batch (for scoring held-out pieces with all their context)."""
    longest = max(ids.shape[1] for ids in encoded)
    batch = np.zeros((len(encoded), encoded[0].shape[0], longest), dtype="int32")
    for row, ids in enumerate(encoded):
        batch[row, :, :ids.shape[1]] = ids
    return _inputs_and_targets(batch)
