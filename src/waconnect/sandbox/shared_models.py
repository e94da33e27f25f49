"""One botocore data loader for every session in a sandbox process.

The emulators read service models to parse requests, the cloud's clients and the bridge's
clients read them to make requests: each botocore session has a loader of its own, so each would
load the same models (Connect's alone is over 10 MB in memory) once more. Sessions made here share
one loader, and with it each model, loaded once per process.
"""

from __future__ import annotations

from functools import cache

import botocore.loaders
import botocore.session


@cache
def _loader() -> botocore.loaders.Loader:
    return botocore.loaders.create_loader()


def botocore_session() -> botocore.session.Session:
    """A new botocore session (its own events, credentials, config) on the shared loader."""
    session = botocore.session.Session()
    session.register_component("data_loader", _loader())
    return session
