// Passkeys (WebAuthn) in real Chromium with its virtual authenticator (DevTools WebAuthn
// domain: CTAP2, internal transport, resident keys, user verification): a user adds a passkey
// on the console's Security info page, signs out, signs in with it without a password on the
// console and on the authorize page (which ends in the code redirect to the app's reply URL,
// intercepted here), then renames and removes it.
//
// Browsers refuse IP addresses as WebAuthn relying parties, so this file reaches the server as
// https://localhost:<port> (one of the names the server answers for) instead of 127.0.0.1.
import { test, before, after } from "node:test";
import { join } from "node:path";
import { BASE, OWNER, OWNER_PASSWORD, PERSONAL, launch, context, shot, heading, assert, shotsFor } from "./lib.js";

shotsFor("7-passkeys");

const SHOTS = process.env.ATRIUM_TEST_SCREENSHOTS || "screenshots";
const HOST = (() => { const u = new URL(BASE); u.hostname = "localhost"; return u.origin; })();
const PREFIX = "passkeydemo";
const DOMAIN = `${PREFIX}.onatrium.local`;
const USER_PASSWORD = "Us3r-Passw0rd!";
const REPLY_URL = "https://app.passkeydemo.example/callback";

let browser, ctx, page, cdp, authenticatorId, tenantId, clientId;

before(async () => {
  browser = await launch();
  ctx = await context(browser);
  page = await ctx.newPage();
  cdp = await ctx.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  ({ authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  }));

  // A tenant with a user and an app registration, made by the owner through the REST API.
  const api = (await context(browser)).request;
  const signedIn = await api.post(HOST + "/api/v1/sign-in", { data: { tenant: PERSONAL, username: OWNER, password: OWNER_PASSWORD } });
  assert.equal(signedIn.status(), 200, await signedIn.text());
  const owner = { Authorization: `Bearer ${(await signedIn.json()).token}` };
  const created = await api.post(HOST + "/api/v1/tenants", {
    headers: owner,
    data: { displayName: "Passkey Demo", domainPrefix: PREFIX, contactEmail: "ops@example.com",
      globalAdmin: { givenName: "Pat", surname: "Admin", username: "admin", password: "Adm1n-Passw0rd!" } },
  });
  assert.equal(created.status(), 201, await created.text());
  tenantId = (await created.json()).tenant.id;
  const admin = await api.post(HOST + "/api/v1/sign-in", { data: { tenant: DOMAIN, username: "admin", password: "Adm1n-Passw0rd!" } });
  const adminAuth = { Authorization: `Bearer ${(await admin.json()).token}` };
  const user = await api.post(`${HOST}/api/v1/tenants/${tenantId}/users`, {
    headers: adminAuth, data: { userPrincipalName: "kim", givenName: "Kim", surname: "Lee", password: USER_PASSWORD },
  });
  assert.equal(user.status(), 201, await user.text());
  const app = await api.post(`${HOST}/api/v1/tenants/${tenantId}/applications`, {
    headers: adminAuth, data: { displayName: "Passkey Demo App", replyUrls: [REPLY_URL] },
  });
  assert.equal(app.status(), 201, await app.text());
  clientId = (await app.json()).appId;
});
after(async () => { await browser?.close(); });

async function credentials() {
  return (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;
}

async function signOut() {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/sign-in$/);
}

test("add a passkey in the console, then sign in with it without a password", async () => {
  await page.goto(`${HOST}/sign-in`);
  await page.getByLabel("Tenant").fill(DOMAIN);
  await page.getByLabel("User name").fill("kim");
  await page.getByLabel("Password").fill(USER_PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL(/\/accounts$/);
  await page.goto(`${HOST}/security-info`);
  assert.equal(await heading(page), "Security info");
  await page.getByRole("heading", { name: "Passkeys" }).waitFor();
  assert.ok(await page.getByText("You have no passkeys yet.").isVisible());
  await shot(page, "security-info-no-passkeys");

  await page.getByRole("button", { name: "Add a passkey" }).click();
  await page.locator("#passkey-list").waitFor();
  const rows = page.locator("#passkey-list li");
  assert.equal(await rows.count(), 1);
  assert.match(await rows.first().textContent(), /Passkey 1/);
  assert.match(await rows.first().textContent(), /Never/);
  const stored = await credentials();
  assert.equal(stored.length, 1);
  assert.equal(stored[0].isResidentCredential, true, "a discoverable credential");
  await shot(page, "passkey-added");

  await page.goto(`${HOST}/accounts`);
  await signOut();
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await page.waitForURL(/\/accounts$/);
  await shot(page, "signed-in-with-passkey");
  await page.goto(`${HOST}/security-info`);
  assert.doesNotMatch(await page.locator("#passkey-list li").first().textContent(), /Never/, "last used is shown");
  await page.goto(`${HOST}/accounts`);
  await signOut();
});

test("sign in with the passkey on the authorize page: the code goes to the reply URL", async () => {
  // The reply URL is the app's, not ours, and the authorize page's CSP (form-action: its own
  // origin) keeps the browser from following the redirect there (issue 15). So the form's POST
  // is sent on by the test (page.route), which reads the redirect and stops there.
  const authorizeUrl = `${HOST}/${tenantId}/oauth2/v2.0/authorize`;
  let redirect = null;
  await page.route(authorizeUrl, async (route) => {
    if (route.request().method() !== "POST") return route.continue();
    const res = await route.fetch({ maxRedirects: 0 });
    redirect = { status: res.status(), location: res.headers()["location"] || "" };
    await route.fulfill({ status: 200, contentType: "text/plain", body: `redirected to ${redirect.location}` });
  });
  const q = new URLSearchParams({ client_id: clientId, response_type: "code", redirect_uri: REPLY_URL, scope: "openid profile offline_access", state: "state-7" });
  await page.goto(`${authorizeUrl}?${q}`);
  await page.getByRole("heading", { name: "Sign in", exact: true }).waitFor();
  assert.match(await page.textContent("body"), /Passkey Demo App/);
  // The authorize page has its own small stylesheet, so it is saved without lib.js's checks.
  await page.screenshot({ path: join(SHOTS, "7-passkeys-authorize-page.png"), fullPage: true });
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await page.getByText(/^redirected to/).waitFor();
  assert.equal(redirect.status, 302, `the passkey sign-in redirects (got ${redirect.status})`);
  const back = new URL(redirect.location);
  assert.equal(`${back.origin}${back.pathname}`, REPLY_URL);
  assert.ok(back.searchParams.get("code"), `a code in ${back}`);
  assert.equal(back.searchParams.get("state"), "state-7");
  await page.unroute(authorizeUrl);
});

test("rename and remove the passkey", async () => {
  await page.goto(`${HOST}/sign-in`);
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await page.waitForURL(/\/accounts$/);
  await page.goto(`${HOST}/security-info`);
  const rename = page.getByLabel("New name for Passkey 1");
  await rename.fill("Work laptop");
  await page.getByRole("button", { name: "Rename" }).click();
  await page.waitForURL(/\/security-info$/);
  assert.match(await page.locator("#passkey-list li").first().textContent(), /Work laptop/);
  await shot(page, "passkey-renamed");

  await page.getByRole("link", { name: "Remove Work laptop" }).click();
  await page.getByRole("heading", { name: "Remove passkey Work laptop?" }).waitFor();
  await shot(page, "remove-confirmation");
  await page.getByRole("button", { name: "Remove" }).click();
  await page.waitForURL(/\/security-info$/);
  assert.ok(await page.getByText("You have no passkeys yet.").isVisible());
  await shot(page, "passkey-removed");

  // The authenticator still holds it, but the server no longer accepts it.
  await page.goto(`${HOST}/accounts`);
  await signOut();
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await page.getByRole("alert").filter({ hasText: /could not be verified|not registered/ }).waitFor();
  await shot(page, "removed-passkey-refused");
});

