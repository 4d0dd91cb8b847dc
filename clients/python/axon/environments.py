"""Where a client finds the platform it talks to: the environments of $AXON_HOME.

An environment is a platform: its operator (management API) and gateway (predictions)
addresses and its token. "local" is the platform that `axon up` started with this AXON_HOME;
its addresses come from $AXON_HOME/platform.json and its token from $AXON_HOME/token, as the
`axon` command reads them. Other platforms are named in $AXON_HOME/environments.json:

    {"default": "local",
     "environments": {
       "prod": {"operator_url": "https://axon.example.com:8889",
                "gateway_url": "https://axon.example.com",
                "token": "...",
                "ca_file": "prod-ca.pem"}}}

"default" (optional, "local" when missing) names the environment used when none is asked
for; "ca_file" (optional) is a PEM file of certificate authorities for https URLs, relative to
AXON_HOME when not absolute. The file is optional: without it only "local" exists.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional

from .errors import ConfigError

LOCAL = "local"
ENVIRONMENTS_FILE = "environments.json"

_FIELDS = {"operator_url": True, "gateway_url": True, "token": True, "ca_file": False}


@dataclass(frozen=True)
class Environment:
    """One platform's addresses and credentials.

    Attributes:
        name: "local" or a name from environments.json.
        operator_url: the management API, "http://127.0.0.1:8889".
        gateway_url: where predictions go, "http://127.0.0.1:8888".
        token: the bearer token of the management API ("" when none is known).
        ca_file: a PEM file of certificate authorities for https URLs, or None for the
            system's.
    """

    name: str
    operator_url: str
    gateway_url: str
    token: str
    ca_file: Optional[str] = None


def axon_home() -> Path:
    """$AXON_HOME (made absolute), else $HOME/.axon, else /tmp/.axon: as the `axon` command."""
    env = os.environ.get("AXON_HOME")
    if env:
        return Path(os.path.abspath(env))
    return Path(os.environ.get("HOME") or "/tmp") / ".axon"


def load_environment(env: Optional[str] = None, home: Optional[os.PathLike] = None
                     ) -> Environment:
    """The environment named `env`; None means the file's "default", else "local".

    Raises:
        ConfigError: environments.json is not valid, or has no environment `env`.
    """
    home = Path(home) if home is not None else axon_home()
    config = _read_config(home)
    name = env if env is not None else config.get("default", LOCAL)
    if name == LOCAL:
        return _local(home)
    environments = config.get("environments", {})
    if name not in environments:
        known = ", ".join([LOCAL] + sorted(environments))
        where = home / ENVIRONMENTS_FILE
        raise ConfigError(f"no environment named {name!r} (known: {known}); add it to "
                          f"\"environments\" in {where}")
    entry = environments[name]
    ca_file = entry.get("ca_file")
    if ca_file is not None:
        ca_file = str(home / ca_file)  # an absolute ca_file stays as it is
    return Environment(name=name, operator_url=entry["operator_url"].rstrip("/"),
                       gateway_url=entry["gateway_url"].rstrip("/"), token=entry["token"],
                       ca_file=ca_file)


def _local(home: Path) -> Environment:
    addresses: Dict[str, Any] = {}
    try:
        addresses = json.loads((home / "platform.json").read_text())
    except (OSError, ValueError):
        pass  # as the CLI: the default addresses
    if not isinstance(addresses, dict):
        addresses = {}
    try:
        token = (home / "token").read_text().strip()
    except OSError:
        token = ""

    def url(host_key: str, port_key: str, port: int) -> str:
        host = str(addresses.get(host_key, "127.0.0.1"))
        if host == "0.0.0.0":
            host = "127.0.0.1"
        return f"http://{host}:{addresses.get(port_key, port)}"

    return Environment(name=LOCAL, operator_url=url("operator_host", "operator_port", 8889),
                       gateway_url=url("gateway_host", "gateway_port", 8888), token=token)


def _read_config(home: Path) -> Dict[str, Any]:
    """environments.json, checked; {} when there is no such file."""
    path = home / ENVIRONMENTS_FILE
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror}") from None
    try:
        config = json.loads(text)
    except ValueError as e:
        raise ConfigError(f"{path}: not valid JSON: {e}") from None
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: must be a JSON object "
                          '{"default": NAME, "environments": {NAME: {...}}}')
    for key in config:
        if key not in ("default", "environments"):
            raise ConfigError(f"{path}: unknown field {key!r}; the fields are \"default\" and "
                              "\"environments\"")
    default = config.get("default", LOCAL)
    if not isinstance(default, str):
        raise ConfigError(f"{path}: default: must be an environment's name (a string)")
    environments = config.get("environments", {})
    if not isinstance(environments, dict):
        raise ConfigError(f"{path}: environments: must be an object of NAME: {{...}}")
    for name, entry in environments.items():
        _check_entry(path, name, entry)
    if default != LOCAL and default not in environments:
        raise ConfigError(f"{path}: default: {default!r} is not \"local\" nor an environment "
                          "of the file")
    return config


def _check_entry(path: Path, name: str, entry: Any) -> None:
    where = f"{path}: environments.{name}"
    if name == LOCAL:
        raise ConfigError(f"{where}: \"local\" is reserved for the platform of platform.json "
                          "and token; choose another name")
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be an object with operator_url, gateway_url, token")
    for key in entry:
        if key not in _FIELDS:
            raise ConfigError(f"{where}: unknown field {key!r}; the fields are "
                              f"{', '.join(_FIELDS)}")
    for key, required in _FIELDS.items():
        if key not in entry:
            if required:
                raise ConfigError(f"{where}: {key} is missing")
            continue
        if not isinstance(entry[key], str) or not entry[key]:
            raise ConfigError(f"{where}: {key}: must be a non-empty string")
    for key in ("operator_url", "gateway_url"):
        if not entry[key].startswith(("http://", "https://")):
            raise ConfigError(f"{where}: {key}: must start with http:// or https://, "
                              f"got {entry[key]!r}")
