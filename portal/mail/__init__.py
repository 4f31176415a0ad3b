"""The outbox: every email is a row written with the event that caused it."""
