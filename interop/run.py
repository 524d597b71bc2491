#!/usr/bin/env python3
"""Interoperability suite: unmodified msal / azure-identity / msgraph-sdk, the Azure CLI and
azure-mgmt-resource (interop/arm.py) against a real `atrium serve`.

    run.py --bin PATH [--database-url URL] --label sqlite|postgres

Starts the server on 127.0.0.1:443 (msal's ROPC realm discovery ignores the authority port,
entra-compat.md §1.4), provisions a demo tenant with `atrium quickstart --json --scim`, runs every
case (the SCIM ones with scim2-cli's `test` and scim-sanity's `probe` from the same venv), restarts the server 33 days in the future to check an expired client secret, and verifies the
signature of every token obtained against the JWKS. Prints `PASS <label>/<case>` or
`FAIL <label>/<case>: <reason>` per case and finally `N passed, N failed`; exits 1 on any failure.
A case that cannot run is a failure; nothing is skipped.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qs, parse_qsl, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # keep interop/ free of __pycache__

import jwt  # noqa: E402
import msal  # noqa: E402
import requests  # noqa: E402
from azure.identity import ClientSecretCredential  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey  # noqa: E402

import arm  # noqa: E402
from forms import sign_in_form  # noqa: E402
from graph_cases import CASES as GRAPH_CASES  # noqa: E402
from server import Server, SetupError  # noqa: E402

# msal recommends response_mode=form_post for auth-code flows; the suite uses query on purpose (§4).
warnings.filterwarnings("ignore", message="response_mode='form_post' is recommended")

BASE = "https://127.0.0.1:443"
GRAPH = "https://graph.microsoft.com"
HTTP_TIMEOUT = 30
CLOCK_OFFSET_SECONDS = 2851200  # 33 days: past the 1-month key, well inside the 24-month one
SCIM_TOOL_TIMEOUT = 300  # each SCIM conformance tool, whole run


def check(cond: Any, msg: str) -> None:
    if not cond:
        raise AssertionError(msg)


def describe_error(r: Any) -> str:
    """One line about an msal/azure result dict that is not a success."""
    if r is None:
        return "None"
    if not isinstance(r, dict):
        return repr(r)[:300]
    desc = (r.get("error_description") or "").splitlines()[0:1]
    return f"error={r.get('error')!r} error_codes={r.get('error_codes')!r} description={desc[0][:240] if desc else ''!r}"


def expect_token(r: Any, what: str) -> None:
    check(isinstance(r, dict), f"{what} returned {r!r}, not a dict")
    check("error" not in r and r.get("access_token"), f"{what} failed: {describe_error(r)}")


def json_body(resp: requests.Response) -> dict:
    try:
        body = resp.json()
    except ValueError:
        raise AssertionError(f"HTTP {resp.status_code} {resp.request.method} {resp.url}: body is not JSON: {resp.text[:300]!r}") from None
    check(isinstance(body, dict), f"HTTP {resp.status_code} {resp.url}: JSON body is not an object: {resp.text[:300]!r}")
    return body


def b64url_nopad(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_uint(s: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)), "big")


@dataclass
class Token:
    kind: str  # "access" | "id"
    value: str
    source: str  # the case that obtained it
    phase: int  # 1 = normal clock, 2 = after the restart with the clock offset


@dataclass
class Ctx:
    label: str
    server: Server
    qs: dict
    tokens: list[Token] = field(default_factory=list)
    phase: int = 1
    # REST-created 1-month key (expired-key case)
    short_secret: str | None = None
    short_key_error: str | None = None
    short_secret_before: str | None = None  # None = worked before the clock jump, else why not
    restart_error: str | None = None
    jwks: dict[int, dict] = field(default_factory=dict)
    jwks_error: dict[int, str] = field(default_factory=dict)
    # auth-code app, reused by the silent-refresh case
    ac_app: msal.ConfidentialClientApplication | None = None
    ac_result: dict | None = None
    # the Azure CLI / ARM cases (interop/arm.py)
    arm: arm.ArmState = field(default_factory=arm.ArmState)

    @property
    def base(self) -> str:
        return BASE

    @property
    def tenant_id(self) -> str:
        return self.qs["tenant_id"]

    @property
    def client_id(self) -> str:
        return self.qs["client_id"]

    @property
    def secret(self) -> str:
        return self.qs["client_secret"]

    @property
    def authority(self) -> str:
        return self.qs["authority"].rstrip("/")

    @property
    def ca(self) -> str:
        return self.qs["ca_path"]

    @property
    def api_default(self) -> str:
        return f"api://{self.client_id}/.default"

    def collect(self, kind: str, value: Any, source: str) -> None:
        if isinstance(value, str) and value:
            self.tokens.append(Token(kind, value, source, self.phase))

    def collect_result(self, r: dict, source: str) -> None:
        self.collect("access", r.get("access_token"), source)
        self.collect("id", r.get("id_token"), source)

    def cca(self, secret: str | None = None, authority: str | None = None) -> msal.ConfidentialClientApplication:
        """A fresh app object: msal replays an identical 400 from its per-app cache for 60 s (§1.3)."""
        return msal.ConfidentialClientApplication(
            self.client_id,
            client_credential=secret if secret is not None else self.secret,
            authority=authority or self.authority,
            instance_discovery=False,
            timeout=HTTP_TIMEOUT,
        )

    def post(self, path: str, **kw) -> requests.Response:
        return requests.post(f"{BASE}{path}", verify=self.ca, timeout=HTTP_TIMEOUT, **kw)

    def cc_form(self, secret: str, scope: str | None = None) -> dict:
        return {"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": secret,
                "scope": scope or self.api_default}


# ====================================================================== cases


def case_cc_msal(c: Ctx) -> None:
    r = c.cca().acquire_token_for_client([c.api_default])
    expect_token(r, "acquire_token_for_client")
    c.collect_result(r, "cc_msal")
    ei = r.get("expires_in")
    check(isinstance(ei, int) and not isinstance(ei, bool), f"expires_in is {ei!r} ({type(ei).__name__}), not an int")
    check(ei > 0, f"expires_in is {ei}, not positive")


def case_cc_azure_identity(c: Ctx) -> None:
    cred = ClientSecretCredential(c.tenant_id, c.client_id, c.secret, authority=BASE,
                                  disable_instance_discovery=True, connection_verify=c.ca)
    try:
        t0 = time.time()
        at = cred.get_token(c.api_default)
    finally:
        cred.close()
    check(isinstance(at.token, str) and at.token, f"get_token returned no token: {at!r}")
    c.collect("access", at.token, "cc_azure_identity")
    check(at.expires_on > t0, f"expires_on {at.expires_on} is not in the future (now {int(t0)})")


def case_cc_graph_v1_token(c: Ctx) -> None:
    r = c.cca().acquire_token_for_client([f"{GRAPH}/.default"])
    expect_token(r, f"acquire_token_for_client({GRAPH}/.default)")
    c.collect_result(r, "cc_graph_v1_token")
    claims = jwt.decode(r["access_token"], options={"verify_signature": False})
    check(claims.get("aud") == GRAPH, f"aud is {claims.get('aud')!r}, expected {GRAPH!r}")
    check(claims.get("ver") == "1.0", f"ver is {claims.get('ver')!r}, expected '1.0'")


def case_v1_endpoint(c: Ctx) -> None:
    data = {"grant_type": "client_credentials", "client_id": c.client_id, "client_secret": c.secret,
            "resource": f"api://{c.client_id}"}
    resp = c.post(f"/{c.tenant_id}/oauth2/token", data=data)
    body = json_body(resp)
    check(resp.status_code == 200, f"POST /{c.tenant_id}/oauth2/token (resource=api://{c.client_id}) -> HTTP {resp.status_code}: {describe_error(body)}")
    check(body.get("access_token"), f"200 without access_token: {sorted(body)}")
    c.collect("access", body["access_token"], "v1_endpoint")


def case_auth_code_pkce(c: Ctx) -> None:
    redirect_uri = c.qs["redirect_uri"]
    app = c.cca()
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri=redirect_uri)
    auth_uri = flow["auth_uri"]
    q = parse_qs(urlsplit(auth_uri).query)
    check(q.get("code_challenge_method") == ["S256"], f"auth_uri has code_challenge_method={q.get('code_challenge_method')}, expected S256")
    check(q.get("code_challenge"), "auth_uri has no code_challenge")

    s = requests.Session()
    s.verify = c.ca
    page = s.get(auth_uri, allow_redirects=False, timeout=HTTP_TIMEOUT)
    check(page.status_code == 200, f"GET authorize -> HTTP {page.status_code} (Location={page.headers.get('Location')!r}), expected 200 with a sign-in form; body: {page.text[:300]!r}")
    action, fields = sign_in_form(page.text, page.url, c.qs["username"], c.qs["password"])
    resp = s.post(action, data=fields, allow_redirects=False, timeout=HTTP_TIMEOUT)
    loc = resp.headers.get("Location")
    check(resp.status_code == 302, f"POST {action} (sign-in form, fields {[k for k, _ in fields]}) -> HTTP {resp.status_code}, expected 302; Location={loc!r}; body: {resp.text[:300]!r}")
    check(loc and loc.startswith(redirect_uri), f"302 Location {loc!r} does not start with the redirect_uri {redirect_uri!r}")
    auth_response = dict(parse_qsl(urlsplit(loc).query, keep_blank_values=True))
    check("error" not in auth_response, f"redirect carries an error: {auth_response}")
    check(auth_response.get("code"), f"redirect has no code: {loc}")
    check(auth_response.get("state"), f"redirect has no state: {loc}")

    r = app.acquire_token_by_auth_code_flow(flow, auth_response)
    expect_token(r, "acquire_token_by_auth_code_flow")
    c.collect_result(r, "auth_code_pkce")
    check(r.get("id_token"), f"no id_token in the auth-code result (keys {sorted(r)})")
    check(r.get("refresh_token"), f"no refresh_token in the auth-code result (keys {sorted(r)})")
    c.ac_app, c.ac_result = app, r


def _refresh_tokens(app: msal.ClientApplication) -> set[str]:
    return {rt.get("secret") for rt in app.token_cache.search(msal.TokenCache.CredentialType.REFRESH_TOKEN)}


def case_silent_refresh(c: Ctx) -> None:
    app, first = c.ac_app, c.ac_result
    check(app is not None and first is not None, "cannot run: auth_code_pkce produced no signed-in app")
    accounts = app.get_accounts()
    check(accounts, "get_accounts() is empty after the auth-code flow")
    before = _refresh_tokens(app)
    check(before, "no refresh token in msal's cache after the auth-code flow")
    r = app.acquire_token_silent(["User.Read"], account=accounts[0], force_refresh=True)
    check(r is not None, "acquire_token_silent(force_refresh=True) returned None (no usable refresh token)")
    expect_token(r, "acquire_token_silent(force_refresh=True)")
    c.collect_result(r, "silent_refresh")
    check(r.get("token_source") == "identity_provider", f"token_source is {r.get('token_source')!r}, expected a fresh token from the server")
    check(r["access_token"] != first["access_token"], "the refreshed access token equals the first one")
    after = _refresh_tokens(app)
    check(after and after != before and not (after & before),
          "the refresh token in msal's cache did not rotate (server returned no new refresh_token)")


def case_ropc(c: Ctx) -> None:
    r = c.cca().acquire_token_by_username_password(c.qs["username"], c.qs["password"], scopes=["User.Read"])
    expect_token(r, "acquire_token_by_username_password")
    c.collect_result(r, "ropc")
    check(r.get("id_token"), f"no id_token in the ROPC result (keys {sorted(r)})")


def case_errors_wrong_secret(c: Ctx) -> None:
    r = c.cca(secret="wrong-" + uuid.uuid4().hex).acquire_token_for_client([c.api_default])
    check(isinstance(r, dict) and "access_token" not in r, "a wrong client secret got an access token")
    check(7000215 in (r.get("error_codes") or []), f"expected 7000215 in error_codes: {describe_error(r)}")
    check(r.get("error") == "invalid_client", f"error is {r.get('error')!r}, expected 'invalid_client'")


def case_errors_unknown_tenant(c: Ctx) -> None:
    t = str(uuid.uuid4())
    resp = c.post(f"/{t}/oauth2/v2.0/token", data=c.cc_form(c.secret))
    body = json_body(resp)
    check(resp.status_code == 400, f"POST /{t}/oauth2/v2.0/token -> HTTP {resp.status_code}, expected 400: {describe_error(body)}")
    check(90002 in (body.get("error_codes") or []), f"expected 90002 in error_codes: {describe_error(body)}")
    try:
        c.cca(authority=f"{BASE}/{t}")
    except Exception:  # msal: ValueError("Unable to get authority configuration ...")
        return
    raise AssertionError(f"msal.ConfidentialClientApplication(authority={BASE}/{t}) did not raise for an unknown tenant")


def case_errors_bad_scope(c: Ctx) -> None:
    r = c.cca().acquire_token_for_client([f"api://{c.client_id}"])
    check(isinstance(r, dict) and "access_token" not in r, f"scope api://{c.client_id} without /.default got an access token")
    codes = r.get("error_codes") or []
    check(1002012 in codes or 70011 in codes, f"expected 1002012 or 70011 in error_codes: {describe_error(r)}")


def case_errors_redirect_uri(c: Ctx) -> None:
    evil = "https://evil.example/cb"
    flow = c.cca().initiate_auth_code_flow(["User.Read"], redirect_uri=evil)
    resp = requests.get(flow["auth_uri"], allow_redirects=False, verify=c.ca, timeout=HTTP_TIMEOUT)
    check("Location" not in resp.headers, f"authorize with unregistered redirect_uri redirected (HTTP {resp.status_code}) to {resp.headers.get('Location')!r}")
    check(resp.status_code == 400, f"authorize with unregistered redirect_uri -> HTTP {resp.status_code}, expected 400")
    check("AADSTS50011" in resp.text, f"400 body does not mention AADSTS50011: {resp.text[:300]!r}")


ERROR_FIELDS = ("error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id", "error_uri")


def case_errors_correlation_id(c: Ctx) -> None:
    cid = str(uuid.uuid4())
    resp = c.post(f"/{c.tenant_id}/oauth2/v2.0/token", data=c.cc_form("wrong-" + uuid.uuid4().hex),
                  headers={"client-request-id": cid})
    body = json_body(resp)
    check(resp.status_code == 401, f"wrong secret -> HTTP {resp.status_code}, expected 401 (invalid_client): {describe_error(body)}")
    missing = [k for k in ERROR_FIELDS if k not in body]
    check(not missing, f"token error JSON lacks {missing}: {body}")
    check(body.get("correlation_id") == cid, f"correlation_id is {body.get('correlation_id')!r}, expected the client-request-id {cid!r}")
    check(isinstance(body["error_codes"], list) and all(isinstance(x, int) for x in body["error_codes"]),
          f"error_codes is not a list of integers: {body['error_codes']!r}")
    check(str(body["error_description"]).startswith("AADSTS"), f"error_description does not start with AADSTS: {body['error_description']!r}")


def case_errors_expired_key(c: Ctx) -> None:
    check(c.short_secret, f"cannot run: the 1-month key could not be created: {c.short_key_error}")
    check(c.short_secret_before is None, f"the 1-month key did not work before the clock jump: {c.short_secret_before}")
    check(c.restart_error is None, f"cannot run: the restart with ATRIUM_DEBUG_CLOCK_OFFSET_SECONDS={CLOCK_OFFSET_SECONDS} failed: {c.restart_error}")
    resp = c.post(f"/{c.tenant_id}/oauth2/v2.0/token", data=c.cc_form(c.short_secret))
    body = json_body(resp)
    check(resp.status_code == 401, f"expired secret -> HTTP {resp.status_code}, expected 401: {describe_error(body)}")
    check(body.get("error") == "invalid_client", f"expired secret -> error {body.get('error')!r}, expected invalid_client")
    check(7000222 in (body.get("error_codes") or []), f"expected 7000222 in error_codes: {describe_error(body)}")
    r = c.cca(secret=c.short_secret).acquire_token_for_client([c.api_default])
    check("access_token" not in r and 7000222 in (r.get("error_codes") or []),
          f"msal with the expired secret: expected 7000222, got {describe_error(r)}")
    r = c.cca().acquire_token_for_client([c.api_default])
    expect_token(r, "acquire_token_for_client with the 24-month secret after the clock jump")
    c.collect_result(r, "errors_expired_key")


# ---------------------------------------------------------------------- SCIM conformance tools
# Both tools are pinned in interop/requirements.txt and installed in the venv run.py runs from.
# They create, change and delete users and groups in the quickstart's directory-sync tenant.

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def venv_tool(name: str) -> str:
    # The venv's bin directory, not the resolved interpreter's (a venv's python is a symlink).
    path = os.path.join(os.path.dirname(sys.executable), name)
    check(os.path.isfile(path) and os.access(path, os.X_OK),
          f"{name} is not installed next to {sys.executable} ({path} is missing); interop/requirements.txt pins it, rebuild the venv with scripts/venv")
    return path


def scim_target(c: Ctx) -> tuple[str, str]:
    url, token = c.qs.get("scim_url"), c.qs.get("scim_token")
    check(isinstance(url, str) and url.startswith("https://") and isinstance(token, str) and token,
          f"`atrium quickstart --json --scim` printed no usable scim_url/scim_token (scim_url={url!r}, keys {sorted(c.qs)})")
    return url.rstrip("/"), token


def run_tool(c: Ctx, name: str, cmd: list[str], env_extra: dict[str, str], secret: str) -> tuple[int, str, str, str]:
    """Runs a SCIM tool; returns (exit code, stdout, stderr, log path). The output is also kept in
    a log beside the server's, with the token blanked."""
    shown = " ".join("<scim_token>" if a == secret else a for a in cmd)
    log_path = os.path.join(os.path.dirname(c.server.log_path), f"{name}.log")
    env = dict(os.environ)
    env.update(env_extra)
    env["NO_COLOR"] = "1"
    try:
        r = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           encoding="utf-8", errors="replace", timeout=SCIM_TOOL_TIMEOUT)
        code, out, err = r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired as e:
        def text(b: Any) -> str:
            return b.decode("utf-8", "replace") if isinstance(b, bytes) else (b or "")
        code, out, err = -1, text(e.stdout), text(e.stderr)
    out, err = ANSI.sub("", out).replace(secret, "<scim_token>"), ANSI.sub("", err).replace(secret, "<scim_token>")
    with open(log_path, "w", encoding="utf-8") as log:
        log.write(f"$ {shown}\n--- exit {code}\n--- stdout\n{out}\n--- stderr\n{err}\n")
    check(code != -1, f"`{shown}` did not finish within {SCIM_TOOL_TIMEOUT} s; output so far in {log_path}:\n"
          + "\n".join((out + err).strip().splitlines()[-15:]))
    return code, out, err, log_path


def parse_scim2_test(out: str) -> tuple[list[tuple[str, str, list[str]]], list[str]]:
    """scim2-cli `test` prints a header, then `<STATUS> <title>` per check, each optionally followed
    by indented reason lines. Returns the checks and any line that fits neither."""
    checks: list[tuple[str, str, list[str]]] = []
    other: list[str] = []
    for line in out.splitlines():
        if not line.strip() or line.startswith("Performing a SCIM compliance check"):
            continue
        if line.startswith(" ") and checks:
            checks[-1][2].append(line.strip())
            continue
        m = re.match(r"^([A-Z][A-Z_]+) (.*)$", line)
        if m:
            checks.append((m.group(1), m.group(2), []))
        else:
            other.append(line)
    return checks, other


def case_scim2_cli_test(c: Ctx) -> None:
    url, token = scim_target(c)
    # The token goes in SCIM_CLI_HEADERS rather than `-h` (the tool's advice: argv is visible to
    # other users); the server's CA through SSL_CERT_FILE instead of --no-verify.
    cmd = [venv_tool("scim2"), "-u", url, "test"]
    code, out, err, log = run_tool(c, "scim2-test", cmd, {"SCIM_CLI_HEADERS": f"Authorization: Bearer {token}", "SSL_CERT_FILE": c.ca}, token)
    checks, other = parse_scim2_test(out)
    bad = [x for x in checks if x[0] != "SUCCESS"]
    counts: dict[str, int] = {}
    for status, _, _ in checks:
        counts[status] = counts.get(status, 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no checks"
    if code == 0 and checks and not bad and not other:
        print(f"  note: scim2 test: {summary}", flush=True)
        return
    lines = [f"scim2 test exited {code}: {summary} (full output in {log})"]
    for status, title, reasons in bad[:40]:
        lines.append(f"{status} {title}")
        lines.extend(f"    {r}" for r in reasons[:5])
    if len(bad) > 40:
        lines.append(f"... and {len(bad) - 40} more")
    if other:
        lines.append("unexpected output lines:")
        lines.extend(f"    {l}" for l in other[:15])
    if not checks or code != 0:
        lines.extend(f"stderr: {l}" for l in err.strip().splitlines()[-15:])
    raise AssertionError("\n".join(lines))


def case_scim_sanity_probe(c: Ctx) -> None:
    url, token = scim_target(c)
    # Strict mode (the default; no --compat). --ca-bundle replaces --tls-no-verify; JSON output
    # carries the same counts as the terminal's "N failed" line, which it omits when N is 0.
    cmd = [venv_tool("scim-sanity"), "probe", url, "--token", token, "--i-accept-side-effects", "--ca-bundle", c.ca, "--json-output", "--timeout", "30"]
    code, out, err, log = run_tool(c, "scim-sanity-probe", cmd, {}, token)
    try:
        report = json.loads(out)
        summary = report["summary"]
        results = report["results"]
    except (ValueError, KeyError, TypeError) as e:
        raise AssertionError(f"scim-sanity probe exited {code} without a JSON report ({type(e).__name__}: {e}); see {log}\n"
                             + "\n".join((out + err).strip().splitlines()[-15:])) from None
    failed, errors = summary.get("failed"), summary.get("errors")
    counts = f"{summary.get('passed')} passed, {failed} failed, {errors} errors, {summary.get('warnings')} warnings, {summary.get('skipped')} skipped, {summary.get('total')} total"
    if code == 0 and failed == 0 and errors == 0 and summary.get("passed"):
        print(f"  note: scim-sanity probe (strict): {counts}", flush=True)
        return
    lines = [f"scim-sanity probe exited {code}: {counts} (full output in {log})"]
    bad = [r for r in results if r.get("status") in ("fail", "error")]
    for r in bad[:40]:
        lines.append(f"{r.get('status', '?').upper()} [{r.get('phase', '')}] {r.get('name')}: {str(r.get('message', ''))[:400]}")
    for issue in (report.get("issues") or [])[:10]:
        lines.append(f"fix [{issue.get('priority')}] {issue.get('title')}: {issue.get('fix')}")
    if not bad:
        lines.extend(f"stderr: {l}" for l in err.strip().splitlines()[-15:])
    raise AssertionError("\n".join(lines))


def _check_jwks(jwks: dict) -> list[str]:
    problems = []
    keys = jwks.get("keys")
    if not isinstance(keys, list) or not keys:
        return [f"JWKS has no keys: {jwks}"]
    for k in keys:
        kid = k.get("kid")
        missing = [f for f in ("kty", "kid", "x5t", "n", "e", "x5c") if not k.get(f)]
        if missing:
            problems.append(f"JWKS key {kid!r} lacks {missing}")
            continue
        try:
            der = base64.b64decode(k["x5c"][0])
            cert = x509.load_der_x509_certificate(der)
        except Exception as e:
            problems.append(f"JWKS key {kid!r}: x5c[0] is not a base64 DER certificate ({e})")
            continue
        if b64url_nopad(hashlib.sha1(der).digest()) != k["x5t"]:
            problems.append(f"JWKS key {kid!r}: x5t {k['x5t']!r} is not the SHA-1 thumbprint of x5c[0]")
        pub = cert.public_key()
        if not isinstance(pub, RSAPublicKey):
            problems.append(f"JWKS key {kid!r}: x5c[0] holds no RSA key")
            continue
        nums = pub.public_numbers()
        if nums.n != b64url_uint(k["n"]) or nums.e != b64url_uint(k["e"]):
            problems.append(f"JWKS key {kid!r}: n/e differ from the public key of x5c[0]")
    return problems


def fetch_jwks(c: Ctx) -> None:
    try:
        resp = requests.get(f"{c.authority}/discovery/v2.0/keys", verify=c.ca, timeout=HTTP_TIMEOUT)
        check(resp.status_code == 200, f"GET {c.authority}/discovery/v2.0/keys -> HTTP {resp.status_code}: {resp.text[:200]!r}")
        c.jwks[c.phase] = json_body(resp)
    except Exception as e:
        c.jwks_error[c.phase] = f"{type(e).__name__}: {e}"


def _verify_token(c: Ctx, t: Token, jwks: dict) -> str | None:
    header = jwt.get_unverified_header(t.value)
    if header.get("alg") != "RS256":
        return f"alg is {header.get('alg')!r}, not RS256"
    kid = header.get("kid")
    jwk = next((k for k in jwks.get("keys", []) if k.get("kid") == kid), None)
    if jwk is None:
        return f"kid {kid!r} is not in the JWKS (kids {[k.get('kid') for k in jwks.get('keys', [])]})"
    key = jwt.PyJWK(jwk, algorithm="RS256").key
    options: dict[str, bool] = {"verify_aud": t.kind == "id"}
    if t.phase == 2:
        # The server's clock runs 33 days ahead on purpose: iat/nbf/exp can't match ours.
        options.update(verify_exp=False, verify_nbf=False, verify_iat=False)
    claims = jwt.decode(t.value, key, algorithms=["RS256"], audience=c.client_id if t.kind == "id" else None,
                        options=options, leeway=120)
    if claims.get("tid") != c.tenant_id:
        return f"tid is {claims.get('tid')!r}, expected {c.tenant_id!r}"
    if not str(claims.get("iss", "")).startswith("https://127.0.0.1"):
        return f"iss is {claims.get('iss')!r}, expected https://127.0.0.1..."
    if t.kind == "id" and claims.get("aud") != c.client_id:
        return f"aud is {claims.get('aud')!r}, expected the client_id {c.client_id!r}"
    return None


def case_signatures(c: Ctx) -> None:
    check(c.tokens, "no token was collected in this run")
    problems: list[str] = []
    for phase in sorted({t.phase for t in c.tokens}):
        if phase not in c.jwks:
            problems.append(f"JWKS (phase {phase}) could not be fetched: {c.jwks_error.get(phase, 'not fetched')}")
    for phase, jwks in sorted(c.jwks.items()):
        problems += [f"(phase {phase}) {p}" for p in _check_jwks(jwks)]
    if 1 in c.jwks and 2 in c.jwks:
        kids_before = {jwt.get_unverified_header(t.value).get("kid") for t in c.tokens if t.phase == 1}
        kids_after = {k.get("kid") for k in c.jwks[2].get("keys", [])}
        lost = kids_before - kids_after
        if lost:
            problems.append(f"signing key(s) {sorted(map(str, lost))} used before the restart are missing from the JWKS after it")
    verified = 0
    for t in c.tokens:
        jwks = c.jwks.get(t.phase)
        if jwks is None:
            continue
        try:
            why = _verify_token(c, t, jwks)
        except Exception as e:
            why = f"{type(e).__name__}: {e}"
        if why:
            problems.append(f"{t.kind} token from {t.source}: {why}")
        else:
            verified += 1
    counts = f"{verified}/{len(c.tokens)} tokens verified ({sum(t.kind == 'access' for t in c.tokens)} access, {sum(t.kind == 'id' for t in c.tokens)} id)"
    check(not problems, f"{counts}; {len(problems)} problem(s):\n" + "\n".join(problems))
    print(f"  note: {counts}", flush=True)


PHASE1_CASES: list[tuple[str, Callable[[Ctx], None]]] = [
    ("cc_msal", case_cc_msal),
    ("cc_azure_identity", case_cc_azure_identity),
    ("cc_graph_v1_token", case_cc_graph_v1_token),
    ("v1_endpoint", case_v1_endpoint),
    ("auth_code_pkce", case_auth_code_pkce),
    ("silent_refresh", case_silent_refresh),
    ("ropc", case_ropc),
    ("errors_wrong_secret", case_errors_wrong_secret),
    ("errors_unknown_tenant", case_errors_unknown_tenant),
    ("errors_bad_scope", case_errors_bad_scope),
    ("errors_redirect_uri", case_errors_redirect_uri),
    ("errors_correlation_id", case_errors_correlation_id),
    # The Azure CLI and azure-mgmt-resource against ARM (interop/arm.py), in this order.
    *arm.CASES,
    # Microsoft Graph /v1.0 through the unmodified Graph SDK (interop/graph_cases.py).
    *GRAPH_CASES,
    # Last in the first phase: they use the quickstart's directory-sync tenant, not the demo one.
    ("scim2_cli_test", case_scim2_cli_test),
    ("scim_sanity_probe", case_scim_sanity_probe),
]
FINAL_CASES: list[tuple[str, Callable[[Ctx], None]]] = [
    ("errors_expired_key", case_errors_expired_key),
    ("signatures", case_signatures),
]
ALL_CASES = [n for n, _ in PHASE1_CASES + FINAL_CASES]


# ====================================================================== runner


class Results:
    def __init__(self, label: str):
        self.label = label
        self.passed = 0
        self.failed = 0

    def passed_case(self, name: str) -> None:
        self.passed += 1
        print(f"PASS {self.label}/{name}", flush=True)

    def failed_case(self, name: str, reason: str, detail: str = "") -> None:
        self.failed += 1
        lines = str(reason).strip().splitlines() or ["(no reason)"]
        print(f"FAIL {self.label}/{name}: {lines[0]}", flush=True)
        for extra in lines[1:] + (detail.rstrip().splitlines() if detail else []):
            print(f"    {extra}", flush=True)


NO_SERVER_NEEDED = {"signatures"}


def run_case(res: Results, c: Ctx, name: str, fn: Callable[[Ctx], None]) -> None:
    # After a failed restart the expired-key case reports the restart's own error instead.
    server_expected = name not in NO_SERVER_NEEDED and c.restart_error is None
    if server_expected and not c.server.alive():
        res.failed_case(name, f"the server is not running any more; its last output:\n{c.server.tail()}")
        return
    try:
        fn(c)
    except AssertionError as e:
        res.failed_case(name, str(e) or "assertion failed")
    except Exception as e:
        tb = "".join(traceback.format_exception(type(e), e, e.__traceback__)[-3:])
        res.failed_case(name, f"{type(e).__name__}: {e}", tb)
    else:
        res.passed_case(name)


def prepare_client_env(ca: str) -> None:
    # §1.5: requests lets REQUESTS_CA_BUNDLE override Session.verify, so point it at our CA.
    os.environ["REQUESTS_CA_BUNDLE"] = ca
    for k in ("MSAL_FORCE_REGION", "REGION_NAME", "AZURE_REGIONAL_AUTHORITY_NAME", "AZURE_AUTHORITY_HOST",
              "CURL_CA_BUNDLE"):
        os.environ.pop(k, None)
    no_proxy = os.environ.get("NO_PROXY", "")
    for host in ("127.0.0.1", "localhost"):
        if host not in no_proxy.split(","):
            no_proxy = f"{no_proxy},{host}" if no_proxy else host
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = no_proxy


def create_short_key(c: Ctx) -> None:
    """Signs in to the REST API as the quickstart user and adds a 1-month client secret."""
    try:
        r = c.post("/api/v1/sign-in", json={"tenant": c.tenant_id, "username": c.qs["username"], "password": c.qs["password"]})
        check(r.status_code == 200, f"POST /api/v1/sign-in -> HTTP {r.status_code}: {r.text[:300]}")
        token = json_body(r).get("token")
        check(token, f"sign-in response has no token: {r.text[:300]}")
        path = f"/api/v1/tenants/{c.tenant_id}/applications/{c.client_id}/keys"
        r = c.post(path, json={"validityMonths": 1}, headers={"Authorization": f"Bearer {token}"})
        check(r.status_code == 201, f"POST {path} {{\"validityMonths\":1}} -> HTTP {r.status_code}: {r.text[:300]}")
        body = json_body(r)
        check(body.get("secret"), f"key response has no secret: {sorted(body)}")
        c.short_secret = body["secret"]
    except Exception as e:
        c.short_key_error = f"{type(e).__name__}: {e}" if not isinstance(e, AssertionError) else str(e)


def check_short_key_before(c: Ctx) -> None:
    if not c.short_secret:
        return
    try:
        r = c.cca(secret=c.short_secret).acquire_token_for_client([c.api_default])
        expect_token(r, "acquire_token_for_client with the 1-month secret")
        c.collect_result(r, "errors_expired_key (before the clock jump)")
        c.short_secret_before = None
    except Exception as e:
        c.short_secret_before = str(e) if isinstance(e, AssertionError) else f"{type(e).__name__}: {e}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True, help="the atrium binary")
    ap.add_argument("--database-url", help="postgres://... (default: SQLite in the data dir)")
    ap.add_argument("--label", required=True, choices=["sqlite", "postgres"])
    args = ap.parse_args()
    res = Results(args.label)

    binary = os.path.abspath(args.bin)
    tmp = tempfile.mkdtemp(prefix=f"atrium-interop-{args.label}-")
    data_dir = os.path.join(tmp, "data")
    os.makedirs(data_dir)
    log_path = os.path.join(tmp, "server.log")
    server = Server(binary, data_dir, args.database_url, log_path)
    print(f"== interop {args.label}: {binary} (data dir {data_dir}, server log {log_path})", flush=True)
    ok = False
    c: Ctx | None = None
    try:
        try:
            if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
                raise SetupError(f"the atrium binary {binary} does not exist or is not executable")
            server.start()
            qs = server.quickstart()
            if os.path.realpath(qs["ca_path"]) != os.path.realpath(server.ca_path or ""):
                print(f"  note: quickstart ca_path {qs['ca_path']} differs from the server's {server.ca_path}", flush=True)
            if qs["authority"].rstrip("/") != f"{BASE}/{qs['tenant_id']}":
                print(f"  note: authority {qs['authority']!r} is not {BASE}/<tenant_id>", flush=True)
            prepare_client_env(qs["ca_path"])
        except Exception as e:
            reason = str(e) if isinstance(e, SetupError) else f"{type(e).__name__}: {e}"
            print(f"setup failed: {reason}", flush=True)
            for name in ALL_CASES:
                res.failed_case(name, "cannot run: setup failed (see above)")
            return 1

        c = Ctx(args.label, server, qs)
        create_short_key(c)
        arm.setup(c)
        for name, fn in PHASE1_CASES:
            run_case(res, c, name, fn)
        check_short_key_before(c)
        fetch_jwks(c)

        # Restart 33 days in the future on the same data dir / database.
        try:
            server.stop()
            c.phase = 2
            server.start({"ATRIUM_DEBUG_CLOCK_OFFSET_SECONDS": str(CLOCK_OFFSET_SECONDS)})
            if server.ca_path and os.path.realpath(server.ca_path) != os.path.realpath(c.ca):
                raise SetupError(f"the restarted server uses another CA ({server.ca_path}, was {c.ca})")
            fetch_jwks(c)
        except Exception as e:
            c.restart_error = str(e) if isinstance(e, SetupError) else f"{type(e).__name__}: {e}"
            c.phase = 2
        for name, fn in FINAL_CASES:
            run_case(res, c, name, fn)
        ok = res.failed == 0
        return 0 if ok else 1
    finally:
        server.stop()
        if c is not None:
            arm.cleanup(c)
        if res.failed:
            print(f"  server output kept in {log_path}", flush=True)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        print(f"{res.passed} passed, {res.failed} failed", flush=True)


if __name__ == "__main__":
    sys.exit(main())
