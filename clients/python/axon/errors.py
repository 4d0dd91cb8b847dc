"""The exceptions of the Axon client. Every one is an AxonError and carries a message."""

from __future__ import annotations

from typing import Optional


class AxonError(Exception):
    """Base class of every error the client raises.

    Attributes:
        message: what went wrong, as the platform (or the client) said it.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(AxonError):
    """$AXON_HOME/environments.json is malformed, or names no such environment."""


class NotRunningError(AxonError):
    """Nothing answers at the operator's (or the gateway's) address."""


class ApiError(AxonError):
    """The platform answered with an error status.

    Attributes:
        status: the HTTP status of the answer (400 for an invalid spec, 404 for an unknown API,
            401 for a wrong token, 409 for an endpoint that another API serves, 5xx ...).
        body: the raw body of the answer.
    """

    def __init__(self, message: str, status: int, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class DeployError(AxonError):
    """A deployed API went to status "error" while deploy() waited for it.

    Attributes:
        api: the API's name.
        reason: the platform's reason (the first line; `get(api)["error"]` has all of it).
    """

    def __init__(self, api: str, reason: str) -> None:
        super().__init__(f"api {api} failed to deploy: {reason}")
        self.api = api
        self.reason = reason


class WaitTimeout(AxonError, TimeoutError):
    """deploy(wait=True) gave up before every API was live.

    Attributes:
        statuses: the last status seen of each API that was waited for.
    """

    def __init__(self, message: str, statuses: Optional[dict] = None) -> None:
        super().__init__(message)
        self.statuses = dict(statuses or {})
