"""Judging composed music against held-out pieces and the n-gram baseline, end to end."""

from grandstaff.cli import main
from grandstaff.judging import judge, write_report


def test_judging_is_reproducible_and_writes_a_report(tiny_models, small_corpus, tmp_path):
    first = judge(models=str(tiny_models), samples=3, seed=4, corpus=small_corpus,
                  progress=False, phrase_samples=2)
    again = judge(models=str(tiny_models), samples=3, seed=4, corpus=small_corpus,
                  progress=False, phrase_samples=2)
    assert first["clefs"] == again["clefs"] and first["novelty"] == again["novelty"]
    assert set(first["both"]["mode_agreement"]) == {"corpus", "model", "ngram"}
    for clef in ("treble", "bass"):
        table = first["clefs"][clef]
        assert 0 <= table["pitch classes"]["overlap"]["model"] <= 1
        assert len(table["pitch range"]["summary"]["model"]["values"]) == 3
    # held-out pieces measured against themselves would overlap fully; against training
    # pieces their longest verbatim copy is a whole number of events
    assert all(isinstance(v, int) for v in first["novelty"]["corpus"]["values"])
    both = first["both"]
    for name in ("final tonic", "final V-I"):
        assert all(0 <= both[name][s] <= 1 for s in ("corpus", "model", "ngram"))
    # the model's pieces all close on the tonic chord, its third once, major in minor
    assert 0 <= both["final third in the bass staff"]["model"] <= 1
    assert both["minor ends major"]["model"] == 1.0
    assert 0 <= both["harmonic fit"]["model"]["mean"] <= 1
    assert all(0 <= both["false relations"][s] < 100 for s in ("corpus", "model", "ngram"))
    assert both["false relations"]["corpus"] == again["both"]["false relations"]["corpus"]
    assert set(both["strong beats"]["model"]) == {"4/4"}  # compose writes 4/4 by default
    assert list(both["ledger lines by key"]["model"]) == ["C major", "A minor", "G major"]
    assert list(both["left-hand ledger lines by key"]["model"]) == [
        "C major", "A minor", "G major"]
    assert 0 <= both["right-hand ledger lines"]["model"]["mean"] <= 1
    # ties as engraved: a bar holds a few at most, and held-out Bach's are the same each time
    for hand in ("right-hand ties", "left-hand ties"):
        assert all(0 <= both[hand][s]["mean"] < 4 for s in ("corpus", "model", "ngram"))
        assert both[hand]["corpus"] == again["both"][hand]["corpus"]
    # held-out Bach is the same whatever the model: its harmony is what the measures say
    assert both["harmonic fit"]["corpus"] == again["both"]["harmonic fit"]["corpus"]
    written = write_report(first, tmp_path / "quality.md")
    text = written[0].read_text()
    assert "| pitch classes |" in text and "mode agreement" in text
    assert "| last two harmonies V(7)–I (share) |" in text and "| G major |" in text
    assert "| a minor piece's final chord with a major (Picardy) third (share) |" in text
    assert "| right-hand notes on ledger lines, piano staves (share) |" in text
    assert "the other hand), per 100 onsets |" in text
    assert "| left-hand ties per bar, piano staves (as engraved) |" in text
    assert "hands more than an octave apart and left-hand ledger lines (piano staves):" in text
    assert "| left-hand ledger lines model | left-hand ledger lines 4-gram |" in text
    assert all(p.is_file() and p.stat().st_size > 1000 for p in written[1:])
    # how the music breathes, in each meter, for two pieces each with a drawn plan
    assert list(first["phrases"]) == ["4/4", "3/4", "6/8"]
    assert first["phrases"] == again["phrases"]
    for found in first["phrases"].values():
        assert found["model"]["pieces"] == 2 and len(found["plans"]) == 2
        assert all(plan != "none" for plan in found["plans"])
        heard = found["model"]["phrase_ends_heard"]
        assert heard is None or 0 <= heard <= 1
        # every planned phrase end carries a fermata, which counts as a cadence point too
        model = found["model"]
        assert model["with_fermatas"] >= model["cadence_points"]
        assert model["longest_with_fermatas"] <= model["longest_without"]
    assert first["phrases"]["6/8"]["bach"]["pieces"] == 0
    assert "## Phrases, by meter" in text and "| 6/8 | 2 / 0 |" in text


def test_a_report_needs_samples(tiny_models, capsys):
    assert main(["evaluate", "--models", str(tiny_models), "--report", "x.md"]) == 2
    assert "--samples" in capsys.readouterr().err


def test_a_report_of_a_set_from_another_corpus_says_so(tiny_models, small_corpus, tmp_path):
    """The report names what the held-out pieces are and where it was written, never
    "held-out Bach" for another corpus, never the shipped report's path."""
    from grandstaff.judging.measures import PieceSet, measure
    from grandstaff.judging.report import format_quality
    from grandstaff.music.events import CLEFS
    from grandstaff.music.keys import Key

    names = small_corpus.piece_names()[:2]
    pieces = [{c: small_corpus.events(c, n) for c in CLEFS} for n in names]
    one = PieceSet(pieces, pieces, ["major", "major"], ["4/4", "4/4"], [Key("C", "major")] * 2)
    training = {c: [small_corpus.events(c, n) for n in small_corpus.piece_names()[2:]]
                for c in CLEFS}
    measured = measure({"corpus": one, "model": one, "ngram": one}, training)
    # the same pieces measured as every set: every overlap is complete
    assert measured["clefs"]["treble"]["pitch classes"]["overlap"]["model"] == 1
    result = {"models": "folk", "samples": 2, "seed": 0, "bars": 16, "held_out_pieces": 2,
              "source": "/music/folk", **measured}
    result["both"].update(mode_agreement_chosen=1.0, candidates=8)
    text = format_quality(result, path=tmp_path / "folk.md")
    assert "Bach" not in text and "held-out pieces" in text
    assert f"--report {tmp_path / 'folk.md'}" in text and "docs/quality.md" not in text
