"""moto's in-process mock without wiping the state of moto servers running in this process.

``mock_aws()`` resets every moto backend when it starts and stops. The sandbox's S3 is moto's
server running in-process (sharing those backends), so a plain ``mock_aws()`` in one test would
delete the buckets of a Cloud another test still uses. Tests that use this mock name their
buckets and tables uniquely instead of relying on a reset.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from moto import mock_aws


@contextmanager
def isolated_mock_aws() -> Iterator[None]:
    mock = mock_aws()
    mock.start(reset=False)
    try:
        yield
    finally:
        mock.stop(remove_data=False)


def unique(name: str) -> str:
    """A resource name no other test in this process uses."""
    return f"{name}-{uuid.uuid4().hex[:10]}"
