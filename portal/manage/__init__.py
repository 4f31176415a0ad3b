"""Program managers' screens."""
