"""An endpoint that echoes what it was sent (Authorization: Basic, cookies, an API-key header, a
secret query parameter) into its error body: none of it comes out of migtui, in the headless output,
the store or any report. Real HTTP server on 127.0.0.1, real ``migtui watch`` and ``migtui report``."""

from __future__ import annotations

import base64
import secrets
import subprocess
from pathlib import Path

import duckdb

from migtui.redact import redact
from tests.conftest import migtui_cmd
from tests.servers.httpbase import Request, Response, LoopbackServer


def _echo(req: Request) -> Response:
    lines = [f"{k}: {v}" for k, v in req.headers.items()]
    return Response(500, f"upstream refused GET {req.path}?{'&'.join(f'{k}={v[0]}' for k, v in req.query.items())}\n"
                         + "\n".join(lines))


def test_basic_auth_cookies_and_secret_headers_never_come_out(tmp_path: Path, cli_env: dict[str, str]) -> None:
    password = "pw-" + secrets.token_hex(6)
    cookie = "sid-" + secrets.token_hex(6)
    api_key = "ak-" + secrets.token_hex(6)
    signature = "sig" + secrets.token_hex(6)
    basic = base64.b64encode(f"ops:{password}".encode()).decode()
    with LoopbackServer(_echo) as srv:
        cfg = tmp_path / "echo.yaml"
        cfg.write_text(f"""
name: echo
interval: 0.2s
sources:
  - type: openmetrics
    name: api
    interval: 0.2s
    url: "{srv.url}/metrics?region=eu&X-Amz-Signature={signature}"
    username: ops
    password: "{password}"
    headers: {{Cookie: "session={cookie}; theme=dark", X-Api-Key: "{api_key}"}}
""")
        store = tmp_path / "echo.duckdb"
        watch = subprocess.run(migtui_cmd() + ["watch", "--config", str(cfg), "--headless", "--duration", "2s",
                                               "--store", str(store)],
                               env=cli_env, capture_output=True, text=True, timeout=120)
        assert srv.requests and srv.requests[0].headers["authorization"] == f"Basic {basic}"  # really sent
    outputs = {"watch": watch.stdout + watch.stderr}
    assert "HTTP 500" in outputs["watch"], outputs["watch"]  # the echoed body was reported
    for fmt in ("html", "md", "json"):
        out = tmp_path / f"report.{fmt}"
        proc = subprocess.run(migtui_cmd() + ["report", "--store", str(store), "--format", fmt, "-o", str(out)],
                              env=cli_env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        outputs[f"report {fmt}"] = out.read_text()
    con = duckdb.connect(str(store), read_only=True)
    try:
        for (table,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
            outputs[f"store {table}"] = repr(con.execute(f'SELECT * FROM "{table}"').fetchall())
    finally:
        con.close()
    planted = {"basic credentials": basic, "password": password, "cookie": cookie, "api key": api_key,
               "signature": signature}
    leaks = [(where, what) for where, text in outputs.items() for what, s in planted.items() if s in text]
    assert leaks == []


def test_secret_looking_text_is_masked_wherever_it_appears() -> None:
    cases = {
        "Authorization: Basic b3BzOnNlY3JldA==": "b3BzOnNlY3JldA==",
        '{"authorization": "Basic b3BzOnNlY3JldA=="}': "b3BzOnNlY3JldA==",
        "proxy-authorization: Digest username=ops, response=6629fae49393a05397450978507c4ef1": "6629fae4939",
        "Cookie: sessionid=abc123def; csrftoken=zzz999": "abc123def",
        "set-cookie: sid=s3cr3tvalue; Path=/; HttpOnly": "s3cr3tvalue",
        "x-auth-token: 0123abcd": "0123abcd",
        "X-Api-Key=k-777-888": "k-777-888",
        "'client_secret': 'cs-4242'": "cs-4242",
        "GET /x?user=a&access_key=AK99&sig=ffee": "AK99",
        "GET /x?X-Amz-Signature=ffee1234&x=1": "ffee1234",
    }
    for text, secret in cases.items():
        assert secret not in redact(text), (text, redact(text))
    for harmless in ("max_tokens: 12", "sessions: 40", "idle_in_transaction_session_timeout=5min",
                     "lock waiters 3", "keys: 7", "Basic checks passed"):
        assert redact(harmless) == harmless
