"""Feature definitions: pure DataFrame -> DataFrame transforms and the feature registry."""
