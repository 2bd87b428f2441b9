"""Hostile files: entity expansion, external entities, archives that point outside themselves.
Each is skipped with a reason or read safely; no local file's content reaches a corpus."""

from __future__ import annotations

import zipfile
from fractions import Fraction

from grandstaff.composing.piece import Piece
from grandstaff.corpus import load_corpus
from grandstaff.music.events import Event
from grandstaff.music.keys import Key
from grandstaff.output.render import write_musicxml

SECRET = "TOPSECRET-grandstaff-canary"


def _valid_musicxml(tmp_path) -> str:
    piece = Piece({"treble": (Event((72,), Fraction(4)),), "bass": (Event((48,), Fraction(4)),)},
                  Key("C", "major"))
    return write_musicxml(piece.score, tmp_path / "valid.musicxml").read_text()


def _with_doctype(xml: str, doctype: str, title: str) -> str:
    body = xml[xml.index("<score-partwise"):]
    body = body.replace("<movement-title>Untitled</movement-title>",
                        f"<movement-title>{title}</movement-title>")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}\n{body}'


def _everything_read(corpus) -> str:
    parts = [corpus.pieces.to_csv()] + [t.to_csv() for t in corpus.tables.values()]
    return "".join(parts) + repr(corpus.skipped)


def test_entity_bombs_and_external_entities_never_reach_the_corpus(tmp_path):
    folder = tmp_path / "music"
    folder.mkdir()
    valid = _valid_musicxml(tmp_path)
    (folder / "good.musicxml").write_text(valid)
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    (folder / "laughs.musicxml").write_text(_with_doctype(
        valid, f'<!DOCTYPE score-partwise [<!ENTITY l0 "lol">{laughs}]>', "&l9;"))
    (folder / "external.musicxml").write_text(_with_doctype(
        valid, f'<!DOCTYPE score-partwise [<!ENTITY s SYSTEM "file://{secret}">]>', "&s;"))
    (folder / "parameter.musicxml").write_text(_with_doctype(
        valid, f'<!DOCTYPE score-partwise [<!ENTITY % p SYSTEM "file://{secret}"> %p;]>',
        "x"))
    corpus = load_corpus(folder, cache_dir=None, workers=2, progress=False, timeout=60)
    read = set(corpus.pieces["piece"])
    reasons = {p.rsplit("/", 1)[-1]: r for p, r in corpus.skipped}
    assert "good" in read
    assert read | set(n.removesuffix(".musicxml") for n in reasons) == {
        "good", "laughs", "external", "parameter"}
    assert all(reasons.values())
    assert "laughs" not in read  # a billion characters of title is never built
    assert SECRET not in _everything_read(corpus)


def test_an_archive_that_points_outside_itself_writes_and_reads_nothing_outside(tmp_path):
    folder = tmp_path / "deep" / "music"
    folder.mkdir(parents=True)
    valid = _valid_musicxml(tmp_path)
    secret = tmp_path / "deep" / "secret.musicxml"
    secret.write_text(valid.replace("Untitled", SECRET))
    for name, member in (("traversal.mxl", "../secret.musicxml"),
                         ("absolute.mxl", str(secret))):
        with zipfile.ZipFile(folder / name, "w") as archive:
            archive.writestr("META-INF/container.xml",
                             f'<container><rootfiles><rootfile full-path="{member}"/>'
                             "</rootfiles></container>")
            archive.writestr(member, valid.replace("Untitled", "inside the archive"))
    before = sorted(tmp_path.rglob("*"))
    corpus = load_corpus(folder, cache_dir=None, workers=1, progress=False)
    assert sorted(tmp_path.rglob("*")) == before  # nothing was unpacked anywhere
    assert SECRET not in _everything_read(corpus)
    assert set(corpus.pieces["title"]) <= {"inside the archive"}
