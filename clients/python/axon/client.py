"""axon.Client: drives an Axon platform over its management API and its gateway."""

from __future__ import annotations

import json
import os
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Union

from .environments import Environment, load_environment
from .errors import (ApiError, AxonError, ConfigError, DeployError, NotRunningError,
                     WaitTimeout)

Spec = Union[str, os.PathLike, Dict[str, Any], Sequence[Dict[str, Any]]]

# How often deploy(wait=True) and logs(follow=True) ask the operator again (seconds).
_POLL_INTERVAL = 0.2
_FOLLOW_INTERVAL = 0.5


class Client:
    """A connection to one Axon platform (an environment, see axon.environments).

    Client() talks to the environment that $AXON_HOME/environments.json names as its
    default, or, without that file, to the local platform that `axon up` started with this
    AXON_HOME. Client("prod") talks to the environment "prod" of that file.

    Every method blocks until the platform has answered (at most `timeout` seconds per HTTP
    call) and raises an AxonError subclass on failure: ApiError carries the platform's own
    message and HTTP status, NotRunningError says that nothing answers at the address. A
    Client holds no connection between calls; it is safe to share between threads.
    """

    def __init__(self, env: Optional[str] = None, *, home: Optional[os.PathLike] = None,
                 timeout: float = 120.0) -> None:
        """Picks the environment.

        Args:
            env: an environment's name; None for the default one.
            home: the AXON_HOME to read; default $AXON_HOME, else ~/.axon.
            timeout: seconds each HTTP call may take.

        Raises:
            ConfigError: environments.json is malformed or lacks `env`.
        """
        self.environment: Environment = load_environment(env, home)
        self.timeout = timeout
        self._ssl = None
        if self.environment.ca_file:
            try:
                self._ssl = ssl.create_default_context(cafile=self.environment.ca_file)
            except (OSError, ssl.SSLError) as e:
                raise ConfigError(f"environment {self.environment.name!r}: ca_file "
                                  f"{self.environment.ca_file}: not a readable PEM file of "
                                  f"certificates ({e})") from None

    def __repr__(self) -> str:
        return (f"axon.Client(env={self.environment.name!r}, "
                f"operator={self.environment.operator_url!r})")

    # --- the management API ------------------------------------------------------------

    def info(self) -> Dict[str, Any]:
        """The platform's version, commit and addresses (GET /v1/info)."""
        return self._call("GET", "/v1/info")

    def list(self) -> List[Dict[str, Any]]:
        """Every deployed API, as `axon get -o json` shows them: name, status, endpoint,
        version, requested and ready replicas, request statistics."""
        return self._call("GET", "/v1/apis")

    def get(self, name: str) -> Dict[str, Any]:
        """One API with its full error text, stored spec and replicas.

        Raises:
            ApiError: status 404 when no API has that name.
        """
        return self._call("GET", f"/v1/apis/{_quote(name)}")

    def delete(self, name: str) -> None:
        """Deletes an API and stops its replicas."""
        self._call("DELETE", f"/v1/apis/{_quote(name)}")

    def refresh(self, name: str) -> None:
        """Replaces every replica of an API by a fresh one (a rolling restart)."""
        self._call("POST", f"/v1/apis/{_quote(name)}/refresh")

    def deploy(self, spec: Spec, wait: bool = True, *, timeout: float = 300.0,
               base_dir: Optional[os.PathLike] = None) -> List[Dict[str, Any]]:
        """Creates or updates the APIs of a spec.

        Args:
            spec: the path of a spec file (axon.yaml), or the spec itself: a dict for one API
                or a list of dicts, with the fields of the YAML file.
            wait: wait until every API of the spec is live (its requested replicas of the new
                version are ready); raise DeployError as soon as one goes to "error".
            timeout: seconds to wait when `wait` is true (WaitTimeout after).
            base_dir: the folder that relative paths of a dict spec are resolved against
                (default: the current directory). A file's paths resolve against its folder.

        Returns:
            One entry per API: {"api", "action" (created, updated, unchanged), "version",
            "endpoint"}.

        Raises:
            ApiError: the platform rejected the spec (status 400, with every error listed,
                or 409 for an endpoint that another API serves).
            DeployError, WaitTimeout: see `wait`.
        """
        if isinstance(spec, (dict, list, tuple)):
            shown = "<dict>" if isinstance(spec, dict) else "<list>"
            base = Path(base_dir) if base_dir is not None else Path.cwd()
            absolute = str(base.resolve() / shown)
            text = json.dumps(spec if isinstance(spec, dict) else list(spec), indent=2)
        else:
            shown = os.fspath(spec)
            absolute = os.path.normpath(os.path.abspath(shown))
            try:
                text = Path(shown).read_text()
            except OSError as e:
                raise AxonError(f"cannot read {shown}: {e.strerror}") from None
        try:
            results = self._call("POST", "/v1/deploy", {"file": absolute, "yaml": text})
        except ApiError as e:
            e.message = e.message.replace(absolute, shown)  # the path as the caller gave it
            e.args = (e.message,)
            raise
        if wait:
            self._wait_live([r["api"] for r in results], timeout)
        return results

    def logs(self, name: str, follow: bool = False, *, tail: int = 100
             ) -> Union[str, Iterator[str]]:
        """The output of an API's replicas ($AXON_HOME/logs/NAME.log of the platform).

        Args:
            name: the API.
            follow: False returns the last `tail` lines as one string. True returns an
                iterator of lines (each ending in "\\n"): the last `tail` lines, then every
                new line as it is written, until the API is deleted. It asks the platform
                every 0.5 s; stop it by leaving the loop.
            tail: how many past lines to start with (0: the last 64 KiB).
        """
        first = self._call("GET", f"/v1/apis/{_quote(name)}/logs?tail={int(tail)}")
        if not follow:
            return first["text"]
        return self._follow(name, first)

    # --- the gateway ---------------------------------------------------------------------

    def predict(self, name: str, payload: Any, *, content_type: Optional[str] = None) -> Any:
        """Sends one prediction request to an API through the gateway.

        Args:
            name: the API (its endpoint is asked of the operator).
            payload: a dict, list, number, bool or None is sent as JSON; a str as text/plain;
                bytes as application/octet-stream.
            content_type: overrides the content type chosen from the payload.

        Returns:
            The answer: parsed JSON for a JSON answer, str for text/*, else bytes.

        Raises:
            ApiError: the answer's status was not 2xx (the predictor's error, 503 while no
                replica is ready, 504 on a timeout...).
        """
        endpoint = self.get(name)["endpoint"]
        if isinstance(payload, (bytes, bytearray)):
            body, kind = bytes(payload), "application/octet-stream"
        elif isinstance(payload, str):
            body, kind = payload.encode(), "text/plain; charset=utf-8"
        else:
            body, kind = json.dumps(payload).encode(), "application/json"
        status, headers, data = self._request(
            "POST", self.environment.gateway_url + endpoint, body,
            {"Content-Type": content_type or kind}, what="gateway")
        if status // 100 != 2:
            raise ApiError(f"api {name}: HTTP {status}: {_error_text(data)}", status,
                           data.decode(errors="replace"))
        answer_type = headers.get("Content-Type", "")
        if "json" in answer_type:
            return json.loads(data)
        if answer_type.startswith("text/"):
            return data.decode(errors="replace")
        return data

    # --- internals -------------------------------------------------------------------------

    def _wait_live(self, names: List[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        statuses: Dict[str, str] = {}
        while True:
            for name in names:
                api = self.get(name)
                statuses[name] = api["status"]
                if api["status"] == "error":
                    raise DeployError(name, api.get("reason") or api.get("error", ""))
            if all(s == "live" for s in statuses.values()):
                return
            if time.monotonic() >= deadline:
                pending = ", ".join(f"{n} is {s}" for n, s in statuses.items() if s != "live")
                raise WaitTimeout(f"not every api is live after {timeout:g} s ({pending}); "
                                  "see get(NAME) or logs(NAME)", statuses)
            time.sleep(_POLL_INTERVAL)

    def _follow(self, name: str, chunk: Dict[str, Any]) -> Iterator[str]:
        pending = ""
        while True:
            pending += chunk["text"]
            *lines, pending = pending.split("\n")
            for line in lines:
                yield line + "\n"
            if not chunk["more"]:
                time.sleep(_FOLLOW_INTERVAL)
            try:
                chunk = self._call("GET", f"/v1/apis/{_quote(name)}/logs?{chunk['next']}")
            except ApiError as e:
                if e.status == 404:  # the API was deleted: the log has ended
                    if pending:
                        yield pending
                    return
                raise

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        """One management API call; the decoded JSON answer."""
        headers = {"Authorization": f"Bearer {self.environment.token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        status, _, answer = self._request(method, self.environment.operator_url + path, data,
                                          headers, what="operator")
        if status // 100 != 2:
            raise ApiError(_error_text(answer), status, answer.decode(errors="replace"))
        try:
            return json.loads(answer)
        except ValueError:
            raise AxonError(f"the operator at {self.environment.operator_url} sent malformed "
                            "JSON") from None

    def _request(self, method: str, url: str, body: Optional[bytes], headers: Dict[str, str],
                 what: str):
        """(status, headers, body) of one HTTP exchange; any status is returned."""
        request = urllib.request.Request(url, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout,
                                        context=self._ssl) as res:
                return res.status, res.headers, res.read()
        except urllib.error.HTTPError as e:
            with e:
                return e.code, e.headers, e.read()
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            where = "/".join(url.split("/", 3)[:3])
            if isinstance(reason, (socket.timeout, TimeoutError)):
                raise AxonError(f"the Axon {what} at {where} did not answer within "
                                f"{self.timeout:g} s") from None
            hint = " (start it with `axon up`)" if self.environment.name == "local" else ""
            raise NotRunningError(f"the Axon {what} is not reachable at {where}{hint}: "
                                  f"{reason}") from None


def _quote(name: str) -> str:
    return urllib.parse.quote(name, safe="")


def _error_text(body: bytes) -> str:
    """The "error" of a JSON error answer, else the body itself."""
    try:
        answer = json.loads(body)
    except ValueError:
        return body.decode(errors="replace")
    if isinstance(answer, dict) and isinstance(answer.get("error"), str):
        return answer["error"]
    return body.decode(errors="replace")
