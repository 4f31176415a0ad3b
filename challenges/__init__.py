"""Challenges: types, targeting, submissions, review and thank-yous."""
