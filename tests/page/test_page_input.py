"""What the page's API does with a body that is not what the page sends: it refuses it, or
cleans it, and the sandbox goes on."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from tests.page.conftest import Sandbox

ANA = "15550100001"


def _post(sandbox: Sandbox, path: str, body: bytes) -> tuple[int, Any]:
    request = urllib.request.Request(
        sandbox.url + path, data=body, headers={"content-type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


NOT_AN_OBJECT = [
    (b'{"text": broken', "the request is not JSON"),
    (b"\xff\xfe", "the request is not JSON"),
    (b'["text"]', "the request is not a JSON object"),
]


def test_a_body_that_is_no_json_object_is_refused_with_a_reason(sandbox: Sandbox) -> None:
    for path in ("api/customer/text", "api/customer/read", "api/agent/text", "api/fault"):
        for body, why in NOT_AN_OBJECT:
            assert _post(sandbox, path, body) == (400, {"error": why}), (path, body)
    assert sandbox.get("api/scenario")["steps"] == []
    assert sandbox.get("api/state")["chats"] == []


def test_a_lone_surrogate_is_replaced_and_the_sandbox_goes_on(sandbox: Sandbox) -> None:
    # Valid JSON: a browser's JSON.stringify writes a lone surrogate this way.
    body = b'{"customer": "15550100001", "name": "Ana", "text": "a \\ud800 b"}'
    status, _ = _post(sandbox, "api/customer/text", body)
    assert status == 200
    after = json.dumps({"customer": ANA, "text": "next"}).encode()
    assert _post(sandbox, "api/customer/text", after)[0] == 200

    steps = sandbox.get("api/scenario")["steps"]
    assert [step["text"] for step in steps] == ["a \ufffd b", "next"]
    kept = json.loads((sandbox.data_dir / "session" / "scenario.json").read_text("utf-8"))
    assert [step["text"] for step in kept] == ["a \ufffd b", "next"]
    chat = sandbox.get("api/state")["chats"][0]
    shown = [item["content"] for item in chat["items"] if item["kind"] == "MESSAGE"]
    assert shown == ["a \ufffd b", "next"]
