"""Customer accounts, users, roles, consent, gift policy and the audit trail."""
