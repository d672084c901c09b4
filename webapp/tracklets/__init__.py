"""People found in footage: one tracklet per person per video."""
