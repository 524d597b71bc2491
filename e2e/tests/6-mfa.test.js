// Multi-factor sign-in in real Chromium: a global admin sets up an authenticator app from the
// console's Security info page (the QR code is inline SVG rendered by the server), the test
// computes the app's code in node from the secret shown beside it (RFC 6238, HMAC-SHA-1), the
// admin gets 10 recovery codes, signs out, and signs in again through the second step.
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
