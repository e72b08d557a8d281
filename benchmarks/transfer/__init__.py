"""The transfer benchmark: three test sets textsynth did not draw (or drew with unseen fonts), and one table."""
