// Seed 003 (subscriptions) walked as people would, in real Chromium: the owner (a personal
// account) creates a subscription and asks to use a directory; that directory's global admin
// consents; the owner changes the directory (confirm page), adds a co-administrator (and gets the
// error for a user of another directory); the account's Web storefront deployment page lists the
// subscription for the owner and the co-administrator; a disabled subscription leaves it.
// Uses the owner password that 1-seeds.test.js sets (like 2-access); everything else it makes.
import { test, before, after } from "node:test";
import { BASE, OWNER, OWNER_PASSWORD, ADMIN_PASSWORD, PERSONAL, launch, context, shot, signIn, heading, assert, shotsFor } from "./lib.js";

shotsFor("4-subscriptions");

const NORTHWIND = "northwind.onatrium.local";
const TAILSPIN = "tailspin.onatrium.local";

let browser, owner, admin, accountUrl, subUrl, code;

before(async () => {
  browser = await launch();
  owner = await (await context(browser)).newPage();
  admin = await (await context(browser)).newPage();
});
after(async () => { await browser?.close(); });

/** Inputs without an accessible name on the current page. */
async function unlabelled(page) {
  return page.evaluate(() => [...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
    .filter((el) => !(el.labels?.length || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby")))
    .map((el) => el.outerHTML));
}

/** Every form that posts carries the session's CSRF token. */
async function postsWithoutCsrf(page) {
  return page.evaluate(() => [...document.querySelectorAll("form[method=post]")]
    .filter((f) => !f.querySelector("input[type=hidden][name=csrf]")?.value)
    .map((f) => f.getAttribute("action")));
}

async function checkPage(page, name) {
  assert.deepEqual(await unlabelled(page), [], `${name}: unlabelled inputs`);
  assert.deepEqual(await postsWithoutCsrf(page), [], `${name}: forms without a CSRF token`);
  return shot(page, name);
}

async function createTenant(page, prefix, org) {
  await page.getByRole("link", { name: "Create Microsoft Entra ID" }).click();
  await page.getByLabel("Domain name").fill(prefix);
  await page.getByLabel("Organization name").fill(org);
  await page.getByLabel("First name").fill(org.split(" ")[0]);
  await page.getByLabel("Last name").fill("Admin");
  await page.getByLabel("Username").fill("admin");
  await page.getByLabel("Password").fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "Create" }).click();
  await page.waitForURL(/\/tenants$/);
}

/** Steps 1 and 2 for `directory`: the owner gets the code, the directory's admin consents. */
async function requestCode(directory) {
  await owner.goto(subUrl);
  await owner.getByRole("link", { name: "Use existing directory" }).click();
  await owner.getByLabel("Directory (domain or tenant ID)").fill(directory);
  await owner.getByRole("button", { name: "Request consent code" }).click();
  await owner.getByRole("heading", { name: `Consent code for ${directory}` }).waitFor();
  return (await owner.locator("#consent-code").textContent()).trim();
}

test("setup: the owner's account with two tenants (Northwind, Tailspin)", async () => {
  await signIn(owner, PERSONAL, OWNER, OWNER_PASSWORD);
  await owner.waitForURL(/\/accounts$/);
  await owner.getByLabel("Account name").fill("Northwind Traders");
  await owner.getByRole("button", { name: "Open account" }).click();
  await owner.waitForURL(/\/tenants$/);
  accountUrl = owner.url().replace(/\/tenants$/, "");
  await createTenant(owner, "northwind", "Northwind Traders");
  await createTenant(owner, "tailspin", "Tailspin Toys");
  assert.equal(await owner.locator("table.list tbody tr").count(), 2);
});

test("the owner creates a subscription (error next to the field first)", async () => {
  await owner.goto(BASE + "/accounts");
  await owner.getByRole("link", { name: "Subscriptions" }).click();
  await owner.waitForURL(/\/subscriptions$/);
  assert.equal(await heading(owner), "Subscriptions");
  assert.match(await owner.locator(".empty").textContent(), /no subscriptions/);
  await checkPage(owner, "subscriptions-empty");
  await owner.getByRole("button", { name: "Create subscription" }).click();
  assert.ok(await owner.locator("#name-error").isVisible(), "a missing name is reported next to the field");
  assert.equal(await owner.getByLabel("Subscription name").getAttribute("aria-invalid"), "true");
  await shot(owner, "subscription-create-error");
  await owner.getByLabel("Subscription name").fill("Pay-As-You-Go");
  await owner.getByRole("button", { name: "Create subscription" }).click();
  await owner.waitForURL(/\/subscriptions\/[0-9a-f-]+$/);
  subUrl = owner.url();
  assert.equal(await heading(owner), "Pay-As-You-Go");
  assert.match(await owner.locator("#sub-directory").textContent(), /personal\.onatrium\.local/);
  assert.match(await owner.locator("#sub-state").textContent(), /Active/);
  await checkPage(owner, "subscription");
  // A second one, which stays on the owner's own directory (never in a deployment drop-down).
  await owner.goto(BASE + "/subscriptions");
  await owner.getByLabel("Subscription name").fill("Dev/Test");
  await owner.getByRole("button", { name: "Create subscription" }).click();
  await owner.waitForURL(/\/subscriptions\/[0-9a-f-]+$/);
  await owner.goto(BASE + "/subscriptions");
  const rows = owner.locator("table.list tbody tr");
  assert.equal(await rows.count(), 2);
  assert.match(await rows.filter({ hasText: "Pay-As-You-Go" }).textContent(), /Active[\s\S]*personal\.onatrium\.local[\s\S]*Owner/);
  await checkPage(owner, "subscriptions");
});

test("step 1: Use existing directory; the consent code is shown once, with a copy button", async () => {
  await owner.goto(subUrl);
  await owner.getByRole("link", { name: "Use existing directory" }).click();
  await checkPage(owner, "use-directory");
  await owner.getByLabel("Directory (domain or tenant ID)").fill("nowhere.onatrium.local");
  await owner.getByRole("button", { name: "Request consent code" }).click();
  assert.match(await owner.locator("#tenant-error").textContent(), /not found/);
  await shot(owner, "use-directory-error");
  await owner.getByLabel("Directory (domain or tenant ID)").fill(NORTHWIND);
  await owner.getByRole("button", { name: "Request consent code" }).click();
  await owner.getByRole("heading", { name: `Consent code for ${NORTHWIND}` }).waitFor();
  code = (await owner.locator("#consent-code").textContent()).trim();
  assert.match(code, /^atrd_/);
  assert.match(await owner.getByRole("region", { name: "What to do with it" }).textContent(), /global administrator of northwind/);
  await owner.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: BASE });
  await owner.getByRole("button", { name: "Copy" }).click();
  await owner.locator(".copied", { hasText: "Copied" }).waitFor();
  assert.equal(await owner.evaluate(() => navigator.clipboard.readText()), code);
  await checkPage(owner, "consent-code");
  await owner.getByRole("link", { name: "Done" }).click();
  assert.ok(!(await owner.content()).includes(code), "the code is not shown again");
  assert.match(await owner.locator("table.list").textContent(), /northwind\.onatrium\.local[\s\S]*Waiting/);
  // The owner cannot consent for the directory.
  await owner.getByRole("link", { name: "Directory consent" }).click();
  await owner.getByLabel("Consent code").fill(code);
  await owner.getByRole("button", { name: "Review" }).click();
  assert.match(await owner.getByRole("alert").textContent(), /Sign in with the credentials of northwind/);
});

test("step 2: the directory's global admin enters the code, reviews, and selects Continue (no JavaScript)", async () => {
  const page = await (await context(browser, { javaScriptEnabled: false })).newPage();
  await signIn(page, NORTHWIND, "admin", ADMIN_PASSWORD);
  await page.waitForURL(/\/accounts$/);
  await page.getByRole("link", { name: "Directory consent" }).click();
  assert.equal(await heading(page), "Directory consent");
  await checkPage(page, "consent-form");
  await page.getByLabel("Consent code").fill("atrd_not-a-code");
  await page.getByRole("button", { name: "Review" }).click();
  assert.ok(await page.locator("#code-error").isVisible(), "an unknown code is reported next to the field");
  await shot(page, "consent-form-error");
  // Cancel leaves everything as it was.
  await page.getByLabel("Consent code").fill(code);
  await page.getByRole("button", { name: "Review" }).click();
  await page.getByRole("dialog").waitFor();
  await page.getByRole("link", { name: "Cancel" }).click();
  await page.waitForURL(/\/directory-consent$/);
  await page.getByLabel("Consent code").fill(code);
  await page.getByRole("button", { name: "Review" }).click();
  const dialog = page.getByRole("dialog", { name: `Use ${NORTHWIND} with a subscription?` });
  await dialog.waitFor();
  assert.equal(await page.locator("#review-subscription").textContent(), "Pay-As-You-Go");
  assert.ok((await page.locator("#review-owner").textContent()).trim().length > 0, "who asks is shown");
  assert.match(await page.locator("#review-directory").textContent(), /Northwind Traders \(northwind\.onatrium\.local\)/);
  await checkPage(page, "consent-review");
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("heading", { name: `${NORTHWIND} can be used with Pay-As-You-Go` }).waitFor();
  await checkPage(page, "consent-done");
  await page.getByRole("button", { name: "Sign out now" }).click();
  await page.waitForURL(/\/sign-in$/);
  await page.context().close();
});

test("step 3: Change the associated directory, with its confirm page", async () => {
  await owner.goto(subUrl);
  assert.match(await owner.locator("table.list").textContent(), /northwind\.onatrium\.local[\s\S]*Ready/);
  await owner.getByRole("link", { name: "Change the associated directory" }).click();
  await checkPage(owner, "change-directory");
  await owner.getByLabel("Directory", { exact: true }).selectOption({ label: `${NORTHWIND} – consented` });
  await owner.getByRole("button", { name: "Next" }).click();
  await owner.getByRole("heading", { name: "Confirm directory mapping" }).waitFor();
  assert.equal(await owner.locator("#confirm-from").textContent(), "personal.onatrium.local");
  assert.equal(await owner.locator("#confirm-to").textContent(), NORTHWIND);
  assert.match(await owner.locator("#confirm-losing").textContent(), /None/);
  await checkPage(owner, "change-directory-confirm");
  await owner.getByRole("button", { name: "Confirm" }).click();
  await owner.waitForURL(/\/subscriptions\/[0-9a-f-]+\?done=directory$/);
  assert.match(await owner.locator("#sub-directory").textContent(), /northwind\.onatrium\.local/);
  assert.match(await owner.getByRole("status").textContent(), /now trusts northwind/);
  await checkPage(owner, "subscription-mapped");
  await owner.goto(BASE + "/subscriptions");
  assert.match(await owner.locator("table.list").textContent(), /Pay-As-You-Go[\s\S]*northwind\.onatrium\.local/);
});

test("step 4: Administrators: a user of another directory is refused next to the field; the directory's admin is added; remove asks first", async () => {
  await owner.goto(subUrl);
  await owner.getByRole("navigation", { name: "Subscription" }).getByRole("link", { name: "Administrators" }).click();
  assert.match(await owner.locator(".empty").textContent(), /No co-administrators/);
  await checkPage(owner, "administrators-empty");
  await owner.getByLabel("Email address").fill(`admin@${TAILSPIN}`);
  await owner.getByRole("button", { name: "Add co-administrator" }).click();
  assert.match(await owner.locator("#email-error").textContent(), /must be a user of the subscription's directory/);
  assert.equal(await owner.getByLabel("Email address").inputValue(), `admin@${TAILSPIN}`, "the form keeps what was typed");
  await shot(owner, "administrators-error");
  await owner.getByLabel("Email address").fill(`admin@${NORTHWIND}`);
  await owner.getByRole("button", { name: "Add co-administrator" }).click();
  await owner.waitForURL(/\/administrators$/);
  assert.match(await owner.locator("table.list").textContent(), /Northwind Admin[\s\S]*admin@northwind\.onatrium\.local/);
  await checkPage(owner, "administrators");
  // Remove, behind a confirmation; then add again.
  await owner.getByRole("link", { name: "Remove Northwind Admin" }).click();
  assert.match(await owner.locator("#remove-what").textContent(), /stops being a co-administrator/);
  await checkPage(owner, "administrator-remove");
  await owner.getByRole("button", { name: "Remove" }).click();
  await owner.waitForURL(/\/administrators$/);
  assert.equal(await owner.locator("table.list").count(), 0);
  await owner.getByLabel("Email address").fill(`admin@${NORTHWIND}`);
  await owner.getByRole("button", { name: "Add co-administrator" }).click();
  await owner.waitForURL(/\/administrators$/);
  assert.equal(await owner.locator("table.list tbody tr").count(), 1);
});

test("step 3 again: the confirm page names the co-administrators who would lose access", async () => {
  const tailspinCode = await requestCode(TAILSPIN);
  const page = await (await context(browser)).newPage();
  await signIn(page, TAILSPIN, "admin", ADMIN_PASSWORD);
  await page.waitForURL(/\/accounts$/);
  await page.goto(BASE + "/directory-consent");
  await page.getByLabel("Consent code").fill(tailspinCode);
  await page.getByRole("button", { name: "Review" }).click();
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("heading", { name: `${TAILSPIN} can be used with Pay-As-You-Go` }).waitFor();
  await page.context().close();
  await owner.goto(subUrl + "/directory");
  await owner.getByLabel("Directory", { exact: true }).selectOption({ label: `${TAILSPIN} – consented` });
  await owner.getByRole("button", { name: "Next" }).click();
  assert.equal(await owner.locator("#confirm-to").textContent(), TAILSPIN);
  assert.match(await owner.locator("#confirm-losing").textContent(), /Northwind Admin \(admin@northwind\.onatrium\.local\)/);
  await checkPage(owner, "change-directory-confirm-losing");
  await owner.getByRole("link", { name: "Cancel" }).click();
  await owner.goto(subUrl);
  assert.match(await owner.locator("#sub-directory").textContent(), /northwind/, "Cancel changes nothing");
});

test("step 5: Web storefront deployment lists the subscription for the owner and the co-administrator", async () => {
  await owner.goto(accountUrl + "/users");
  await owner.getByRole("link", { name: "Web storefront deployment" }).click();
  await owner.waitForURL(/\/deployment$/);
  assert.equal(await heading(owner), "Web storefront deployment");
  const select = owner.getByLabel("Subscription", { exact: true });
  const options = await select.locator("option").allTextContents();
  assert.deepEqual(options, [`Pay-As-You-Go (${NORTHWIND})`], "the owner's mapped subscription, not Dev/Test");
  await owner.getByRole("button", { name: "Select" }).click();
  assert.match(await owner.locator("#chosen").textContent(), /Northwind Traders[\s\S]*Owner/);
  await checkPage(owner, "deployment-owner");

  // The co-administrator (the Partner Center administrator) needs access to the account: as the
  // first global admin of a tenant created from it, they are a Manager already (seed 000).
  await owner.goto(accountUrl + "/users");
  assert.match(await owner.locator("table.list").textContent(), /Northwind Admin[\s\S]*Manager/);

  await signIn(admin, NORTHWIND, "admin", ADMIN_PASSWORD);
  await admin.waitForURL(/\/accounts$/);
  await admin.getByRole("link", { name: "Subscriptions" }).click();
  assert.match(await admin.locator("table.list").textContent(), /Pay-As-You-Go[\s\S]*Co-administrator/);
  await checkPage(admin, "subscriptions-coadmin");
  await admin.getByRole("link", { name: "Pay-As-You-Go" }).click();
  assert.match(await admin.locator("main").textContent(), /only the owner can change/);
  assert.equal(await admin.getByRole("link", { name: "Use existing directory" }).count(), 0);
  await admin.goto(BASE + "/accounts");
  await admin.getByRole("link", { name: "Northwind Traders" }).click();
  await admin.waitForURL(/\/users$/);
  await admin.getByRole("link", { name: "Web storefront deployment" }).click();
  await admin.waitForURL(/\/deployment$/);
  assert.deepEqual(await admin.getByLabel("Subscription", { exact: true }).locator("option").allTextContents(), [`Pay-As-You-Go (${NORTHWIND})`]);
  await checkPage(admin, "deployment-coadmin");
});

test("a disabled subscription disappears from the drop-down; enabled, it is back", async () => {
  await owner.goto(subUrl);
  await owner.getByRole("link", { name: "Disable subscription" }).click();
  assert.match(await owner.locator("#state-what").textContent(), /leaves the Subscription drop-down/);
  await checkPage(owner, "subscription-disable");
  await owner.getByRole("button", { name: "Disable" }).click();
  await owner.waitForURL(/\?done=disabled$/);
  assert.match(await owner.locator("#sub-state").textContent(), /Disabled/);
  await checkPage(owner, "subscription-disabled");

  await admin.reload();
  assert.match(await admin.locator("#no-subscriptions").textContent(), /directory is associated with this account[\s\S]*owner or co-administrator/);
  assert.ok(await admin.getByLabel("Subscription", { exact: true }).isDisabled());
  await checkPage(admin, "deployment-empty");
  await owner.goto(accountUrl + "/deployment");
  assert.ok(await owner.locator("#no-subscriptions").isVisible(), "the owner's view is empty too");

  await owner.goto(subUrl);
  await owner.getByRole("link", { name: "Enable subscription" }).click();
  await checkPage(owner, "subscription-enable");
  await owner.getByRole("button", { name: "Enable" }).click();
  await owner.waitForURL(/\?done=enabled$/);
  await admin.reload();
  assert.deepEqual(await admin.getByLabel("Subscription", { exact: true }).locator("option").allTextContents(), [`Pay-As-You-Go (${NORTHWIND})`]);
});
