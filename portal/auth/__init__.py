"""Login, invitations, password reset, and opting in to (or out of) the program."""
