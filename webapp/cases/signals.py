"""Signals other apps answer: the footage app deletes what a deleted case leaves unheld.

The footage app depends on cases (uploads go into one), so cases cannot call into it; it listens
here instead, and the deletion-leaves-zero test proves the listener is connected.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside case deletion, before the case row goes, with ``case`` and ``report`` (a
# ``DeletionReport`` the receivers fill in). A receiver that raises stops the deletion.
case_deleting = Signal()
