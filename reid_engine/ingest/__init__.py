"""The parts of one ingest run: run state, crop scoring, thumbnails, progress, motion gating."""
