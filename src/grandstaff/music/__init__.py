"""Music in: events and their tokens, keys, vocabularies, reading files with music21 and
writing events back as a music21 score. Nothing here knows keras or the corpus."""
