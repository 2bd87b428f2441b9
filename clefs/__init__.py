"""Trained model sets shipped with grandstaff: ``clefs/<set>/<clef>/``."""
