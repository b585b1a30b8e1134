"""Opt-in HTTP cassette layer (``--synalinks-cassette-layer=http``), on vcrpy.

For full-stack fidelity: litellm really runs (provider adapters, HTTP client,
response parsing) and vcrpy records or replays the HTTP exchanges. The preset:

- auth headers (``authorization``, ``api-key``, ``x-api-key``, ...), auth query
  keys and response cookies are dropped before anything is stored, and so is every
  header, query parameter and top-level JSON body key whose name looks like a
  credential (:func:`synatest.cassettes.secrets.secret_name`);
- compressed response bodies are decoded (readable, diffable files);
- JSON request bodies match canonically (sorted keys, the same normalization and
  scrubbers as the LM layer) and a mismatch explains itself with a diff;
- lookup goes through a dict index instead of vcrpy's linear scan of every
  recording, so replay stays O(1) per request;
- files are written atomically after the secret scan, with a header naming the
  synalinks/litellm versions (vcrpy metadata), as ``<test name>.http.yaml``.

vcrpy is imported only when this layer is used.
"""

from __future__ import annotations

import contextlib
import json
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from synatest import seam
from synatest._atomic import atomic_write_text
from synatest.cassettes import secrets
from synatest.cassettes.fileformat import open_seal, read_cassette_text, seal
from synatest.cassettes.layer import CassetteLayer
from synatest.cassettes.normalize import Scrubber, canonical, normalize
from synatest.cassettes.store import FORMAT_VERSION, Cassette, recorded_with
from synatest.errors import CassetteError, CassetteMiss
from synatest.seam import LMRequest, Router

AUTH_HEADERS = (
    "authorization",
    "api-key",
    "x-api-key",
    "x-goog-api-key",
    "openai-organization",
    "openai-project",
    "anthropic-api-key",
    "cookie",
    "proxy-authorization",
)
AUTH_QUERY_KEYS = ("key", "api_key", "api-key", "apikey", "access_token", "token")
DROPPED_RESPONSE_HEADERS = ("set-cookie", "set-cookie2")
VCR_MODES = {"none": "none", "once": "once", "new_episodes": "new_episodes", "rewrite": "all"}


def http_path(lm_path: Path) -> Path:
    """``.../test_x.yaml`` -> ``.../test_x.http.yaml``."""
    return lm_path.with_name(lm_path.name.removesuffix(".yaml") + ".http.yaml")


def canonical_body(body: Any, scrubbers: tuple[Scrubber, ...] = ()) -> str:
    """A JSON body as canonical text (normalized like the LM layer); raw text otherwise."""
    if body is None:
        return ""
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            return str(body.hex())
    try:
        data = json.loads(body)
    except (TypeError, ValueError):
        return str(body)
    if isinstance(data, dict):
        data = normalize("http", data, scrubbers=scrubbers)
    return canonical(data)


def _secret_query_key(name: str) -> bool:
    return name.lower() in AUTH_QUERY_KEYS or secrets.secret_name(name)


def _query(uri: str) -> str:
    pairs = [(k, v) for k, v in parse_qsl(urlsplit(uri).query) if not _secret_query_key(k)]
    return urlencode(sorted(pairs))


def drop_secret_names(request: Any) -> Any:
    """A vcrpy request without credential-named headers, query keys and JSON body keys."""
    for name in list(request.headers):
        if name.lower() in AUTH_HEADERS or secrets.secret_name(name):
            del request.headers[name]
    parts = urlsplit(request.uri)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not _secret_query_key(k)]
    if len(kept) != len(pairs):
        request.uri = parts._replace(query=urlencode(kept)).geturl()
    body = request.body
    if body:
        try:
            data = json.loads(body)
        except (TypeError, ValueError, UnicodeDecodeError):
            return request
        if isinstance(data, dict) and any(secrets.secret_name(k) for k in data):
            clean = {k: v for k, v in data.items() if not secrets.secret_name(k)}
            request.body = json.dumps(clean).encode("utf-8")
    return request


def _status(response: dict[str, Any]) -> int:
    status = response.get("status")
    code = status.get("code") if isinstance(status, dict) else status
    return int(code) if isinstance(code, int) else 200


def error_filter(record_errors: bool) -> Any:
    """vcrpy's ``before_record_response``: like the LM layer, an error response
    (status >= 400: rate limits, provider errors) is kept only with ``record_errors``."""

    def keep(response: dict[str, Any]) -> dict[str, Any] | None:
        if not record_errors and _status(response) >= 400:
            return None  # vcrpy records nothing for this request
        return _drop_response_headers(response)

    return keep


def _drop_response_headers(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers") or {}
    response["headers"] = {
        k: v
        for k, v in headers.items()
        if k.lower() not in DROPPED_RESPONSE_HEADERS and not secrets.secret_name(k)
    }
    return response


def _make_cassette_class() -> Any:
    from vcr.cassette import Cassette as VcrCassette

    class IndexedCassette(VcrCassette):  # type: ignore[misc]
        """vcrpy's cassette with a dict index: O(1) lookup instead of a linear scan."""

        scrubbers: tuple[Scrubber, ...] = ()

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self._index: dict[tuple[str, ...], list[int]] = {}
            super().__init__(*args, **kwargs)

        def key(self, request: Any) -> tuple[str, ...]:
            return (
                request.method,
                request.scheme,
                request.host,
                str(request.port),
                request.path,
                _query(request.uri),
                canonical_body(request.body, self.scrubbers),
            )

        def append(self, request: Any, response: Any) -> None:
            before = len(self.data)
            super().append(request, response)
            if len(self.data) > before:
                self._index.setdefault(self.key(self.data[-1][0]), []).append(before)

        def _responses(self, request: Any) -> Any:
            request = self._before_record_request(request)
            if not request:
                return
            for index in self._index.get(self.key(request), ()):
                yield index, self.data[index][1]

    return IndexedCassette


def json_body_matcher(scrubbers: tuple[Scrubber, ...]) -> Any:
    """A vcrpy matcher comparing JSON bodies canonically; its failure shows a diff."""

    def synatest_json_body(r1: Any, r2: Any) -> None:
        a, b = canonical_body(r1.body, scrubbers), canonical_body(r2.body, scrubbers)
        if a == b:
            return
        import difflib

        def pretty(text: str) -> list[str]:
            try:
                return json.dumps(json.loads(text), indent=2, sort_keys=True).splitlines()
            except ValueError:
                return text.splitlines()

        diff = list(
            difflib.unified_diff(pretty(a), pretty(b), "this call", "recorded", lineterm="")
        )
        raise AssertionError("JSON bodies differ:\n" + "\n".join(diff[:40]))

    return synatest_json_body


# First line of the HTTP cassettes synatest writes: they end with a seal line, like
# LM cassettes (files without it, written before seals, load unchecked).
HTTP_HEADER = "# synatest-http-cassette: 2\n"


def open_http_cassette(path: Path) -> str:
    """The vcrpy YAML of an HTTP cassette, its seal checked.

    Raises:
        CassetteError: naming the file, when it is empty, not UTF-8, cut short or
            changed after it was written.
    """
    text = read_cassette_text(path)
    assert text is not None
    if not text.strip():
        raise CassetteError(
            f"{path}: HTTP cassette is empty (cut short?); delete it and re-record with "
            "--synalinks-record-mode=rewrite"
        )
    if text.startswith(HTTP_HEADER) or HTTP_HEADER.startswith(text):
        return open_seal(text, where=path, required=True).body
    return text


class SynatestPersister:
    """vcrpy persister: sealed atomic writes, refused when the secret scan finds anything."""

    @classmethod
    def load_cassette(cls, cassette_path: Any, serializer: Any) -> Any:
        from vcr.persisters.filesystem import CassetteNotFoundError
        from vcr.serialize import deserialize

        path = Path(cassette_path)
        if not path.is_file():
            raise CassetteNotFoundError()
        text = open_http_cassette(path)
        try:
            return deserialize(text, serializer)
        except Exception as error:
            raise CassetteError(
                f"{path}: not a readable HTTP cassette ({type(error).__name__}: {error}); "
                "delete it and re-record with --synalinks-record-mode=rewrite"
            ) from error

    @staticmethod
    def save_cassette(cassette_path: Any, cassette_dict: Any, serializer: Any) -> None:
        from vcr.serialize import serialize

        count = len(cassette_dict.get("requests") or ())
        text = seal(HTTP_HEADER + serialize(cassette_dict, serializer), count)
        secrets.refuse(
            text,
            f"write HTTP cassette {cassette_path}",
            "Remove the secret from the program's inputs or scrub it.",
        )
        atomic_write_text(cassette_path, text)


def _vcr_miss(error: BaseException) -> BaseException | None:
    from vcr.errors import CannotOverwriteExistingCassetteException

    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, CannotOverwriteExistingCassetteException):
            found: BaseException = current
            return found
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


class HttpCassetteLayer(CassetteLayer):
    """The test's cassette at the HTTP level: litellm runs for real, vcrpy replays."""

    def __init__(
        self,
        path: Path,
        mode: str = "none",
        *,
        router: Router | None = None,
        test_id: str | None = None,
        scrubbers: tuple[Scrubber, ...] = (),
        explicit: bool = False,
        allow_repeats: bool = False,
        record_errors: bool = False,
    ) -> None:
        super().__init__(
            Cassette(path, scrubbers=scrubbers),
            "none" if mode == "rewrite" else mode,
            router=router,
            test_id=test_id,
            explicit=explicit,
            record_errors=record_errors,
        )
        self.mode = mode
        self.path = path
        self.existed = path.exists()
        self.records = mode in ("new_episodes", "rewrite") or (mode == "once" and not self.existed)
        cls = _make_cassette_class()
        cls.scrubbers = tuple(scrubbers)
        from vcr.config import VCR
        from vcr.matchers import host, method, port, scheme
        from vcr.matchers import path as path_matcher

        vcr = VCR(
            filter_headers=AUTH_HEADERS,
            filter_query_parameters=AUTH_QUERY_KEYS,
            decode_compressed_response=True,
            before_record_request=drop_secret_names,
            before_record_response=error_filter(record_errors),
        )
        self.vcr_cassette = cls.load(
            path=str(path),
            persister=SynatestPersister,
            record_mode=VCR_MODES[mode],
            match_on=(method, scheme, host, port, path_matcher, json_body_matcher(scrubbers)),
            before_record_request=vcr._build_before_record_request({}),
            before_record_response=vcr._build_before_record_response({}),
            allow_playback_repeats=allow_repeats,
            drop_unused_requests=mode == "rewrite",
        )
        self._stack: contextlib.ExitStack | None = None

    @property
    def engaged(self) -> bool:
        return self.explicit or self.records or self.existed

    def start(self) -> None:
        from vcr.patch import CassettePatcherBuilder

        self._stack = contextlib.ExitStack()
        for patcher in CassettePatcherBuilder(self.vcr_cassette).build():
            self._stack.enter_context(patcher)

    def stop(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    async def serve(self, request: LMRequest, call_next: Any) -> Any:
        if not self.existed and not self.records and not self.explicit:
            return await call_next(request)  # no cassette: the unserved-call message
        played = self.vcr_cassette.play_count
        try:
            response = await seam.call_original(request)
        except Exception as error:
            miss = _vcr_miss(error)
            if miss is None:
                raise
            raise CassetteMiss(
                "no HTTP recording matches this LM call (recording is off).\n"
                f"  test: {self.test_id}\n  cassette: {self.path} (record mode: {self.mode})\n"
                f"  request: {request.describe()}\n  vcrpy: {miss}\n"
                f"{'Re-record' if self.existed else 'Record'} this test (needs the real model "
                "and its key):\n"
                f"  pytest --synalinks-cassette-layer=http --synalinks-record-mode="
                f"{'rewrite' if self.existed else 'once'} {shlex.quote(self.test_id or '')}"
            ) from None
        if self.vcr_cassette.play_count > played:
            request.source = "cassette"  # vcrpy answered, not the provider
        return response

    def unused(self) -> list[tuple[int, Any]]:
        played = self.vcr_cassette.play_counts
        return [(n, None) for n in range(self.vcr_cassette._loaded_count) if not played.get(n)]

    def check_unused(self) -> None:
        unused = self.unused()
        if unused:
            raise CassetteError(
                f"{len(unused)} HTTP recording(s) of cassette {self.path} were not replayed by "
                f"{self.test_id} (--synalinks-strict-cassettes): "
                f"{', '.join(f'#{n}' for n, _ in unused)}. Re-record with "
                "--synalinks-record-mode=rewrite."
            )

    def save(self) -> bool:
        if not self.records or not self.vcr_cassette.dirty:
            return False
        self.vcr_cassette._metadata.update(
            {"synatest_cassette": FORMAT_VERSION, "recorded_with": recorded_with()}
        )
        self.vcr_cassette._save()
        return True
