"""The Python client of Axon: deploy, inspect and call APIs of an Axon platform.

    import axon

    client = axon.Client()                 # the local platform of $AXON_HOME (~/.axon)
    client.deploy("examples/text/axon.yaml")
    client.predict("sentiment", {"text": "a great day"})

Pure Python (standard library only). See docs/python-client.md.
"""

from .client import Client
from .environments import LOCAL, Environment, axon_home, load_environment
from .errors import (ApiError, AxonError, ConfigError, DeployError, NotRunningError,
                     WaitTimeout)

__all__ = ["Client", "Environment", "LOCAL", "axon_home", "load_environment", "AxonError",
           "ApiError", "ConfigError", "DeployError", "NotRunningError", "WaitTimeout"]
__version__ = "0.1.0"
