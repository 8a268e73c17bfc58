"""Expert panels: reviewer profiles, panel membership, conflicts, assignments and reviews."""
