"""The advocate's side: hub home, joining and leaving, profile and data download."""
