// Seed 002 "Invite outside users" as a person would: the tenant's global admin (a Manager)
// invites two addresses, sees "Invitation pending", gets the per-address errors, resends one;
// the guest opens the link from the real mail (delivered to the SMTP sink that scripts/e2e
// started, ATRIUM_TEST_MAIL_DIR), chooses a password and signs in with the email address; the
// admin revokes the other invitation. Runs after 1-seeds.test.js (which sets the owner's
// password); it opens its own account, Wingtip Games, with a new tenant.
import { test, before, after } from "node:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BASE, OWNER, OWNER_PASSWORD, ADMIN_PASSWORD, PERSONAL, launch, context, shot, signIn, heading, assert, shotsFor } from "./lib.js";

shotsFor("3-invitations");

const MAIL_DIR = process.env.ATRIUM_TEST_MAIL_DIR;
const TENANT = "wingtip.onatrium.local";
const ACCOUNT = "Wingtip Games";
const ALICE = "alice@example.com";
const BOB = "bob@example.org";
const GUEST_PASSWORD = "Guest-Passw0rd!";

let browser, admin, accountUrl;

before(async () => {
  assert.ok(MAIL_DIR, "run through scripts/e2e (ATRIUM_TEST_MAIL_DIR: the SMTP sink's directory)");
  browser = await launch();
  admin = await (await context(browser)).newPage();
});
after(async () => { await browser?.close(); });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The messages the sink received for `to`, oldest first (waits until there are `count`). */
async function mailsTo(to, count) {
  for (let i = 0; i < 150; i += 1) {
    const mails = readdirSync(MAIL_DIR).filter((f) => f.endsWith(".eml")).sort()
      .map((f) => readFileSync(join(MAIL_DIR, f), "latin1"))
      .filter((m) => m.split(/\r?\n/, 1)[0].replace("X-Envelope-To: ", "").trim() === to);
    if (mails.length >= count) return mails;
    await sleep(100);
  }
  assert.fail(`fewer than ${count} mails to ${to} arrived in ${MAIL_DIR}`);
}

/** The redemption link of a mail (its text part may be quoted-printable). */
function redeemLink(mail) {
  const flat = mail.replace(/=\r?\n/g, "").replace(/=3D/g, "=");
  const m = flat.match(/https:\/\/[^\s"<>]*\/invitations\/redeem\?token=inv_[A-Za-z0-9_-]+/);
  assert.ok(m, "a redemption link in the mail");
  return m[0];
}

test("the owner opens an account with a new tenant; Invite outside users is disabled for the owner, with the reason", async () => {
  const page = await (await context(browser)).newPage();
  await signIn(page, PERSONAL, OWNER, OWNER_PASSWORD);
  await page.waitForURL(/\/accounts$/);
  await page.getByLabel("Account name").fill(ACCOUNT);
  await page.getByRole("button", { name: "Open account" }).click();
  await page.waitForURL(/\/tenants$/);
  accountUrl = page.url().replace(/\/tenants$/, "");
  await page.getByRole("link", { name: "Create Microsoft Entra ID" }).click();
  await page.getByLabel("Domain name").fill("wingtip");
  await page.getByLabel("Organization name").fill("Wingtip");
  await page.getByLabel("Contact email").fill("ops@wingtip.example");
  await page.getByLabel("First name").fill("Nora");
  await page.getByLabel("Last name").fill("Admin");
  await page.getByLabel("Username").fill("admin");
  await page.getByLabel("Password").fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "Create" }).click();
  await page.waitForURL(/\/tenants$/);
  await page.goto(accountUrl + "/users");
  assert.ok(await page.getByRole("button", { name: "Invite outside users" }).isDisabled());
  assert.match(await page.locator("#invite-why").textContent(), /global administrator/);
  await shot(page, "users-owner");
  await page.goto(accountUrl + "/users/invite");
  assert.ok(await page.getByRole("button", { name: "Invite", exact: true }).isDisabled());
  await shot(page, "invite-owner-disabled");
  // The new tenant's global admin is a Manager of the account already (seed 000).
  await page.goto(accountUrl + "/users");
  assert.match(await page.locator("table.list").textContent(), /Nora Admin[\s\S]*Manager/);
  await page.context().close();
});

test("seed 002: the global admin invites outside users; refused batches show every bad address", async () => {
  await signIn(admin, TENANT, "admin", ADMIN_PASSWORD);
  await admin.getByRole("link", { name: ACCOUNT }).click();
  await admin.waitForURL(/\/users$/);
  assert.equal(admin.url().replace(/\/users$/, ""), accountUrl);
  await admin.getByRole("link", { name: "Invite outside users" }).click();
  assert.equal(await heading(admin), "Invite outside users");
  await shot(admin, "invite-form");

  // Eleven addresses: at most ten.
  const eleven = Array.from({ length: 11 }, (_, i) => `p${i}@example.com`).join(", ");
  await admin.getByLabel("Email addresses").fill(eleven);
  await admin.getByRole("checkbox", { name: "Developer" }).check();
  await admin.getByRole("button", { name: "Invite", exact: true }).click();
  assert.match(await admin.locator("#emails-error").textContent(), /at most 10/);
  assert.equal(await admin.getByLabel("Email addresses").inputValue(), eleven, "the input is kept");
  assert.ok(await admin.getByRole("checkbox", { name: "Developer" }).isChecked(), "the roles are kept");
  await shot(admin, "invite-too-many");

  // A malformed and a repeated address: each one listed, nobody invited.
  await admin.getByLabel("Email addresses").fill(`${ALICE}; not-an-address, ${ALICE}`);
  await admin.getByRole("button", { name: "Invite", exact: true }).click();
  const error = admin.locator("#emails-error");
  assert.match(await error.textContent(), /2 of the 3 addresses cannot be invited, so nobody was invited/);
  const items = await error.locator("li").allTextContents();
  assert.equal(items.length, 2);
  assert.match(items[0], /not-an-address.*not a valid email address/);
  assert.match(items[1], /alice@example\.com.*appears more than once/);
  assert.equal(await admin.getByLabel("Email addresses").getAttribute("aria-invalid"), "true");
  await shot(admin, "invite-errors");

  // Two people with a role and a personal message.
  await admin.getByLabel("Email addresses").fill(`${ALICE}; ${BOB}`);
  await admin.getByLabel("Personal message (optional)").fill("Welcome to Wingtip Games!");
  await admin.getByRole("button", { name: "Invite", exact: true }).click();
  await admin.getByRole("heading", { name: "Invitations sent" }).waitFor();
  const rows = await admin.locator("#invited tbody tr").allTextContents();
  assert.equal(rows.length, 2);
  for (const [row, who] of [[rows[0], ALICE], [rows[1], BOB]]) {
    assert.match(row, new RegExp(`${who.replace(/\./g, "\\.")}[\\s\\S]*Invitation pending; an email is on its way[\\s\\S]*Developer`));
  }
  assert.ok(!(await admin.content()).includes("token="), "whoever invites never sees the link");
  await shot(admin, "invited");

  await admin.getByRole("link", { name: "Back to users" }).click();
  await admin.waitForURL(/\/users$/);
  assert.equal(await admin.getByRole("link", { name: /^Invitation pending/ }).count(), 2, "shown in place of the name");
  await shot(admin, "users-pending");
});

test("seed 002: the pending guest's page shows the invitation and its mail; Resend replaces the link", async () => {
  await admin.goto(accountUrl + "/users");
  await admin.getByRole("link", { name: `Invitation pending: ${BOB}` }).click();
  assert.match(await heading(admin), /bob@example\.org/);
  assert.match(await admin.locator("#invitation-status").textContent(), /Invitation pending/);
  // The mail worker polls every 100 ms: the status turns to sent.
  for (let i = 0; i < 50 && (await admin.locator("#mail-status").getAttribute("data-status")) !== "sent"; i += 1) {
    await sleep(200);
    await admin.reload();
  }
  assert.match(await admin.locator("#mail-status").textContent(), /^Sent \d{4}-\d{2}-\d{2}/);
  await shot(admin, "guest-detail");
  const [first] = await mailsTo(BOB, 1);
  await admin.getByRole("button", { name: "Resend invitation" }).click();
  assert.match(await admin.getByRole("status").textContent(), /A new invitation was sent to bob@example\.org/);
  assert.match(await admin.locator("dl.facts").last().textContent(), /Resent\s*Once/);
  assert.ok(!(await admin.content()).includes("inv_"), "no link on the page");
  await shot(admin, "guest-resent");
  const mails = await mailsTo(BOB, 2);
  assert.notEqual(redeemLink(mails[1]), redeemLink(first));

  // The replaced link no longer works, with a clear page.
  const guest = await (await context(browser)).newPage();
  await guest.goto(redeemLink(first));
  assert.equal(await heading(guest), "This invitation link can't be used");
  assert.match(await guest.getByRole("alert").textContent(), /replaced by a newer invitation/);
  await shot(guest, "redeem-replaced");
  await guest.context().close();
});

test("seed 002: the guest accepts from the mail, chooses a password and signs in with the email address", async () => {
  const mails = await mailsTo(ALICE, 1);
  const mail = mails[mails.length - 1];
  assert.match(mail, /Welcome to Wingtip Games!/, "the personal message is in the mail");
  const link = redeemLink(mail);
  assert.ok(link.startsWith(BASE), `${link} points at this server`);
  const guest = await (await context(browser)).newPage();
  const res = await guest.goto(link);
  assert.equal(res.headers()["referrer-policy"], "no-referrer");
  assert.equal(res.headers()["cache-control"], "no-store");
  assert.equal(await heading(guest), "Accept your invitation");
  assert.equal(await guest.locator("#redeem-email").textContent(), ALICE);
  await shot(guest, "redeem-form");
  await guest.getByLabel("Choose a password").fill(GUEST_PASSWORD);
  await guest.getByLabel("Confirm the password").fill("Something-else1");
  await guest.getByRole("button", { name: "Accept invitation" }).click();
  assert.match(await guest.locator("#confirm-error").textContent(), /do not match/);
  await shot(guest, "redeem-mismatch");
  await guest.getByLabel("Choose a password").fill(GUEST_PASSWORD);
  await guest.getByLabel("Confirm the password").fill(GUEST_PASSWORD);
  await guest.getByRole("button", { name: "Accept invitation" }).click();
  assert.equal(await heading(guest), "You're all set");
  await shot(guest, "redeem-done");
  await guest.getByRole("link", { name: "Go to sign-in" }).click();
  await guest.waitForURL(/\/sign-in$/);
  await signIn(guest, TENANT, ALICE, GUEST_PASSWORD);
  await guest.waitForURL(/\/accounts$/);
  assert.ok(await guest.getByRole("link", { name: ACCOUNT }).isVisible(), "the guest sees the account");
  await shot(guest, "guest-accounts");
  // The link worked once.
  await guest.goto(link);
  assert.match(await guest.getByRole("alert").textContent(), /already accepted/);
  await guest.context().close();

  await admin.goto(accountUrl + "/users");
  assert.equal(await admin.getByRole("link", { name: /^Invitation pending/ }).count(), 1, "only Bob is still pending");
  assert.ok(await admin.getByRole("link", { name: ALICE, exact: true }).isVisible(), "Alice is listed by name");
});

test("seed 002: the admin revokes the remaining invitation behind a confirmation", async () => {
  await admin.goto(accountUrl + "/users");
  await admin.getByRole("link", { name: `Invitation pending: ${BOB}` }).click();
  await admin.getByRole("link", { name: "Revoke invitation" }).click();
  const what = await admin.locator("#revoke-what").textContent();
  assert.match(what, /stops working/);
  assert.match(what, /deleted/);
  await shot(admin, "revoke-confirm");
  await admin.getByRole("button", { name: "Revoke invitation" }).click();
  await admin.waitForURL(/\/users$/);
  assert.equal(await admin.getByRole("link", { name: /^Invitation pending/ }).count(), 0);
  assert.ok(!(await admin.locator("table.list").textContent()).includes(BOB), "the guest is gone");
  await shot(admin, "users-after-revoke");
  // Bob's newest link now says so.
  const mails = await mailsTo(BOB, 2);
  const guest = await (await context(browser)).newPage();
  await guest.goto(redeemLink(mails[mails.length - 1]));
  assert.equal(await heading(guest), "This invitation link can't be used");
  await shot(guest, "redeem-revoked");
  await guest.context().close();
});
