"""ClientTokens: the same request always carries the same token; different ones never collide."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from waconnect.services.client_tokens import MAX_CLIENT_TOKEN, client_token

PURPOSES = ("chat", "text", "caption", "file", "notice", "transcript", "failure")


def test_token_is_the_same_for_the_same_request() -> None:
    assert client_token("wamid.A", "text", part=1, generation=2) == client_token(
        "wamid.A", "text", part=1, generation=2
    )


def test_tokens_differ_across_purposes_parts_generations_and_messages() -> None:
    tokens = {
        client_token(wamid, purpose, part=part, generation=generation)
        for wamid, purpose, part, generation in itertools.product(
            ("wamid.A", "wamid.B"), PURPOSES, range(3), (1, 2)
        )
    }

    assert len(tokens) == 2 * len(PURPOSES) * 3 * 2


@given(wamid=st.text(min_size=1, max_size=2000), part=st.integers(0, 50), gen=st.integers(1, 99))
def test_tokens_fit_connects_limit_and_stay_distinct_by_generation(
    wamid: str, part: int, gen: int
) -> None:
    token = client_token(wamid, "caption", part=part, generation=gen)

    assert 0 < len(token) <= MAX_CLIENT_TOKEN
    assert token != client_token(wamid, "caption", part=part, generation=gen + 1)
    assert token != client_token(wamid, "caption", part=part + 1, generation=gen)
