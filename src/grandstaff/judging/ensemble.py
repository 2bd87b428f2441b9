"""Measures of the two hands together: harmony, the final cadence, the meter, voice leading and
where the hands sit on the grand staff.

Every measure takes the package's own events (knowing neither keras nor music21) of one piece,
in the key whose tonic pitch class is given (0 for C major, 9 for A minor in the reference keys).

>>> from fractions import Fraction
>>> def staff(*chords):
...     return [Event(tuple(c), Fraction(4)) for c in chords]
>>> treble = staff((64, 67, 72), (65, 67, 71), (64, 67, 72))   # C, G7, C
>>> bass = staff((48,), (43,), (48,))
>>> final_cadence(treble, bass, tonic=0, mode="major")
(True, True)
>>> final_cadence(staff((62, 65, 69)), staff((50,)), tonic=0, mode="major")  # D minor
(False, False)
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from fractions import Fraction

from ..music.events import CHROMATIC_PAIRS, STAFF_RANGE, Event, bar_length, beat_length
from ..music.events import notes_of as notes
from ..music.hands import TOO_WIDE

#: Pitch-class sets that one chord explains: every major and minor triad and every dominant
#: seventh, on all 12 roots.
CHORD_SHAPES = ((0, 4, 7), (0, 3, 7), (0, 4, 7, 10))
CHORDS = tuple(frozenset((root + step) % 12 for step in shape)
               for shape in CHORD_SHAPES for root in range(12))
#: Where the strong beats of common meters fall, in quarters from the barline: the downbeat,
#: and the middle of the bar where the bar falls into two equal halves of several beats.
STRONG_BEATS = {"4/4": (0, 2), "2/2": (0, 2), "4/2": (0, 4), "12/8": (0, 3), "6/8": (0, 1.5),
                "6/4": (0, 3)}


def _onsets(events: Sequence[Event]) -> list[Fraction]:
    starts, time = [], Fraction(0)
    for event in events:
        starts.append(time)
        time += event.duration
    return starts


def sounding_at(events: Sequence[Event], time: Fraction,
                starts: list[Fraction] | None = None) -> tuple[int, ...]:
    """The MIDI numbers a staff sounds at ``time`` (``()`` past its end)."""
    starts = starts if starts is not None else _onsets(events)
    index = bisect.bisect_right(starts, time) - 1
    if index < 0 or time >= starts[index] + events[index].duration:
        return ()
    return events[index].pitches


def _together(treble: Sequence[Event], bass: Sequence[Event]):
    """(time, treble pitches, bass pitches) at every onset of either staff."""
    starts = {"treble": _onsets(treble), "bass": _onsets(bass)}
    times = sorted(set(starts["treble"]) | set(starts["bass"]))
    return [(t, sounding_at(treble, t, starts["treble"]), sounding_at(bass, t, starts["bass"]))
            for t in times]


def _sounding_moments(treble: Sequence[Event], bass: Sequence[Event]):
    """(time, treble pitches, bass pitches) at every onset where either staff sounds: the last
    of them is the piece's final sonority."""
    return [(t, up, low) for t, up, low in _together(treble, bass) if up or low]


def final_cadence(treble: Sequence[Event], bass: Sequence[Event], *, tonic: int,
                  mode: str) -> tuple[bool, bool]:
    """(ends on the tonic triad with the tonic in the bass, its last two harmonies are V(7)–I).

    The last sonority is what both staves sound at the last onset at which anything sounds; it
    must hold the tonic and the third (the major third counts in minor: a Picardy third) and
    nothing outside the triad. The harmony before it is the last sonority with a note outside
    the tonic chord (notes of the tonic chord moving before its last onset are the same harmony,
    and in minor so is the chord with either third); it is V(7) when it holds the dominant and
    the leading tone and nothing outside the dominant seventh.
    """
    moments = _sounding_moments(treble, bass)
    if not moments:
        return False, False
    _, up, low = moments[-1]
    final = set(up) | set(low)
    thirds = {(tonic + 4) % 12} | ({(tonic + 3) % 12} if mode == "minor" else set())
    classes = {p % 12 for p in final}
    triads = [{tonic, third, (tonic + 7) % 12} for third in thirds]
    tonic_end = (min(final) % 12 == tonic and any(
        classes <= triad and third in classes for triad, third in zip(triads, thirds)))
    tonic_chord = set().union(*triads)  # in minor both thirds: i and I are one harmony here
    before = next((set(u) | set(lo) for _, u, lo in reversed(moments[:-1])
                   if not {p % 12 for p in set(u) | set(lo)} <= tonic_chord and (u or lo)),
                  set())
    dominant = (tonic + 7) % 12
    seventh_chord = {dominant, (dominant + 4) % 12, (dominant + 7) % 12, (dominant + 10) % 12}
    before_classes = {p % 12 for p in before}
    authentic = (tonic_end and bool(before_classes) and before_classes <= seventh_chord
                 and {dominant, (dominant + 4) % 12} <= before_classes)
    return tonic_end, authentic


def cadence_top(treble: Sequence[Event], *, tonic: int) -> tuple[bool, bool | None]:
    """(the treble's top voice ends on the tonic, the leading tone on top just before the
    last onset rises a semitone to it; ``None`` where the top voice before was not the leading
    tone).

    >>> from fractions import Fraction
    >>> q = Fraction(1)
    >>> cadence_top([Event((67, 71), q), Event((67, 72), q)], tonic=0)   # B4 -> C5
    (True, True)
    >>> cadence_top([Event((62, 71), q), Event((64, 67), q)], tonic=0)   # B4 -> G4
    (False, False)
    """
    tops = [max(event.pitches) for event in treble if event.pitches]
    if not tops:
        return False, None
    ends = tops[-1] % 12 == tonic
    if len(tops) < 2 or tops[-2] % 12 != (tonic + 11) % 12:
        return ends, None
    return ends, tops[-1] == tops[-2] + 1


def final_third(treble: Sequence[Event], bass: Sequence[Event], *,
                tonic: int) -> tuple[bool | None, bool]:
    """(the final tonic chord's third sounds in the bass staff (the tenor), that third is
    major), of what both staves sound at the last onset where anything sounds; ``(None,
    False)`` where that is not a tonic chord with a third over the tonic. Of the held-out 4/4
    chorales that end so, Bach gives the third to the tenor in 23 of 28, and all 11 minor
    ones end on a major third (a Picardy third).

    >>> from fractions import Fraction
    >>> q = Fraction(2)
    >>> final_third([Event((67, 72), q)], [Event((48, 52), q)], tonic=0)   # E in the tenor
    (True, True)
    >>> final_third([Event((60, 69), q)], [Event((45, 52), q)], tonic=9)   # C: minor
    (False, False)
    >>> final_third([Event((64, 68), q)], [Event((40, 59), q)], tonic=9)   # a half close
    (None, False)
    """
    moments = _sounding_moments(treble, bass)
    if not moments:
        return None, False
    _, up, low = moments[-1]
    thirds = {(tonic + 3) % 12, (tonic + 4) % 12}
    low_classes, classes = {p % 12 for p in low}, {p % 12 for p in up + low}
    if min(up + low) % 12 != tonic or not classes & thirds:
        return None, False
    return bool(low_classes & thirds), (tonic + 4) % 12 in classes


def false_relations(treble: Sequence[Event], bass: Sequence[Event], *,
                    mode: str) -> tuple[int, int]:
    """(onsets with a false relation between the hands, onsets after the first), in the
    reference key of ``mode``: one staff sounds a note of the key just before the onset
    and the other staff sounds its chromatic alteration (same letter) at it, neither staff
    having inflected the note itself and the first note no longer sounding (that would be a
    clash). G in the bass, then G♯ in the treble, in A minor.

    >>> from fractions import Fraction
    >>> q = Fraction(1)
    >>> false_relations([Event((64,), q), Event((68,), q)], [Event((55,), q), Event((52,), q)],
    ...                 mode="minor")                        # G3 then G♯4
    (1, 1)
    >>> false_relations([Event((67,), q), Event((68,), q)], [Event((55,), q), Event((52,), q)],
    ...                 mode="minor")                        # the treble's own G rises
    (0, 1)
    """
    moments = [({p % 12 for p in up}, {p % 12 for p in low})
               for _, up, low in _together(treble, bass)]
    pairs = [pair for one, other in CHROMATIC_PAIRS[mode] for pair in ((one, other),
                                                                      (other, one))]
    found = 0
    for (up_before, low_before), (up, low) in zip(moments, moments[1:]):
        # (the first staff before and at the onset, the other staff before and at it)
        for first, first_after, then_before, then in ((up_before, up, low_before, low),
                                                      (low_before, low, up_before, up)):
            if any(x in first and y in then and y not in first_after and x not in first_after
                   and x not in then_before and y not in then_before for x, y in pairs):
                found += 1
                break
    return found, max(0, len(moments) - 1)


def doubled_leading_tones(treble: Sequence[Event], bass: Sequence[Event], *,
                          tonic: int) -> tuple[int, int]:
    """(dominant sonorities with the leading tone sounding twice or more, dominant
    sonorities): at every onset of either staff where both sound, the dominant's root and
    the leading tone, counted over both staves' notes.

    >>> from fractions import Fraction
    >>> q = Fraction(1)
    >>> doubled_leading_tones([Event((71, 74, 79), q), Event((71, 74, 83), q)],
    ...                       [Event((43,), q), Event((43, 59), q)], tonic=0)
    (1, 2)
    """
    leading, root = (tonic + 11) % 12, (tonic + 7) % 12
    doubled = total = 0
    for _, up, low in _together(treble, bass):
        notes = [p % 12 for p in up + low]
        if up and low and leading in notes and root in notes:
            total += 1
            doubled += notes.count(leading) > 1
    return doubled, total


def cadence_approach(treble: Sequence[Event], bass: Sequence[Event], *,
                     tonic: int) -> tuple[bool | None, int]:
    """(the harmony just before the final V is a pre-dominant, the longest run of strikes of
    one note, in any voice of either staff, in the final V), or ``(None, 0)`` where the bass
    does not end V–I.

    The final V is the stretch from the onset where the bass last arrives on the dominant to
    the final tonic in the bass. A pre-dominant holds the fourth or second degree and not the
    leading tone, over a bass off the tonic and the dominant (IV, ii, ii6, ii6/5, IV6).

    >>> from fractions import Fraction
    >>> q = Fraction(1)
    >>> treble = [Event((65, 69, 74), q), Event((67, 71, 74), q), Event((67, 71, 74), q),
    ...           Event((64, 67, 72), q)]
    >>> bass = [Event((53,), q), Event((43,), 2 * q), Event((48,), q)]   # ii6/5? IV–V–I
    >>> cadence_approach(treble, bass, tonic=0)
    (True, 2)
    """
    dominant = (tonic + 7) % 12
    moments = [(t, up, low) for t, up, low in _together(treble, bass) if low]
    if len(moments) < 2 or min(moments[-1][2]) % 12 != tonic:
        return None, 0
    index = len(moments) - 1
    while index > 0 and min(moments[index][2]) % 12 == tonic:
        index -= 1
    if min(moments[index][2]) % 12 != dominant:
        return None, 0
    end = index
    while index > 0 and min(moments[index - 1][2]) % 12 == dominant:
        index -= 1
    start, stop = moments[index][0], moments[end + 1][0]
    longest = max(_longest_strike_run(staff, start, stop) for staff in (treble, bass))
    if index == 0:
        return None, longest
    _, up, low = moments[index - 1]
    classes = {p % 12 for p in up + low}
    bass_degree = (min(low) - tonic) % 12
    pre = (bool(classes & {(tonic + 5) % 12, (tonic + 2) % 12})
           and (tonic + 11) % 12 not in classes and bass_degree not in (0, 7))
    return pre, longest


def _longest_strike_run(events: Sequence[Event], start: Fraction, end: Fraction) -> int:
    """The most events in a row from ``start`` until ``end`` that strike one note (a note
    held, or not sounding, ends its run)."""
    runs: dict[int, int] = {}
    longest, time = 0, Fraction(0)
    for event in events:
        if start <= time < end:
            struck = set(event.pitches) - set(event.held)
            runs = {pitch: runs.get(pitch, 0) + 1 for pitch in struck}
            longest = max([longest, *runs.values()])
        time += event.duration
    return longest


def _top_strikes(treble: Sequence[Event], start: Fraction, end: Fraction) -> list[int]:
    """The treble's top note at each event from ``start`` until ``end`` where it is struck."""
    found, time = [], Fraction(0)
    for event in treble:
        if start <= time < end and event.pitches and max(event.pitches) not in event.held:
            found.append(max(event.pitches))
        time += event.duration
    return found


def cadence_harmonies(tonic: int, mode: str) -> tuple[frozenset[int], ...]:
    """The pitch-class sets a phrase may end on: I, V (or V7) and vi in major; i (or I, a
    Picardy third), V (V7) and VI in minor.

    >>> sorted(cadence_harmonies(0, "major")[1])
    [2, 5, 7, 11]
    """
    def chord(root: int, *steps: int) -> frozenset[int]:
        return frozenset((tonic + root + step) % 12 for step in (0, *steps))

    if mode == "minor":
        return (chord(0, 3, 7), chord(0, 4, 7), chord(7, 4, 7, 10), chord(8, 4, 7))
    return chord(0, 4, 7), chord(7, 4, 7, 10), chord(9, 3, 7)


def cadence_at(treble: Sequence[Event], bass: Sequence[Event], time: Fraction, *,
               tonic: int, mode: str, time_signature: str = "4/4") -> bool:
    """A cadence at ``time``: both staves sound, the top treble note and the lowest bass
    note there last at least a beat from it, and what sounds is I, V or vi (see
    :func:`cadence_harmonies`).

    >>> from fractions import Fraction
    >>> q = Fraction(1)
    >>> treble = [Event((67, 74), q), Event((64, 72), 2 * q)]
    >>> bass = [Event((43,), q), Event((48,), 2 * q)]
    >>> cadence_at(treble, bass, q, tonic=0, mode="major")          # V–I, held two beats
    True
    >>> cadence_at(treble, bass, Fraction(0), tonic=0, mode="major")  # V for one beat: yes
    True
    >>> cadence_at(treble, [Event((45,), 3 * q)], q, tonic=0, mode="major")  # A under C–E
    True
    """
    up = sounding_at(treble, time)
    low = sounding_at(bass, time)
    if not up or not low:
        return False
    beat = beat_length(time_signature)
    lasting = all(any(start <= time and end >= time + beat and pitch == edge
                      for start, end, pitch in notes(staff))
                  for staff, edge in ((treble, max(up)), (bass, min(low))))
    classes = {p % 12 for p in up + low}
    return lasting and any(classes <= chord for chord in cadence_harmonies(tonic, mode))


def cadences_on(treble: Sequence[Event], bass: Sequence[Event], times: Sequence[Fraction], *,
                tonic: int, mode: str, time_signature: str = "4/4") -> float:
    """Share of ``times`` (a piece's fermatas) with a cadence on them (:func:`cadence_at`)."""
    if not times:
        return float("nan")
    return sum(cadence_at(treble, bass, t, tonic=tonic, mode=mode,
                          time_signature=time_signature) for t in times) / len(times)


def cadence_points(treble: Sequence[Event], bass: Sequence[Event], *, tonic: int, mode: str,
                   time_signature: str = "4/4") -> list[Fraction]:
    """Where the music stops to breathe: beats at which both staves sound, nothing moves in
    either for more than a beat, and the harmony is I, V or vi (:func:`cadence_harmonies`).
    A held chord is one point, at its first beat. (A chorale's quarter note under a fermata
    is not one: the fermata is not in the notes.)

    >>> from fractions import Fraction
    >>> q = Fraction(1)
    >>> treble = [Event((67, 72), q)] * 3 + [Event((67, 71), 2 * q)] + [Event((64, 72), 3 * q)]
    >>> bass = [Event((48,), q)] * 3 + [Event((43,), 2 * q)] + [Event((48,), 3 * q)]
    >>> cadence_points(treble, bass, tonic=0, mode="major")   # V held 2 beats, I held 3
    [Fraction(3, 1), Fraction(5, 1)]
    """
    beat = beat_length(time_signature)
    onsets = sorted(set(_onsets(treble)) | set(_onsets(bass)))
    end = min(sum((e.duration for e in treble), Fraction(0)),
              sum((e.duration for e in bass), Fraction(0)))
    harmonies = cadence_harmonies(tonic, mode)
    found: list[Fraction] = []
    for index, time in enumerate(onsets):
        following = onsets[index + 1] if index + 1 < len(onsets) else end
        if time % beat or following - time <= beat:
            continue
        up, low = sounding_at(treble, time), sounding_at(bass, time)
        classes = {p % 12 for p in up + low}
        if up and low and any(classes <= chord for chord in harmonies):
            found.append(time)
    return found


def breathing(treble: Sequence[Event], bass: Sequence[Event], *, tonic: int, mode: str,
              time_signature: str = "4/4", fermatas: Sequence[Fraction] = ()
              ) -> tuple[float, float]:
    """(cadence points per 16 bars, the longest stretch without one, in bars), the piece's
    start and end counting as the stretch's ends (see :func:`cadence_points`). ``fermatas``
    (quarters from the start) count as cadence points too, as a player holds them; a held
    chord under a fermata counts once.

    >>> from fractions import Fraction
    >>> q = Fraction(1)
    >>> treble, bass = [Event((67, 72), q)] * 16, [Event((48,), q)] * 16  # no chord held
    >>> breathing(treble, bass, tonic=0, mode="major")
    (0.0, 4.0)
    >>> breathing(treble, bass, tonic=0, mode="major", fermatas=[Fraction(6)])
    (4.0, 2.5)
    """
    bar = bar_length(time_signature)
    end = min(sum((e.duration for e in treble), Fraction(0)),
              sum((e.duration for e in bass), Fraction(0)))
    if not end:
        return float("nan"), float("nan")
    points = sorted(set(cadence_points(treble, bass, tonic=tonic, mode=mode,
                                       time_signature=time_signature))
                    | {Fraction(t) for t in fermatas if 0 <= t <= end})
    edges = [Fraction(0), *points, end]
    longest = max(b - a for a, b in zip(edges, edges[1:]))
    return float(len(points) * 16 * bar / end), float(longest / bar)


def top_voice_motion(treble: Sequence[Event]) -> tuple[float, float]:
    """(share of the top voice's struck notes that repeat the note before, share that move
    by a step: one or two semitones), the top voice being the highest treble note, held
    notes joined.

    >>> from fractions import Fraction
    >>> q = Fraction(1)
    >>> top_voice_motion([Event((72,), q), Event((72,), q), Event((74,), q), Event((79,), q)])
    (0.333, 0.333)
    """
    tops = _top_strikes(treble, Fraction(0), sum((e.duration for e in treble), Fraction(0)))
    moves = list(zip(tops, tops[1:]))
    if not moves:
        return float("nan"), float("nan")
    repeats = sum(a == b for a, b in moves) / len(moves)
    steps = sum(1 <= abs(a - b) <= 2 for a, b in moves) / len(moves)
    return round(repeats, 3), round(steps, 3)


def harmonic_fit(treble: Sequence[Event], bass: Sequence[Event],
                 time_signature: str = "4/4") -> float:
    """Share of beats whose sounding pitch classes (both staves, at the beat) fit one major or
    minor triad or one dominant seventh; beats where nothing sounds are left out."""
    beat = beat_length(time_signature)
    starts = {"treble": _onsets(treble), "bass": _onsets(bass)}
    end = max(sum((e.duration for e in treble), Fraction(0)),
              sum((e.duration for e in bass), Fraction(0)))
    fits = total = 0
    time = Fraction(0)
    while time < end:
        classes = {p % 12 for p in sounding_at(treble, time, starts["treble"])
                   + sounding_at(bass, time, starts["bass"])}
        if classes:
            total += 1
            fits += any(classes <= chord for chord in CHORDS)
        time += beat
    return fits / total if total else float("nan")


def hands_apart_share(treble: Sequence[Event], bass: Sequence[Event],
                      time_signature: str = "4/4", apart: int = 12) -> float:
    """Share of beats, where both staves sound, at which the treble's lowest note lies more
    than ``apart`` semitones (an octave) above the bass's highest: hands too far apart for
    the spacing of four-part writing.

    >>> from fractions import Fraction
    >>> treble = [Event((64, 67), Fraction(2)), Event((72,), Fraction(2))]
    >>> bass = [Event((48,), Fraction(2)), Event((60,), Fraction(2))]
    >>> hands_apart_share(treble, bass)  # 16 apart on beats 1 and 2, an octave on 3 and 4
    0.5
    """
    beat = beat_length(time_signature)
    starts = {"treble": _onsets(treble), "bass": _onsets(bass)}
    end = min(sum((e.duration for e in treble), Fraction(0)),
              sum((e.duration for e in bass), Fraction(0)))
    gaps, time = [], Fraction(0)
    while time < end:
        up = sounding_at(treble, time, starts["treble"])
        low = sounding_at(bass, time, starts["bass"])
        if up and low:
            gaps.append(min(up) - max(low) > apart)
        time += beat
    return sum(gaps) / len(gaps) if gaps else float("nan")


def strong_beat_share(events: Sequence[Event], time_signature: str = "4/4") -> float:
    """Share of notes a quarter or longer (held pitches joined) that start on a strong beat
    (:data:`STRONG_BEATS`; the downbeat in other meters)."""
    bar = bar_length(time_signature)
    strong = {Fraction(x) for x in STRONG_BEATS.get(time_signature, (0,))}
    long_notes = [start for start, end, _ in notes(events) if end - start >= 1]
    if not long_notes:
        return float("nan")
    return sum(start % bar in strong for start in long_notes) / len(long_notes)


def parallels_per_100_beats(treble: Sequence[Event], bass: Sequence[Event],
                            time_signature: str = "4/4") -> float:
    """Parallel fifths and octaves between the top treble note and the lowest bass note, per
    100 beats: from one onset to the next both move the same way and keep a fifth or an
    octave (or unison) between them, counted in pitch classes."""
    outer = [(max(up), min(low)) for _, up, low in _together(treble, bass) if up and low]
    found = 0
    for (high_a, low_a), (high_b, low_b) in zip(outer, outer[1:]):
        moving = (high_b - high_a) * (low_b - low_a) > 0
        interval = (high_a - low_a) % 12
        if moving and interval in (0, 7) and (high_b - low_b) % 12 == interval:
            found += 1
    length = max(sum((e.duration for e in treble), Fraction(0)),
                 sum((e.duration for e in bass), Fraction(0)))
    beats = length / beat_length(time_signature)
    return float(100 * found / beats) if beats else float("nan")


def voice_parallels_per_100_moves(treble: Sequence[Event], bass: Sequence[Event]) -> float:
    """Parallel fifths and octaves between any two voices, per 100 moves (from one onset of
    either staff to the next). A staff's notes are its voices in pitch order, the treble's
    from the top and the bass's from the bottom; two voices that both sound at both onsets,
    move the same way and keep a fifth or an octave (or unison) make one.

    >>> from fractions import Fraction
    >>> q = Fraction(1)
    >>> treble = [Event((67, 72), q), Event((69, 74), q)]   # G4, C5 -> A4, D5: a fourth apart
    >>> bass = [Event((48,), q), Event((50,), q)]            # C3 -> D3
    >>> voice_parallels_per_100_moves(treble, bass)          # octaves with C5, fifths with G4
    200.0
    """
    sonorities = [{**{("treble", k): p for k, p in enumerate(sorted(up, reverse=True))},
                   **{("bass", k): p for k, p in enumerate(sorted(low))}}
                  for _, up, low in _together(treble, bass) if up and low]
    found = 0
    for before, after in zip(sonorities, sonorities[1:]):
        moves = [(before[v], after[v]) for v in before if v in after]
        for index, (a0, a1) in enumerate(moves):
            for b0, b1 in moves[index + 1:]:
                interval = abs(a0 - b0) % 12
                found += ((a1 - a0) * (b1 - b0) > 0 and interval in (0, 7)
                          and abs(a1 - b1) % 12 == interval)
    moves_made = len(sonorities) - 1
    return 100 * found / moves_made if moves_made > 0 else float("nan")


def crossing_share(treble: Sequence[Event], bass: Sequence[Event]) -> float:
    """Share of onsets (either staff) at which both sound and the bass staff's highest note
    lies above the treble staff's lowest."""
    both = [(up, low) for _, up, low in _together(treble, bass) if up and low]
    if not both:
        return float("nan")
    return sum(max(low) > min(up) for up, low in both) / len(both)


def left_hand_ledger_share(bass: Sequence[Event]) -> float:
    """Share of struck notes of the bass staff that need ledger lines (below F2 or above B3).

    >>> from fractions import Fraction
    >>> left_hand_ledger_share([Event((48, 64), Fraction(1)), Event((43, 55), Fraction(1))])
    0.25
    """
    struck = [p for event in bass for p in event.struck]
    if not struck:
        return float("nan")
    low, high = STAFF_RANGE["bass"]
    return sum(not low <= p <= high for p in struck) / len(struck)


def wide_left_hand_share(bass: Sequence[Event], time_signature: str = "4/4",
                         widest: int = TOO_WIDE) -> float:
    """Share of beats, where the bass staff sounds, at which it spans more than ``widest``
    semitones (a ninth): a stretch past most left hands.

    >>> from fractions import Fraction
    >>> wide_left_hand_share([Event((40, 56), Fraction(2)), Event((40, 52), Fraction(2))])
    0.5
    """
    beat, starts = beat_length(time_signature), _onsets(bass)
    end = sum((e.duration for e in bass), Fraction(0))
    wide, time = [], Fraction(0)
    while time < end:
        sounding = sounding_at(bass, time, starts)
        if sounding:
            wide.append(max(sounding) - min(sounding) > widest)
        time += beat
    return sum(wide) / len(wide) if wide else float("nan")


def ledger_share(treble: Sequence[Event]) -> float:
    """Share of struck treble notes that need ledger lines (below D4 or above G♯5)."""
    struck = [p for event in treble for p in event.struck]
    if not struck:
        return float("nan")
    low, high = STAFF_RANGE["treble"]
    return sum(not low <= p <= high for p in struck) / len(struck)
