"""Settings every test module shares.

Hypothesis fails a property whose example ran past a 200 ms deadline, or whose data took long
to generate, and on a busy machine that is the machine, not the code: the suite's profile
drops both checks so that only a broken property fails. A module's own ``@settings`` keep the
profile's values for what they do not name.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")
