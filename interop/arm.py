"""ARM cases of the interop suite: the real Azure CLI (2.91) and azure-mgmt-resource's
SubscriptionClient against Atrium (entra-compat.md §8), from their own venv (INTEROP_AZ_VENV,
made by `scripts/venv interop/az-requirements.txt`: their pins clash with requirements.txt).

Set-up, through the REST API as seed 003 describes: the owner (a personal account) creates two
subscriptions; the quickstart tenant's global administrator consents to the first using that
directory; the owner maps it and makes the quickstart app its co-administrator. The second keeps
the owner's own directory, so no caller of the quickstart tenant may see it.

The CLI never calls Microsoft: AZURE_CORE_INSTANCE_DISCOVERY=false, its config in a temp dir,
REQUESTS_CA_BUNDLE pointing at Atrium's CA. Each az call is bounded by AZ_TIMEOUT.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from typing import Any, Callable

import jwt
import requests

AZ_TIMEOUT = 120  # one az call (its first start compiles its command index)
ARM_AUDIENCE = "https://management.core.windows.net/"
SUBSCRIPTION_NAME = "Atrium interop"
OTHER_NAME = "Owner only"


class ArmState:
    def __init__(self) -> None:
        self.setup_error: str | None = None
        self.subscription: str | None = None  # the one the quickstart app co-administers
        self.other: str | None = None  # one it must not see
        self.config_dir: str | None = None
        self.registered = False
        self.logged_in = False
        self.metadata: dict | None = None


def _check(cond: Any, msg: str) -> None:
    if not cond:
        raise AssertionError(msg)


def _json(resp: requests.Response, what: str) -> Any:
    try:
        return resp.json()
    except ValueError:
        raise AssertionError(f"{what}: HTTP {resp.status_code}, body is not JSON: {resp.text[:300]!r}") from None


def _rest(c, method: str, path: str, token: str | None = None, body: dict | None = None, want: int = 200) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = requests.request(method, f"{c.base}{path}", json=body, headers=headers, verify=c.ca, timeout=30)
    _check(r.status_code == want, f"{method} {path} -> HTTP {r.status_code} (expected {want}): {r.text[:300]}")
    return _json(r, f"{method} {path}") if r.content else None


def setup(c) -> None:
    """Seed 003 through the REST API. Records why it failed instead of raising."""
    st: ArmState = c.arm
    try:
        owner = c.server.owner
        _check({"tenant", "username", "password"} <= owner.keys(),
               f"`atrium serve` printed no owner credentials (got {sorted(owner)}); they are printed on the first start only")
        m = re.search(r"\(([0-9a-fA-F-]{36})\)", owner["tenant"])
        _check(m, f"cannot read the owner's tenant id from {owner['tenant']!r}")
        personal = m.group(1)
        tok = _rest(c, "POST", "/api/v1/sign-in", body={"tenant": personal, "username": owner["username"], "password": owner["password"]})["token"]
        # The one-time password must be changed first (R10).
        new_password = "Interop-0wner-" + os.urandom(6).hex()
        _rest(c, "POST", "/api/v1/me/password", tok, {"currentPassword": owner["password"], "newPassword": new_password}, want=204)
        tok = _rest(c, "POST", "/api/v1/sign-in", body={"tenant": personal, "username": owner["username"], "password": new_password})["token"]
        admin = _rest(c, "POST", "/api/v1/sign-in", body={"tenant": c.tenant_id, "username": c.qs["username"], "password": c.qs["password"]})["token"]
        sub = _rest(c, "POST", "/api/v1/subscriptions", tok, {"name": SUBSCRIPTION_NAME}, want=201)["id"]
        other = _rest(c, "POST", "/api/v1/subscriptions", tok, {"name": OTHER_NAME}, want=201)["id"]
        # Steps 1-3: use existing directory, the directory's consent, confirm the mapping.
        code = _rest(c, "POST", f"/api/v1/subscriptions/{sub}/directory-requests", tok, {"tenant": c.tenant_id}, want=201)["consentCode"]
        _rest(c, "POST", "/api/v1/directory-consents", admin, {"code": code})
        changed = _rest(c, "POST", f"/api/v1/subscriptions/{sub}/directory-change", tok, {"tenantId": c.tenant_id})
        _check(changed.get("changed") is True, f"directory change: {changed}")
        # Step 4, for a service principal: the quickstart app as co-administrator.
        _rest(c, "POST", f"/api/v1/subscriptions/{sub}/app-coadministrators", tok, {"appId": c.client_id}, want=201)
        st.subscription, st.other = sub, other
    except Exception as e:
        st.setup_error = str(e) if isinstance(e, AssertionError) else f"{type(e).__name__}: {e}"


def _venv() -> str:
    v = os.environ.get("INTEROP_AZ_VENV", "")
    _check(v and os.path.isfile(os.path.join(v, "bin", "az")),
           f"INTEROP_AZ_VENV={v!r} holds no Azure CLI (scripts/interop makes it with scripts/venv interop/az-requirements.txt)")
    return v


def _env(c) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "AZURE_CONFIG_DIR": c.arm.config_dir or "",
        "AZURE_CORE_INSTANCE_DISCOVERY": "false",  # never ask login.microsoftonline.com
        "AZURE_CORE_COLLECT_TELEMETRY": "false",
        "AZURE_CORE_NO_COLOR": "true",
        "AZURE_CORE_SURVEY_MESSAGE": "false",
        "REQUESTS_CA_BUNDLE": c.ca,
    })
    env.pop("CURL_CA_BUNDLE", None)
    env.pop("SSL_CERT_FILE", None)
    return env


def az(c, *args: str, secret: str | None = None) -> Any:
    """Runs `az <args> -o json`; returns its parsed output, or fails with its stderr."""
    cmd = [os.path.join(_venv(), "bin", "az"), *args, "-o", "json"]
    shown = " ".join(a if a != secret else "***" for a in args)
    try:
        r = subprocess.run(cmd, env=_env(c), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=AZ_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"`az {shown}` did not finish within {AZ_TIMEOUT} s") from None
    err = r.stderr.strip()
    if secret:
        err = err.replace(secret, "***")
    _check(r.returncode == 0, f"`az {shown}` exited {r.returncode}: {err[-1500:]}")
    out = r.stdout.strip()
    if not out:
        return None
    try:
        return json.loads(out)
    except ValueError:
        raise AssertionError(f"`az {shown}` printed no JSON: {out[:300]!r}") from None


def _ready(c, need_login: bool = True) -> ArmState:
    st: ArmState = c.arm
    _check(st.setup_error is None, f"cannot run: the seed 003 set-up failed: {st.setup_error}")
    _check(st.registered, "cannot run: `az cloud register` failed (see az_cloud_register)")
    if need_login:
        _check(st.logged_in, "cannot run: `az login --service-principal` failed (see az_login_service_principal)")
    return st


def case_az_cloud_register(c) -> None:
    st: ArmState = c.arm
    _check(st.setup_error is None, f"cannot run: the seed 003 set-up failed: {st.setup_error}")
    st.config_dir = tempfile.mkdtemp(prefix="atrium-az-")
    # With the trailing slash the metadata request arrives as //metadata/endpoints (§8).
    az(c, "cloud", "register", "-n", "atrium", "--endpoint-resource-manager", f"{c.base}/")
    az(c, "cloud", "set", "-n", "atrium")
    cloud = az(c, "cloud", "show")
    ep = cloud.get("endpoints", {})
    st.metadata = _json(requests.get(f"{c.base}/metadata/endpoints?api-version=2022-09-01", verify=c.ca, timeout=30), "metadata")
    _check(cloud.get("name") == "atrium" and cloud.get("isActive") is True, f"the active cloud is not atrium: {cloud.get('name')!r}")
    _check(ep.get("activeDirectory") == st.metadata["authentication"]["loginEndpoint"], f"activeDirectory is {ep.get('activeDirectory')!r}")
    _check(ep.get("activeDirectoryResourceId") == ARM_AUDIENCE, f"activeDirectoryResourceId is {ep.get('activeDirectoryResourceId')!r}")
    _check(ep.get("microsoftGraphResourceId") == st.metadata["microsoftGraphResourceId"], f"microsoftGraphResourceId is {ep.get('microsoftGraphResourceId')!r}")
    st.registered = True


def case_az_login_service_principal(c) -> None:
    st = _ready(c, need_login=False)
    subs = az(c, "login", "--service-principal", "-u", c.client_id, "-p", c.secret, "--tenant", c.tenant_id, secret=c.secret)
    _check(isinstance(subs, list), f"az login printed {subs!r}, not a list of subscriptions")
    ids = [s.get("id") for s in subs]
    _check(ids == [st.subscription], f"az login found {ids}, expected only {st.subscription}")
    st.logged_in = True


def case_az_account_list(c) -> None:
    st = _ready(c)
    subs = az(c, "account", "list")
    _check([s.get("id") for s in subs] == [st.subscription], f"az account list: {[s.get('id') for s in subs]}, expected [{st.subscription}]")
    s = subs[0]
    _check(s.get("name") == SUBSCRIPTION_NAME and s.get("state") == "Enabled" and s.get("tenantId") == c.tenant_id,
           f"az account list: {s}")
    _check(s.get("user", {}).get("type") == "servicePrincipal" and s.get("user", {}).get("name") == c.client_id, f"user: {s.get('user')}")
    _check(s.get("cloudName") == "atrium" and s.get("isDefault") is True, f"cloud/default: {s}")


def case_az_account_show(c) -> None:
    st = _ready(c)
    s = az(c, "account", "show")
    _check(s.get("id") == st.subscription and s.get("homeTenantId") == c.tenant_id, f"az account show: {s}")
    # By id too (GET /subscriptions/{id} is not needed for this; the CLI reads its profile).
    s = az(c, "account", "show", "--subscription", st.subscription)
    _check(s.get("name") == SUBSCRIPTION_NAME, f"az account show --subscription: {s}")


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def case_az_get_access_token(c) -> None:
    st = _ready(c)
    t = az(c, "account", "get-access-token")
    _check(t.get("subscription") == st.subscription and t.get("tenant") == c.tenant_id, f"get-access-token: subscription/tenant {t.get('subscription')!r}/{t.get('tenant')!r}")
    c.collect("access", t.get("accessToken"), "az_get_access_token")
    claims = _claims(t["accessToken"])
    _check(claims.get("aud") == ARM_AUDIENCE and claims.get("appid") == c.client_id, f"ARM token aud/appid: {claims.get('aud')!r}/{claims.get('appid')!r}")
    # The token works on ARM itself.
    r = requests.get(f"{c.base}/subscriptions/{st.subscription}?api-version=2022-12-01", headers={"Authorization": f"Bearer {t['accessToken']}"}, verify=c.ca, timeout=30)
    _check(r.status_code == 200 and _json(r, "GET /subscriptions/{id}").get("displayName") == SUBSCRIPTION_NAME, f"GET /subscriptions/{{id}} -> {r.status_code}: {r.text[:200]}")
    # Not the other subscription (owned, but trusting another directory, no co-administrator).
    r = requests.get(f"{c.base}/subscriptions/{st.other}?api-version=2022-12-01", headers={"Authorization": f"Bearer {t['accessToken']}"}, verify=c.ca, timeout=30)
    _check(r.status_code == 404 and _json(r, "GET other").get("error", {}).get("code") == "SubscriptionNotFound", f"the other subscription -> {r.status_code}: {r.text[:200]}")


def case_az_get_access_token_graph(c) -> None:
    st = _ready(c)
    t = az(c, "account", "get-access-token", "--resource-type", "ms-graph")
    c.collect("access", t.get("accessToken"), "az_get_access_token_graph")
    aud = _claims(t["accessToken"]).get("aud")
    want = (st.metadata or {}).get("microsoftGraphResourceId")
    _check(want and aud == want, f"Graph token aud is {aud!r}, expected the metadata's microsoftGraphResourceId {want!r}")


def case_arm_subscription_client(c) -> None:
    """azure-mgmt-resource's SubscriptionClient with azure-identity's ClientSecretCredential."""
    st: ArmState = c.arm
    _check(st.setup_error is None, f"cannot run: the seed 003 set-up failed: {st.setup_error}")
    py = os.path.join(_venv(), "bin", "python")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "arm_client.py")
    env = _env(c)
    env["ARM_CLIENT_SECRET"] = c.secret  # not on the command line
    try:
        r = subprocess.run([py, script, c.base, c.tenant_id, c.client_id, st.subscription or "", st.other or ""], env=env,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=AZ_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"arm_client.py did not finish within {AZ_TIMEOUT} s") from None
    _check(r.returncode == 0, f"arm_client.py exited {r.returncode}: {r.stderr.strip()[-1500:]}")
    out = json.loads(r.stdout)
    _check(out["subscriptions"] == [[st.subscription, SUBSCRIPTION_NAME, "Enabled", c.tenant_id]], f"subscriptions.list(): {out['subscriptions']}")
    _check(out["get"] == [st.subscription, SUBSCRIPTION_NAME], f"subscriptions.get(): {out['get']}")
    _check(out["tenants"] == [[c.tenant_id, "Home"]], f"tenants.list(): {out['tenants']}")
    _check(out["other"] == "ResourceNotFoundError:SubscriptionNotFound", f"subscriptions.get(other): {out['other']}")


CASES: list[tuple[str, Callable]] = [
    ("az_cloud_register", case_az_cloud_register),
    ("az_login_service_principal", case_az_login_service_principal),
    ("az_account_list", case_az_account_list),
    ("az_account_show", case_az_account_show),
    ("az_get_access_token", case_az_get_access_token),
    ("az_get_access_token_graph", case_az_get_access_token_graph),
    ("arm_subscription_client", case_arm_subscription_client),
]


def cleanup(c) -> None:
    if c.arm.config_dir:
        shutil.rmtree(c.arm.config_dir, ignore_errors=True)
