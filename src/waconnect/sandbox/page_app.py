"""The sandbox page's HTTP side: the page itself, its state, live events, and one route per action.

Customer and agent actions become replay steps run by :class:`LiveSandbox` (so "Save as scenario"
reproduces them); fault switches act on the emulators directly. Every answer is JSON; a refused
action answers 400 with ``{"error": why}``.
"""

from __future__ import annotations

import json
import mimetypes
import tempfile
from dataclasses import asdict
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from waconnect.errors import PermanentError
from waconnect.sandbox.cloud import Cloud
from waconnect.sandbox.faults_panel import FAULTS, apply_fault
from waconnect.sandbox.file_types import guess_media_kind, guess_mime_type
from waconnect.sandbox.live import ActionRefused, LiveSandbox
from waconnect.wire._clean import scrub

MAX_UPLOAD_BYTES = 100 * 1024 * 1024
INTERACTIVE = "application/vnd.amazonaws.connect.message.interactive"
_STATIC = frozenset({"index.html", "page.css", "page.js"})
_CONTENT_TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript"}


class PageRefusal(Exception):
    pass


async def _json_object(request: Request) -> dict[str, Any]:
    """The request's JSON object, lone surrogates replaced as wherever input arrives.

    A surrogate kept would reach the effect lines and the session's scenario file, which UTF-8
    cannot hold: every later action and the page's state would fail with it.
    """
    try:
        form = scrub(json.loads(await request.body()))
    except (ValueError, RecursionError):
        raise PageRefusal("the request is not JSON") from None
    if not isinstance(form, dict):
        raise PageRefusal("the request is not a JSON object")
    return form


def build_page_app(sandbox: LiveSandbox) -> Starlette:
    page = _Page(sandbox)
    return Starlette(
        routes=[
            Route("/", page.static, methods=["GET"]),
            Route("/static/{name}", page.static, methods=["GET"]),
            Route("/api/state", page.state, methods=["GET"]),
            Route("/api/events", page.events, methods=["GET"]),
            Route("/api/customer/{what}", page.customer, methods=["POST"]),
            Route("/api/agent/{what}", page.agent, methods=["POST"]),
            Route("/api/fault", page.fault, methods=["POST"]),
            Route("/api/scenario", page.scenario, methods=["GET"]),
            Route("/api/effects", page.effects, methods=["GET"]),
            Route("/media/whatsapp/{media_id}", page.whatsapp_media, methods=["GET"]),
            Route("/media/connect/{attachment_id}", page.connect_media, methods=["GET"]),
        ]
    )


class _Page:
    def __init__(self, sandbox: LiveSandbox) -> None:
        self._sandbox = sandbox

    async def static(self, request: Request) -> Response:
        name = request.path_params.get("name", "index.html")
        if name not in _STATIC:
            return Response("not found", status_code=404)
        text = resources.files("waconnect.sandbox.page").joinpath(name).read_bytes()
        media_type = _CONTENT_TYPES[Path(name).suffix]
        return Response(text, media_type=media_type, headers={"cache-control": "no-store"})

    async def state(self, request: Request) -> Response:
        state = await run_in_threadpool(_state, self._sandbox)
        return JSONResponse(state)

    async def events(self, _request: Request) -> Response:
        return StreamingResponse(
            self._sandbox.feed.stream(),
            media_type="text/event-stream",
            headers={"cache-control": "no-store"},
        )

    async def customer(self, request: Request) -> Response:
        what = request.path_params["what"]
        try:
            if what == "read":
                form = await _json_object(request)
                await run_in_threadpool(self._read, str(form.get("customer", "")))
                return JSONResponse({"ok": True})
            step = await _customer_step(what, request, self._sandbox)
            lines = await run_in_threadpool(self._sandbox.act, step)
        except (ActionRefused, PageRefusal, PermanentError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"lines": lines})

    def _read(self, customer: str) -> None:
        cloud = self._sandbox.cloud
        unread = cloud.whatsapp_view.unread_from_business(customer)
        if not unread:
            return

        def read_all(cloud: Cloud) -> None:
            for wamid in unread:
                cloud.customer_reads(wamid)

        self._sandbox.direct(read_all)

    async def agent(self, request: Request) -> Response:
        what = request.path_params["what"]
        try:
            step = await _agent_step(what, request, self._sandbox)
            lines = await run_in_threadpool(self._sandbox.act, step)
        except (ActionRefused, PageRefusal) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"lines": lines})

    async def fault(self, request: Request) -> Response:
        try:
            form = await _json_object(request)
            said = await run_in_threadpool(apply_fault, self._sandbox, form)
        except (ActionRefused, PageRefusal, ValueError, KeyError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"ok": True, "said": said})

    async def scenario(self, request: Request) -> Response:
        record = self._sandbox.record
        if request.query_params.get("format") == "zip":
            data = await run_in_threadpool(record.as_zip)
            return Response(
                data,
                media_type="application/zip",
                headers={"content-disposition": 'attachment; filename="sandbox-scenario.zip"'},
            )
        return JSONResponse({"path": str(record.root / "scenario.json"), "steps": record.steps})

    async def effects(self, _request: Request) -> Response:
        """The effect lines of every step done, as ``waconnect replay`` prints them."""
        return JSONResponse(list(self._sandbox.effects))

    async def whatsapp_media(self, request: Request) -> Response:
        try:
            stored = self._sandbox.cloud.whatsapp_view.media(request.path_params["media_id"])
        except KeyError:
            return Response("no such media", status_code=404)
        return FileResponse(stored.path, media_type=stored.content_type)

    async def connect_media(self, request: Request) -> Response:
        try:
            stored = self._sandbox.cloud.connect_view.attachment(
                request.path_params["attachment_id"]
            )
        except KeyError:
            return Response("no such attachment", status_code=404)
        download = request.query_params.get("download") == "1"
        return FileResponse(
            stored.path,
            media_type=stored.content_type,
            filename=stored.name if download else None,
            content_disposition_type="attachment" if download else "inline",
        )


def _state(sandbox: LiveSandbox) -> dict[str, Any]:
    cloud = sandbox.cloud
    whatsapp = cloud.whatsapp_view
    connect = cloud.connect_view
    contacts = connect.contacts()
    return {
        "business": {"display": "+1 555 000 0000", "name": "Sandbox Support"},
        "customers": list(whatsapp.customers()),
        "phones": {
            customer: [asdict(message) for message in whatsapp.conversation(customer)]
            for customer in whatsapp.customers()
        },
        "chats": [
            dict(
                asdict(summary),
                items=[asdict(item) for item in connect.transcript(summary.contact_id)],
            )
            for summary in contacts
        ],
        "wire": sandbox.feed.events(),
        "faults": FAULTS,
        "bridge": sandbox.bridge_state(),
        "steps": len(sandbox.record.steps),
        "scenario_path": str(sandbox.record.root / "scenario.json"),
    }


def _customer_spec(form: Any) -> dict[str, str]:
    number = "".join(ch for ch in str(form.get("customer", "")) if ch.isdigit())
    if not number:
        raise PageRefusal("choose a customer (a phone number)")
    spec = {"wa_id": number}
    name = str(form.get("name", "")).strip()
    if name:
        spec["name"] = name
    return spec


def _reply(form: Any, sandbox: LiveSandbox, step: dict[str, Any]) -> dict[str, Any]:
    wamid = str(form.get("reply_to", "") or "")
    if wamid:
        label = sandbox.label_of(wamid)
        if not label:
            raise PageRefusal("that message cannot be quoted (it was not sent from this page)")
        step["reply_to"] = label
    return step


async def _customer_step(what: str, request: Request, sandbox: LiveSandbox) -> dict[str, Any]:
    if what in ("file", "voice"):
        form: Any = await request.form(max_part_size=MAX_UPLOAD_BYTES)
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise PageRefusal("attach a file")
        data = await upload.read()
        if not data:
            raise PageRefusal(f"{upload.filename} is empty")
        customer = _customer_spec(form)
        if what == "voice":
            path = await run_in_threadpool(_voice_note, sandbox, upload.filename, data)
            return {"action": "customer.voice", "customer": customer, "path": path}
        path = sandbox.record.add_file(upload.filename, data)
        step: dict[str, Any] = {"action": "customer.file", "customer": customer, "path": path}
        mime = _upload_type(upload)
        step["mime_type"] = mime
        if guess_media_kind(mime) == "document":
            step["filename"] = Path(upload.filename).name
        caption = str(form.get("caption", "")).strip()
        if caption:
            step["caption"] = caption
        return step
    form = await _json_object(request)
    customer = _customer_spec(form)
    if what == "text":
        text = str(form.get("text", ""))
        if not text.strip():
            raise PageRefusal("write something first")
        step = {"action": "customer.text", "customer": customer, "text": text}
        return _reply(form, sandbox, step)
    if what == "location":
        step = {
            "action": "customer.location",
            "customer": customer,
            "latitude": float(form.get("latitude", 0)),
            "longitude": float(form.get("longitude", 0)),
        }
        for key in ("name", "address"):
            if form.get(key):
                step[key] = str(form[key])
        return step
    message = _customer_message(what, form)
    return _reply(form, sandbox, {"action": "customer.message", "customer": customer, **message})


def _customer_message(what: str, form: Any) -> dict[str, Any]:
    if what == "contact":
        name = str(form.get("contact_name", "")).strip() or "Someone"
        phone = str(form.get("contact_phone", "")).strip()
        card: dict[str, Any] = {"name": {"formatted_name": name, "first_name": name.split()[0]}}
        if phone:
            card["phones"] = [{"phone": phone, "type": "CELL"}]
        return {"message": {"type": "contacts", "contacts": [card]}}
    if what == "react":
        if not form.get("reply_to"):
            raise PageRefusal("choose the message to react to")
        return {"message": {"type": "reaction", "reaction": {"emoji": str(form.get("emoji", ""))}}}
    if what == "button":
        title = str(form.get("text", "")).strip() or "OK"
        payload = str(form.get("payload", "")) or title.upper().replace(" ", "_")
        return {"message": {"type": "button", "button": {"text": title, "payload": payload}}}
    if what == "choice":
        return {"message": _tapped(form)}
    raise PageRefusal(f"unknown customer action {what!r}")


def _tapped(form: Any) -> dict[str, Any]:
    """The reply WhatsApp sends when a reply button or a list row is tapped."""
    if not form.get("reply_to"):
        raise PageRefusal("choose the message whose option you tap")
    reply = {"id": str(form.get("reply_id", "")), "title": str(form.get("title", ""))}
    if not reply["id"] or not reply["title"]:
        raise PageRefusal("choose an option")
    if not form.get("list"):
        return {
            "type": "interactive",
            "interactive": {"type": "button_reply", "button_reply": reply},
        }
    if form.get("description"):
        reply["description"] = str(form["description"])
    return {"type": "interactive", "interactive": {"type": "list_reply", "list_reply": reply}}


def _upload_type(upload: UploadFile) -> str:
    name = upload.filename or ""
    guessed = guess_mime_type(Path(name))
    if guessed and guessed != "application/octet-stream":
        return guessed
    given = (upload.content_type or "").split(";", 1)[0].strip()
    return given or mimetypes.guess_type(name)[0] or "application/octet-stream"


def _voice_note(sandbox: LiveSandbox, name: str, data: bytes) -> str:
    """Any recording as WhatsApp sends a voice note: OGG/Opus, converted with PyAV."""
    from waconnect.media.conversions import transcode_file  # noqa: PLC0415 - PyAV is heavy

    with tempfile.TemporaryDirectory(prefix="waconnect-voice-") as folder:
        source = Path(folder) / ("source" + (Path(name).suffix or ".bin"))
        source.write_bytes(data)
        output = Path(folder) / "voice.ogg"
        transcode_file(source, output, "ogg-opus")
        return sandbox.record.add_file(Path(name).stem + ".ogg", output.read_bytes())


async def _agent_step(what: str, request: Request, sandbox: LiveSandbox) -> dict[str, Any]:
    if what == "file":
        form: Any = await request.form(max_part_size=MAX_UPLOAD_BYTES)
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise PageRefusal("attach a file")
        data = await upload.read()
        path = sandbox.record.add_file(upload.filename, data)
        step: dict[str, Any] = {"action": "agent.file", "path": path}
        step["content_type"] = _upload_type(upload)
        return _target(form, sandbox, step)
    form = await _json_object(request)
    if what == "text":
        text = str(form.get("text", ""))
        if not text.strip():
            raise PageRefusal("write something first")
        content_type = "text/markdown" if form.get("markdown") else "text/plain"
        step = {"action": "agent.text", "text": text, "content_type": content_type}
        return _target(form, sandbox, step)
    if what == "end":
        return _target(form, sandbox, {"action": "agent.end"})
    if what == "options":
        step = {
            "action": "agent.text",
            "text": _options_template(form),
            "content_type": INTERACTIVE,
        }
        return _target(form, sandbox, step)
    raise PageRefusal(f"unknown agent action {what!r}")


def _options_template(form: Any) -> str:
    """A question with options as Connect's flows and bots send it: a quick reply, or a list
    picker (the bridge makes reply buttons or a WhatsApp list of them)."""
    question = str(form.get("question", "")).strip()
    options = [str(o).strip() for o in form.get("options") or [] if str(o).strip()]
    if not question or not options:
        raise PageRefusal("write a question and at least one option")
    kind = "ListPicker" if form.get("list") else "QuickReply"
    content = {"title": question, "elements": [{"title": option} for option in options]}
    template = {"templateType": kind, "version": "1.0", "data": {"content": content}}
    return json.dumps(template, ensure_ascii=False)


def _target(form: Any, sandbox: LiveSandbox, step: dict[str, Any]) -> dict[str, Any]:
    """Name the chat by its customer when it is their open chat (so a replay finds it anew)."""
    contact_id = str(form.get("contact_id", ""))
    if not contact_id:
        raise PageRefusal("choose a chat")
    for summary in sandbox.cloud.connect_view.contacts():
        if summary.contact_id == contact_id:
            if not summary.active:
                raise PageRefusal("this chat has ended")
            return dict(step, customer=summary.customer)
    raise PageRefusal("no such chat")
