"""Output: writing a music21 score as MusicXML and MIDI, and engraving MusicXML to PDF and PNG
with LilyPond or MuseScore. Knows no models and no Piece."""
