"""Uploaded footage: chunked upload, probing, ingestion and deletion."""
