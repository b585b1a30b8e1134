"""Secrets never reach a cassette: credential names dropped, values found in every shape."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import quote

import pytest

from synatest.cassettes import secrets
from synatest.cassettes.normalize import normalize
from synatest.errors import CassetteError

SECRET = "s3cr3t/Value+with=odd&chars-0042"


@pytest.mark.parametrize(
    "name",
    [
        "OPENAI_API_KEY",
        "AZURE_OPENAI_KEY",
        "TYPESAFE_KEY",
        "ANTHROPIC_AUTH",
        "GITHUB_PAT",
        "DB_PASSWD",
        "MYSVC_PASS",
        "MYSVC_PWD",
        "OPENAI_KEY",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "HF_TOKEN",
        "apiKey",
        "x-api-key",
        "X-Portkey-Api-Key",
        "Helicone-Auth",
        "Authorization",
        "set-cookie",
        "sig",
        "vertex_credentials",
        "azure_ad_token",
    ],
)
def test_credential_names_are_recognized(name: str) -> None:
    assert secrets.secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "AWS_ACCESS_KEY_ID",
        "GOOGLE_APPLICATION_CREDENTIALS_FILE",
        "SSH_AUTH_SOCK",
        "max_tokens",
        "max_completion_tokens",
        "x-ratelimit-remaining-tokens",
        "HOME",
        "content-type",
        "openai-version",
        "KEYBOARD_LAYOUT",
        "monkey",
        "PWD",
        "OLDPWD",
        "BYPASS_CACHE",
        "PATH",
    ],
)
def test_ordinary_names_are_not_credentials(name: str) -> None:
    assert not secrets.secret_name(name)


@pytest.mark.parametrize("env_name", ["AZURE_OPENAI_KEY", "GITHUB_PAT", "DB_PASSWD"])
def test_values_of_variables_named_like_credentials_are_found(env_name: str) -> None:
    hits = secrets.scan(f"prompt: {SECRET}\n", {env_name: SECRET})
    assert [str(h) for h in hits] == [f"line 1: the value of ${env_name}"]


@pytest.mark.parametrize(
    ("shaped", "shape"),
    [
        (quote(SECRET, safe=""), "URL-encoded"),
        (json.dumps(SECRET), ""),  # JSON of this value needs no escape: found as is
        (json.dumps(SECRET + '"quoted"')[1:-1], "JSON-escaped"),
        (base64.b64encode(f"user:{SECRET}".encode()).decode(), "base64-encoded"),
        (base64.b64encode(f"u:{SECRET}".encode()).decode(), "base64-encoded"),
        (base64.b64encode(f"us:{SECRET}".encode()).decode(), "base64-encoded"),
        (base64.urlsafe_b64encode(f"{SECRET}?".encode()).decode(), "base64-encoded"),
    ],
)
def test_secret_values_are_found_in_their_wire_shapes(shaped: str, shape: str) -> None:
    value = SECRET + '"quoted"' if "quoted" in shaped else SECRET
    text = f"header: 1\nauthorization-ish: {shaped}\n"
    hits = secrets.scan(text, {"MY_SERVICE_TOKEN": value})
    label = f" ({shape})" if shape else ""
    assert [str(h) for h in hits if "MY_SERVICE_TOKEN" in h.what] == [
        f"line 2: the value of $MY_SERVICE_TOKEN{label}"
    ]
    assert all(value not in str(h) for h in hits)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N", "JSON web"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE", "private key"),
        ("github_pat_" + "A1b2C3d4E5" * 5, "GitHub token"),
        ("glpat-" + "x" * 20, "GitLab token"),
        ("https://admin:hunter22@db.example.com/x", "password in a URL"),
        ("Basic dXNlcjpwYXNzd29yZDEyMw==", "basic-auth credential"),
        ("sk_live_" + "a" * 24, "Stripe key"),
        ("xai-" + "a" * 40, "xAI key"),
    ],
)
def test_key_shapes_are_found(text: str, kind: str) -> None:
    hits = secrets.scan(f"reply: {text}\n", {})
    assert any(kind in hit.what for hit in hits), hits


def test_decision_requests_keep_their_fields_but_drop_credentials() -> None:
    request = {
        "model": "typesafe/jev-latest",
        "state": {"ticket": "refund please", "token_count": 3},
        "questions": {"q": {"type": "noul", "instructions": "Is it a refund?"}},
        "api_key": "k" * 20,
        "aws_secret_access_key": "a" * 20,
        "vertex_credentials": "{...}",
        "timeout": 30,
    }
    assert normalize("decision", request) == {
        "model": "typesafe/jev-latest",
        "questions": {"q": {"type": "noul", "instructions": "Is it a refund?"}},
        # the program's own data is never scrubbed by name
        "state": {"ticket": "refund please", "token_count": 3},
    }


def test_http_requests_lose_every_credential_named_header_query_key_and_body_key() -> None:
    from vcr.request import Request

    from synatest.cassettes.http import drop_secret_names

    body = json.dumps({"model": "m", "api_key": "k" * 20, "max_tokens": 5}).encode()
    request = Request(
        "POST",
        "https://llm.example.com/v1/chat?api-version=2024&sig=abcdef&code=7",
        body,
        {
            "Content-Type": "application/json",
            "X-Portkey-Api-Key": "p" * 20,
            "Helicone-Auth": "Bearer " + "h" * 20,
            "Authorization": "Bearer " + "a" * 20,
        },
    )
    clean = drop_secret_names(request)
    assert dict(clean.headers) == {"Content-Type": "application/json"}
    assert clean.uri == "https://llm.example.com/v1/chat?api-version=2024&code=7"
    assert json.loads(clean.body) == {"model": "m", "max_tokens": 5}


def test_an_http_cassette_with_an_encoded_secret_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vcr.serializers import yamlserializer

    from synatest.cassettes.http import SynatestPersister

    monkeypatch.setenv("ACME_KEY", SECRET)
    leaked = base64.b64encode(f"me:{SECRET}".encode()).decode()
    from vcr.request import Request

    request = Request("POST", "https://llm.example.com/v1", b"{}", {})
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {},
        "body": {"string": "fine"},
    }
    cassette = {"requests": [request], "responses": [response]}
    path = tmp_path / "t.http.yaml"
    SynatestPersister.save_cassette(str(path), cassette, yamlserializer)  # nothing secret
    response["body"] = {"string": f"echo: {leaked}"}
    with pytest.raises(CassetteError) as info:
        SynatestPersister.save_cassette(str(path), cassette, yamlserializer)
    assert str(info.value).startswith(f"refusing to write HTTP cassette {path}: it contains ")
    assert "the value of $ACME_KEY (base64-encoded)" in str(info.value)
    assert SECRET not in str(info.value)
