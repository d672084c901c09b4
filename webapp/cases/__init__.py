"""Investigations: footage is collected into a case and only the case's members see what came of it."""
