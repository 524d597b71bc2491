// Multi-factor sign-in in real Chromium: a global admin sets up an authenticator app from the
// console's Security info page (the QR code is inline SVG rendered by the server), the test
// computes the app's code in node from the secret shown beside it (RFC 6238, HMAC-SHA-1), the
// admin gets 10 recovery codes, signs out, and signs in again through the second step. Then a
// user with an authenticator app signs in to an application through the authorize page:
// password, a wrong code (the error), the right code, and the redirect to the reply URL.
import { test, before, after } from "node:test";
import { createHmac } from "node:crypto";
import { BASE, OWNER, OWNER_PASSWORD, ADMIN_PASSWORD, PERSONAL, launch, context, shot, signIn, signOut, heading, assert, shotsFor } from "./lib.js";

shotsFor("6-mfa");

const DOMAIN = "mfademo.onatrium.local";

let browser, page;

before(async () => {
  browser = await launch();
  page = await (await context(browser)).newPage();
});
after(async () => { await browser?.close(); });

function base32Decode(s) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0, value = 0;
  const out = [];
  for (const c of s.replace(/[\s=]/g, "").toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) { out.push((value >>> (bits - 8)) & 0xff); bits -= 8; }
  }
  return Buffer.from(out);
}

/** The 6-digit TOTP code of a 30-second step. */
function totp(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const h = createHmac("sha1", secret).update(counter).digest();
  const o = h[19] & 0x0f;
  const bin = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(bin % 1000000).padStart(6, "0");
}

const nowStep = () => Math.floor(Date.now() / 1000 / 30);

test("a global admin enrols TOTP in the console and signs in with it", async () => {
  // A tenant with its own global admin, made by the owner through the REST API.
  const api = (await context(browser)).request;
  const signedIn = await api.post(BASE + "/api/v1/sign-in", { data: { tenant: PERSONAL, username: OWNER, password: OWNER_PASSWORD } });
  assert.equal(signedIn.status(), 200, await signedIn.text());
  const token = (await signedIn.json()).token;
  const created = await api.post(BASE + "/api/v1/tenants", {
    headers: { Authorization: `Bearer ${token}` },
    data: { displayName: "MFA Demo", domainPrefix: "mfademo", contactEmail: "ops@example.com",
      globalAdmin: { givenName: "Mia", surname: "Admin", username: "admin", password: ADMIN_PASSWORD } },
  });
  assert.equal(created.status(), 201, await created.text());

  await signIn(page, DOMAIN, "admin", ADMIN_PASSWORD);
  await page.waitForURL(/\/accounts$/);
  await page.getByRole("link", { name: "Security info" }).click();
  await page.waitForURL(/\/security-info$/);
  assert.equal(await heading(page), "Security info");
  await shot(page, "security-info");

  await page.getByRole("button", { name: "Set up an authenticator app" }).click();
  await page.getByRole("heading", { name: "Set up your authenticator app" }).waitFor();
  const qr = page.getByRole("img", { name: "QR code for the authenticator app" });
  assert.ok(await qr.isVisible(), "the QR code is shown");
  await shot(page, "qr-code");
  const secret = base32Decode((await page.locator("#totp-secret").textContent()).trim());
  assert.equal(secret.length, 20);

  const confirmStep = nowStep();
  await page.getByLabel("Code from the app").fill(totp(secret, confirmStep));
  await page.getByRole("button", { name: "Verify and turn on" }).click();
  await page.getByRole("heading", { name: "Your recovery codes" }).waitFor();
  assert.equal(await page.locator("#recovery-codes li").count(), 10);
  await shot(page, "recovery-codes");

  await page.getByRole("link", { name: "Continue" }).click();
  await page.waitForURL(/\/accounts$/);
  await signOut(page);

  // The password alone no longer signs in: the second step asks for the code.
  await signIn(page, DOMAIN, "admin", ADMIN_PASSWORD);
  await page.getByRole("heading", { name: "Verify your identity" }).waitFor();
  await shot(page, "second-step");
  // A wrong code keeps the user on the step.
  const step = Math.max(nowStep(), confirmStep + 1);
  const wrong = totp(secret, step) === "000000" ? "111111" : "000000";
  await page.getByLabel("Code").fill(wrong);
  await page.getByRole("button", { name: "Verify" }).click();
  await page.getByRole("alert").waitFor();
  assert.match(await page.getByRole("alert").textContent(), /incorrect/);
  await shot(page, "wrong-code");
  // The code of a step after the one spent at set-up (within the server's one-step window).
  await page.getByLabel("Code").fill(totp(secret, step));
  await page.getByRole("button", { name: "Verify" }).click();
  await page.waitForURL(/\/accounts$/);
  await shot(page, "signed-in-with-totp");
});

test("a user with TOTP signs in to an app through the authorize page", async () => {
  const api = (await context(browser)).request;
  const bearer = (t) => ({ Authorization: `Bearer ${t}` });
  const signedIn = await api.post(BASE + "/api/v1/sign-in", { data: { tenant: DOMAIN, username: "admin", password: ADMIN_PASSWORD } });
  // The admin enrolled in the first test: this sign-in needs its code, so use a fresh user.
  assert.equal(signedIn.status(), 401, await signedIn.text());
  const owner = await api.post(BASE + "/api/v1/sign-in", { data: { tenant: PERSONAL, username: OWNER, password: OWNER_PASSWORD } });
  assert.equal(owner.status(), 200, await owner.text());
  const ownerToken = (await owner.json()).token;
  const created = await api.post(BASE + "/api/v1/tenants", {
    headers: bearer(ownerToken),
    data: { displayName: "Authorize Demo", domainPrefix: "authzdemo", contactEmail: "ops@example.com",
      globalAdmin: { givenName: "Ava", surname: "Admin", username: "admin", password: ADMIN_PASSWORD } },
  });
  assert.equal(created.status(), 201, await created.text());
  const tid = (await created.json()).tenant.id;
  const domain = "authzdemo.onatrium.local";
  const admin = (await (await api.post(BASE + "/api/v1/sign-in", { data: { tenant: domain, username: "admin", password: ADMIN_PASSWORD } })).json()).token;
  const REPLY = "https://app.authzdemo.test/signed-in";
  const registered = await api.post(`${BASE}/api/v1/tenants/${tid}/applications`, {
    headers: bearer(admin), data: { displayName: "Contoso Portal", replyUrls: [REPLY], publicClient: true },
  });
  assert.equal(registered.status(), 201, await registered.text());
  const clientId = (await registered.json()).appId;
  const user = await api.post(`${BASE}/api/v1/tenants/${tid}/users`, {
    headers: bearer(admin), data: { userPrincipalName: "adele", givenName: "Adele", surname: "Vance", password: "Us3r-Passw0rd!" },
  });
  assert.equal(user.status(), 201, await user.text());
  // Adele sets up her authenticator app through the REST API.
  const adele = (await (await api.post(BASE + "/api/v1/sign-in", { data: { tenant: domain, username: "adele", password: "Us3r-Passw0rd!" } })).json()).token;
  const started = await api.post(BASE + "/api/v1/me/mfa/totp", { headers: bearer(adele), data: {} });
  assert.equal(started.status(), 201, await started.text());
  const secret = base32Decode((await started.json()).secret);
  const confirmStep = nowStep();
  const confirmed = await api.post(BASE + "/api/v1/me/mfa/totp/confirm", { headers: bearer(adele), data: { code: totp(secret, confirmStep) } });
  assert.equal(confirmed.status(), 200, await confirmed.text());

  // The redirect to the reply URL is read from the authorize page's answer (the app itself
  // is not running): its Location, with the code and the state.
  let location = null;
  await page.route("**/oauth2/v2.0/authorize", async (route) => {
    if (route.request().method() !== "POST") return route.continue();
    const response = await route.fetch({ maxRedirects: 0 });
    if (response.status() !== 302) return route.fulfill({ response });
    location = response.headers()["location"];
    return route.fulfill({ status: 200, contentType: "text/html",
      body: `<!doctype html><html lang="en"><head><title>Contoso Portal</title></head><body><main><h1>Back at Contoso Portal</h1><p id="location"></p></main></body></html>` });
  });
  const query = new URLSearchParams({ client_id: clientId, response_type: "code", redirect_uri: REPLY, scope: "openid User.Read", state: "e2e-state" });
  await page.goto(`${BASE}/${tid}/oauth2/v2.0/authorize?${query}`);
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  assert.match(await page.locator("p.app").textContent(), /Contoso Portal/);
  await page.getByLabel("User name").fill("adele");
  await page.getByLabel("Password").fill("Us3r-Passw0rd!");
  await shot(page, "authorize-sign-in", { consolePage: false });
  await page.getByRole("button", { name: "Sign in", exact: true }).click();

  // The second step: no code is issued before it.
  await page.getByRole("heading", { name: "Verify your identity" }).waitFor();
  assert.equal(location, null);
  await shot(page, "authorize-second-step", { consolePage: false });
  const step = Math.max(nowStep(), confirmStep + 1);
  const wrong = totp(secret, step) === "000000" ? "111111" : "000000";
  await page.getByLabel("Enter the code").fill(wrong);
  await page.getByRole("button", { name: "Verify" }).click();
  await page.getByRole("alert").waitFor();
  assert.match(await page.getByRole("alert").textContent(), /incorrect/);
  assert.equal(location, null);
  await shot(page, "authorize-wrong-code", { consolePage: false });

  await page.getByLabel("Enter the code").fill(totp(secret, step));
  await page.getByRole("button", { name: "Verify" }).click();
  await page.getByRole("heading", { name: "Back at Contoso Portal" }).waitFor();
  assert.ok(location, "the authorize page redirected");
  const back = new URL(location);
  assert.equal(back.origin + back.pathname, REPLY);
  assert.equal(back.searchParams.get("state"), "e2e-state");
  assert.match(back.searchParams.get("code") ?? "", /^atrc_/);
  await shot(page, "authorize-redirected", { consolePage: false });
  await page.unroute("**/oauth2/v2.0/authorize");

  // The code is Adele's, signed in with a second factor.
  const redeemed = await api.post(`${BASE}/${tid}/oauth2/v2.0/token`, {
    form: { grant_type: "authorization_code", client_id: clientId, code: back.searchParams.get("code"), redirect_uri: REPLY },
  });
  assert.equal(redeemed.status(), 200, await redeemed.text());
  const claims = JSON.parse(Buffer.from((await redeemed.json()).access_token.split(".")[1], "base64url").toString());
  assert.deepEqual(claims.amr, ["pwd", "mfa", "otp"]);
  assert.equal(claims.upn, `adele@${domain}`); // a Graph (v1.0) token names the user in upn
});
