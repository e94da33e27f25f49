"""The contract tests' fixtures: a fake clock per test, and one sandbox cloud (Connect,
Participant Service, End User Messaging, S3) for the whole run.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes import FakeClock
from waconnect.sandbox.cloud import Cloud


@pytest.fixture(scope="session")
def cloud() -> Iterator[Cloud]:
    # Imported, never skipped: a contract test that cannot reach its emulator fails.
    with Cloud() as running:
        yield running


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
