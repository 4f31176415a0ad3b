"""Admin screens: accounts and their gift policies, users, the audit log."""
