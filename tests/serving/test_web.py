"""The web page's server through real HTTP requests (Starlette's test client): composing,
transposing, downloads, bad input, two users at once, and no file outside its folder."""

from __future__ import annotations

import re
import threading
from xml.etree import ElementTree

import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from grandstaff.serving.web import build_app  # noqa: E402

SMALL = {"bars": 2, "candidates": 1, "seed": 1}
#: Where a browser on this machine addresses the server.
HERE = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def served(tmp_path_factory, tiny_models):
    out = tmp_path_factory.mktemp("web") / "pieces"
    app = build_app(out, models=str(tiny_models))
    with TestClient(app, base_url=HERE) as client:
        yield client, out


def _sharps_and_flats(svg: str) -> int:
    """Accidentals in the first key signature Verovio draws (the treble staff's)."""
    root = ElementTree.fromstring(svg)
    first = next(g for g in root.iter("{http://www.w3.org/2000/svg}g")
                 if g.get("class") == "keySig")
    return sum(1 for g in first if g.get("class") == "keyAccid")


def test_compose_writes_the_piece_and_serves_its_files(served):
    client, out = served
    response = client.post("/api/compose", json={**SMALL, "key": "E minor", "tempo": 80})
    assert response.status_code == 200, response.text
    piece = response.json()
    assert piece["key"] == "E minor" and piece["bars"] == 2 and piece["tempo"] == 80
    assert sorted(p.name for p in (out / piece["id"]).iterdir()) == [
        "piece.mid", "piece.musicxml", "piece.svg", "piece.wav", "title.txt"]
    svg = client.get(piece["files"]["svg"])
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.count('class="note"') > 0 and _sharps_and_flats(svg.text) == 1
    wav = client.get(piece["files"]["wav"])
    assert wav.headers["content-type"] == "audio/wav" and wav.content[:4] == b"RIFF"
    pdf = client.get(piece["files"]["pdf"] + "?download=1")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    assert 'filename="Piece-in-E-minor-seed-1.pdf"' in pdf.headers["content-disposition"]


def test_a_variant_is_a_new_piece_in_the_new_key_and_tempo(served):
    client, _ = served
    first = client.post("/api/compose", json={**SMALL, "key": "C major"}).json()
    moved = client.post(f"/api/pieces/{first['id']}/variant", json={"key": "D major",
                                                                    "tempo": "132"})
    assert moved.status_code == 200, moved.text
    second = moved.json()
    assert second["id"] != first["id"] and second["key"] == "D major"
    assert second["tempo"] == 132
    assert _sharps_and_flats(client.get(second["files"]["svg"]).text) == 2
    assert _sharps_and_flats(client.get(first["files"]["svg"]).text) == 0
    refused = client.post(f"/api/pieces/{first['id']}/variant", json={"key": "D minor"})
    assert refused.status_code == 400 and "keeps the mode" in refused.json()["error"]


@pytest.mark.parametrize("form, says", [
    ({"bars": "many"}, "bars 'many' is not a whole number"),
    ({"bars": 0}, "bars 0 must be a whole number"),
    ({"key": "H major"}, "key 'H major' is not a key name"),
    ({"tempo": -3}, "tempo -3.0 must be from 20 to 400"),
    ({"tempo": 3.6}, "tempo 3.6 must be from 20 to 400"),
    ({"bars": 65}, "bars 65 must be a whole number from 1 to 64 on this page"),
    ({"bars": 1e3}, "bars 1000.0 is not a whole number"),
    ({"candidates": 17}, "candidates 17 must be a whole number from 1 to 16"),
    ({"time_signature": "8/1"}, "time signature '8/1' is not one of"),
    ({"bars": 64, "tempo": 20}, "the piece would last 12.8 minutes"),
    ({"temperature": 1e-200}, "temperature 1e-200 must be from 0.05 to 5"),
    ({"time_signature": "5/7"}, "5/7"),
    ({"models": "../../etc"}, "is not one of"),
    ({"primer": "/etc/passwd"}, "no piece"),
    ({"volume": 11}, "unknown control 'volume'"),
    ({"bars": 6, "form": "AABA"}, "do not divide into evenly"),
    ({"form": "<script>"}, "is not a letter per phrase"),
    ({"bars": 4, "phrases": "2,3"}, "add up to 5 bars, not the 4"),
    ({"phrases": "9" * 300}, "add up to more than a million bars, not the 2 asked for"),
    ({"phrases": "1," * 3000 + "1"}, "must be 'auto', 'none' or bars per phrase"),
    ({"pickup": "9" * 300}, "pickup '99999999999999999999…' must be 'auto', 'none' or"),
    ({"time_signature": "3/4", "pickup": "3"}, "less than a bar of 3/4 (3)"),
])
def test_bad_input_is_one_clear_line_and_the_server_goes_on(served, form, says):
    client, _ = served
    response = client.post("/api/compose", json={**SMALL, **form})
    assert response.status_code == 400
    error = response.json()["error"]
    assert says in error and "\n" not in error and "Traceback" not in error
    assert client.post("/api/compose", json=SMALL).status_code == 200


def test_not_json_and_unknown_pieces_are_refused(served):
    client, _ = served
    assert client.post("/api/compose", content=b"{bars", headers={
        "content-type": "application/json"}).json()["error"] == "the form is not JSON"
    assert client.post("/api/compose", json=[1, 2]).status_code == 400
    for path in ("/pieces/0123456789ab/wav", "/pieces/..%2F..%2Fetc/wav",
                 "/pieces/%2E%2E/passwd", "/api/pieces/nope/variant"):
        response = client.get(path) if path.startswith("/pieces") else client.post(path, json={})
        assert response.status_code in (400, 404), path
    piece = client.post("/api/compose", json=SMALL).json()
    assert client.get(f"/pieces/{piece['id']}/passwd").status_code == 400


def test_two_people_composing_at_once_get_their_own_pieces(served):
    client, out = served
    results = {}

    def compose(seed: int) -> None:
        results[seed] = client.post("/api/compose", json={**SMALL, "seed": seed}).json()

    threads = [threading.Thread(target=compose, args=(seed,)) for seed in (11, 12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results[11]["id"] != results[12]["id"]
    assert {results[11]["seed"], results[12]["seed"]} == {11, 12}
    midis = [(out / results[s]["id"] / "piece.mid").read_bytes() for s in (11, 12)]
    assert all(m[:4] == b"MThd" for m in midis)


def test_the_page_offers_every_control_of_compose(served):
    client, _ = served
    page = client.get("/").text
    for control in ("tonic", "mode", "time_signature", "tempo", "bars", "seed", "temperature",
                    "top_k_pitch", "top_k_duration", "primer", "models", "candidates", "ending",
                    "form", "phrases", "pickup", "h-temperature", "h-candidates", "h-top_k_pitch",
                    "h-top_k_duration"):
        assert re.search(rf'id="{control}"', page), control
    options = client.get("/api/options").json()
    assert "bwv437" in options["primers"] and "6/8" in options["meters"]
    assert options["bounds"] | {"seconds": None} == {
        "bars": 64, "candidates": 16, "minutes": 10, "seconds": None, "tempo": [20, 400],
        "temperature": [0.05, 5], "abc_characters": 20_000, "melody_kb": 192}
    assert 'id="bounds"' in page


def test_nothing_is_written_outside_the_output_folder(tmp_path, monkeypatch, tiny_models):
    monkeypatch.chdir(tmp_path)
    with TestClient(build_app(tmp_path / "out", models=str(tiny_models)),
                    base_url=HERE) as client:
        piece = client.post("/api/compose", json=SMALL).json()
        assert client.get(piece["files"]["pdf"]).status_code == 200
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


@pytest.mark.parametrize("headers, says", [
    ({"host": "attacker.example"}, "answers only to 127.0.0.1, localhost, ::1"),
    ({"origin": "http://evil.example"}, "requests from other pages are refused"),
    ({"content-type": "text/plain"}, "must be sent as application/json"),
])
def test_another_page_or_name_cannot_drive_the_server(served, headers, says):
    """A page on another origin (a form POST as text/plain, or fetch with its Origin) and a
    request addressed to another name (DNS rebinding) are refused before any work."""
    client, out = served
    before = set(out.iterdir())
    body = b'{"bars": 2, "candidates": 1}'
    response = client.post("/api/compose", content=body,
                           headers={"content-type": "application/json", **headers})
    assert response.status_code == 403 and says in response.json()["error"]
    assert set(out.iterdir()) == before
    same = client.post("/api/compose", content=body, headers={
        "content-type": "application/json", "origin": HERE})
    assert same.status_code == 200


def test_a_large_body_is_refused_from_its_length(served):
    client, _ = served
    response = client.post("/api/compose", content=b" " * 20_000,
                           headers={"content-type": "application/json"})
    assert response.status_code == 400 and "too large" in response.json()["error"]
    lying = client.post("/api/compose", content=b"{}", headers={
        "content-type": "application/json", "content-length": "300000000"})
    assert lying.status_code == 400 and "too large" in lying.json()["error"]


def test_the_output_folder_keeps_the_newest_pieces(tmp_path, tiny_models):
    """By count, by size, and a folder a killed server left half-written is cleared."""
    from grandstaff.serving.studio import Studio

    out = tmp_path / "out"

    def pieces() -> list[str]:  # the worker's .scratch folder aside
        return sorted(p.name for p in out.iterdir() if not p.name.startswith("."))

    studio = Studio(out, models=str(tiny_models), keep=2)
    try:
        made = [studio.compose({**SMALL, "seed": seed})["id"] for seed in range(3)]
        assert pieces() == sorted(made[1:])
        with pytest.raises(Exception, match="no piece"):
            studio.file(made[0], "wav")
    finally:
        studio.close()
    (out / "abcdefabcdef").mkdir()  # killed before its title.txt: unfinished
    (out / "abcdefabcdef" / "piece.mid").write_bytes(b"MThd")
    (out / ".scratch" / "grandstaff-engrave-x").mkdir(parents=True)  # a killed worker's
    small = Studio(out, models=str(tiny_models), keep=100, keep_mb=0.001)
    try:
        assert not (out / "abcdefabcdef").exists()
        assert list((out / ".scratch").iterdir()) == []
        newest = small.compose({**SMALL, "seed": 9})["id"]
        assert pieces() == [newest]  # the newest always stays
    finally:
        small.close()


def test_no_server_path_or_linked_file_reaches_a_client(served):
    """An empty piece folder's PDF is a 404 without the server's own path; a link planted in a
    piece's folder is never followed; JSON's Infinity is no count."""
    import os

    client, out = served
    (out / "0123456789ab").mkdir()
    response = client.get("/pieces/0123456789ab/pdf")
    assert response.status_code in (400, 404) and str(out) not in response.text
    piece = client.post("/api/compose", json=SMALL).json()
    wav = out / piece["id"] / "piece.wav"
    wav.unlink()
    os.symlink("/etc/hostname", wav)
    assert client.get(piece["files"]["wav"]).status_code == 404
    infinite = client.post("/api/compose", content=b'{"bars": Infinity}',
                           headers={"content-type": "application/json"})
    assert infinite.status_code == 400 and "is not a whole number" in infinite.json()["error"]


def test_a_full_queue_is_told_to_come_back(served):
    """With one compose running and WAITING more queued, the next is a 503 with Retry-After
    at once, not a request held for minutes."""
    from grandstaff.serving.studio import WAITING

    client, _ = served
    studio = client.app.state.studio
    for _ in range(WAITING + 1):  # what that many requests in flight hold
        assert studio._queue.acquire(blocking=False)
    try:
        response = client.post("/api/compose", json=SMALL)
        assert response.status_code == 503 and response.headers["retry-after"] == "10"
        assert "waiting" in response.json()["error"]
    finally:
        for _ in range(WAITING + 1):
            studio._queue.release()
    assert client.post("/api/compose", json=SMALL).status_code == 200


def test_a_piece_past_its_budget_or_cancelled_is_stopped_and_leaves_nothing(served):
    """The worker process is killed (its temporary files go with it), the request is told so
    in one line, no piece folder stays, and the next request is composed by a new process."""
    import os

    from grandstaff.workers import JobStopped

    client, out = served
    studio = client.app.state.studio
    assert client.post("/api/compose", json=SMALL).status_code == 200
    before, first = set(out.iterdir()), studio._worker.pid
    studio.seconds = 0.01
    try:
        response = client.post("/api/compose", json=SMALL)
    finally:
        studio.seconds = 120.0
    assert response.status_code == 503
    assert response.json()["error"] == ("composing took longer than this server's 0.01 s; "
                                        "ask for fewer bars or candidates")
    assert set(out.iterdir()) == before and list((out / ".scratch").iterdir()) == []
    with pytest.raises(ProcessLookupError):
        os.kill(first, 0)
    with pytest.raises(JobStopped, match="cancelled"):
        studio.compose(SMALL, cancelled=lambda: True)
    assert set(out.iterdir()) == before
    again = client.post("/api/compose", json=SMALL)
    assert again.status_code == 200 and studio._worker.pid not in (None, first)


ABC = "X:1\nT:Little tune\nM:3/4\nK:D\nA2|d2e2f2|g4f2|e2d2c2|d4|]"


def test_a_melody_is_read_then_harmonised_from_typed_abc_or_a_file(served, tmp_path):
    """The page reads the melody first (key, meter, bars, its notes), then harmonises it: the
    piece keeps every melody note on top; a melody file travels as base64."""
    import base64

    client, out = served
    read = client.post("/api/melody", json={"abc": ABC})
    assert read.status_code == 200, read.text
    assert read.json() | {"notes": None} == {
        "key": "D major", "time_signature": "3/4", "bars": 4, "pickup": "2",
        "title": "Little tune", "notes": None}
    assert read.json()["notes"] == ["A4", "D5", "E5", "F#5", "G5", "F#5", "E5", "D5", "C#5",
                                    "D5"]
    piece = client.post("/api/harmonize", json={"abc": ABC, "seed": 4, "candidates": 2,
                                                "key": "E major"})
    assert piece.status_code == 200, piece.text
    made = piece.json()
    # four whole bars after the pickup, as the melody read above says
    assert made["key"] == "E major" and made["melody_kept"] == 1.0 and made["bars"] == 4
    assert (out / made["id"] / "piece.wav").is_file()
    abc_file = tmp_path / "tune.abc"
    abc_file.write_text(ABC)
    data = base64.b64encode(abc_file.read_bytes()).decode()
    from_file = client.post("/api/harmonize", json={"file": {"name": "tune.abc", "data": data},
                                                    "seed": 4, "candidates": 1})
    assert from_file.status_code == 200 and from_file.json()["key"] == "D major"


@pytest.mark.parametrize("form, says", [
    ({"abc": ABC, "file": {"name": "a.abc", "data": ""}}, "one of them"),
    ({}, "one of them"),
    ({"file": {"name": "tune.exe", "data": "AAAA"}}, "must be one of .mid"),
    ({"file": {"name": "tune.mid", "data": "not base64!"}}, "not base64"),
    ({"abc": "X:1\nK:C\n[CEG]2 c2|]"}, "several notes at once in bar 1, beat 1"),
    ({"abc": "X:1\nK:C\n" + "C2D2E2F2|" * 70 + "]"}, "this page harmonises at most 64"),
    ({"abc": "x" * 30_000}, "at most 20,000 on this page"),
    ({"abc": ABC, "candidates": 40}, "from 1 to 16 on this page"),
    ({"abc": ABC, "bars": 4}, "unknown control 'bars'"),
])
def test_a_bad_melody_on_the_page_is_one_line(served, form, says):
    client, out = served
    before = set(out.iterdir())
    response = client.post("/api/harmonize", json=form)
    assert response.status_code == 400 and says in response.json()["error"], response.text
    assert set(out.iterdir()) == before


def test_a_form_on_the_page_restates_a_phrase(served):
    client, _ = served
    made = client.post("/api/compose", json={**SMALL, "bars": 4, "form": "ABAB"})
    assert made.status_code == 200, made.text
    assert made.json()["form"] == "ABAB"


def test_a_phrase_plan_on_the_page_is_kept_and_said(served):
    client, _ = served
    made = client.post("/api/compose", json={**SMALL, "bars": 4, "phrases": "2,2"})
    assert made.status_code == 200, made.text
    assert made.json()["phrases"] == "2+2"
    drawn = client.post("/api/compose", json={**SMALL, "bars": 4, "phrases": ""})
    assert drawn.status_code == 200 and sum(map(int, drawn.json()["phrases"].split("+"))) == 4
