"""Vouch portal: the web application and the people in it."""
