"""Cross-cutting web pieces: login gate, error mapping, websocket events and pages."""
