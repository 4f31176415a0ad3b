"""Domain errors: each carries a message a person can read."""


class DomainError(Exception):
    """A refusal the caller shows to the person as it is."""

    field: str | None = None

    def __init__(self, message: str, field: str | None = None):
        message = str(message)  # a lazy translation is read now, in the reader's language
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field


class NotFound(DomainError):
    pass


class AlreadyHandled(DomainError):
    """Someone else changed the thing first (a lost race): HTTP 409 in the API."""


class InvalidToken(DomainError):
    pass


class LastAdmin(DomainError):
    pass


class DuplicateEmail(DomainError):
    field = "email"


class WeakPassword(DomainError):
    field = "password"
