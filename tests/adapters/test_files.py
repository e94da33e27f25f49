"""FileMediaStore beyond the contract: keys that must be refused, atomic writes, signed links."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from tests.fakes import FakeClock

from waconnect.adapters.local.files import FileMediaStore, InvalidMediaKey
from waconnect.errors import PermanentError

SECRET = b"test-link-secret"
BASE = "http://127.0.0.1:8080/media"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> FileMediaStore:
    return FileMediaStore(tmp_path / "media", link_base_url=BASE, link_secret=SECRET, clock=clock)


@pytest.mark.parametrize(
    "key",
    [
        "",
        "../escape.txt",
        "inbound/../../escape.txt",
        "inbound/./file.txt",
        "/etc/passwd",
        "inbound//file.txt",
        "inbound/file.txt/",
        "inbound\\file.txt",
        "C:/Windows/file.txt",
        "c:file.txt",
        "file.txt:stream",
        "nul\x00byte.txt",
        "line\nbreak.txt",
        "x" * 256,
    ],
    ids=repr,
)
def test_unsafe_keys_are_refused_not_rewritten(
    store: FileMediaStore, tmp_path: Path, key: str
) -> None:
    with pytest.raises(InvalidMediaKey):
        store.put(key, [b"data"], content_type="text/plain")
    written = [p for p in (tmp_path / "media").rglob("*") if p.is_file()]
    assert written == []


def test_refused_key_is_both_a_value_error_and_a_permanent_error(store: FileMediaStore) -> None:
    with pytest.raises(ValueError, match="segment"):
        store.put("../x", [b""], content_type="text/plain")
    with pytest.raises(PermanentError):
        store.find("a/../b")


def test_failed_stream_leaves_no_file_behind_and_keeps_the_old_one(
    store: FileMediaStore, tmp_path: Path
) -> None:
    old = store.put("doc.txt", [b"old"], content_type="text/plain")

    def broken() -> Iterator[bytes]:
        yield b"partial"
        raise ConnectionResetError("customer's download broke")

    with pytest.raises(ConnectionResetError):
        store.put("doc.txt", broken(), content_type="text/plain")
    with store.open(old) as chunks:
        assert b"".join(chunks) == b"old"
    assert list((tmp_path / "media" / "tmp").iterdir()) == []


def test_open_of_a_missing_file_is_a_permanent_error(store: FileMediaStore) -> None:
    stored = store.put("gone.txt", [b"x"], content_type="text/plain")
    store.path("gone.txt").unlink()
    with pytest.raises(PermanentError), store.open(stored):
        pass


def test_signed_link_verifies_until_it_expires(store: FileMediaStore, clock: FakeClock) -> None:
    stored = store.put("out/Zoë's report.pdf", [b"%PDF"], content_type="application/pdf")
    url = store.link(stored, expires_in=300)
    parts = urlsplit(url)
    assert url.startswith(BASE + "/")
    key = unquote(parts.path.removeprefix(urlsplit(BASE).path + "/"))
    query = parse_qs(parts.query)
    expires, signature = int(query["expires"][0]), query["signature"][0]
    assert key == stored.key
    assert store.verify_link(key, expires=expires, signature=signature) is True
    clock.advance(299)
    assert store.verify_link(key, expires=expires, signature=signature) is True
    clock.advance(1)
    assert store.verify_link(key, expires=expires, signature=signature) is False


def test_signed_link_refuses_another_key_or_a_forged_signature(store: FileMediaStore) -> None:
    stored = store.put("out/a.pdf", [b"%PDF"], content_type="application/pdf")
    query = parse_qs(urlsplit(store.link(stored, expires_in=60)).query)
    expires, signature = int(query["expires"][0]), query["signature"][0]
    assert store.verify_link("out/b.pdf", expires=expires, signature=signature) is False
    assert store.verify_link("out/a.pdf", expires=expires + 3600, signature=signature) is False
    assert store.verify_link("out/a.pdf", expires=expires, signature="0" * 64) is False
    assert store.verify_link("../a.pdf", expires=expires, signature=signature) is False


def test_without_link_settings_a_link_is_the_files_own_url(tmp_path: Path) -> None:
    store = FileMediaStore(tmp_path / "media")
    stored = store.put("in/voice note.wav", [b"RIFF"], content_type="audio/wav")
    url = store.link(stored, expires_in=60)
    assert url.startswith("file://")
    assert Path(unquote(urlsplit(url).path)).read_bytes() == b"RIFF"
    assert store.verify_link(stored.key, expires=2**40, signature="") is False


def test_link_settings_must_come_together(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="together"):
        FileMediaStore(tmp_path, link_base_url=BASE, link_secret=None)


def test_find_skips_a_file_whose_description_is_missing(
    store: FileMediaStore, tmp_path: Path
) -> None:
    store.put("in/a.bin", [b"a"], content_type="application/octet-stream")
    complete = store.put("in/b.bin", [b"b"], content_type="application/octet-stream")
    meta = tmp_path / "media" / "meta" / "in" / "a.bin.json"
    meta.unlink()
    assert store.find("in/") == complete
