"""The contract tests' fixtures: a fake clock per test, and one sandbox cloud (Connect,
Participant Service, End User Messaging, S3) for the whole run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes import FakeClock


@pytest.fixture(scope="session")
def cloud() -> Iterator[Any]:
    cloud_module = pytest.importorskip(
        "waconnect.sandbox.cloud", reason="the sandbox emulators are not in this tree yet"
    )
    with cloud_module.Cloud() as running:
        yield running


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
