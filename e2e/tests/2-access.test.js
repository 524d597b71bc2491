// Accessibility (labels, keyboard, visible focus), forms without JavaScript, and a
// directory-sync tenant. Runs after 1-seeds.test.js (the owner's password is changed there).
import { test, before, after } from "node:test";
import { BASE, OWNER, OWNER_PASSWORD, ADMIN_PASSWORD, PERSONAL, launch, context, shot, signIn, heading, assert, shotsFor } from "./lib.js";

shotsFor("2-access");

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** Inputs without an accessible name on the current page. */
async function unlabelled(page) {
  return page.evaluate(() => [...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
    .filter((el) => !(el.labels?.length || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby")))
    .map((el) => el.outerHTML));
}

test("core forms work without JavaScript", async () => {
  const page = await (await context(browser, { javaScriptEnabled: false })).newPage();
  await signIn(page, PERSONAL, OWNER, OWNER_PASSWORD);
  await page.waitForURL(/\/accounts$/);
  await page.getByLabel("Account name").fill("Sync Co");
  await page.getByRole("button", { name: "Open account" }).click();
  await page.waitForURL(/\/tenants$/);
  await page.getByRole("link", { name: "Create Microsoft Entra ID" }).click();
  await page.getByLabel("Domain name").fill("syncco");
  await page.getByLabel("Organization name").fill("Sync Co");
  await page.getByLabel(/Synchronized from an on-premises directory/).check();
  await page.getByLabel("First name").fill("Sam");
  await page.getByLabel("Last name").fill("Sync");
  await page.getByLabel("Username").fill("admin");
  await page.getByLabel("Password").fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "Create" }).click();
  await page.waitForURL(/\/tenants$/);
  assert.match(await page.locator("table.list").textContent(), /Directory sync/);
  // The permission editor without JavaScript: <details> still opens, radios still post. Sam, the
  // new tenant's first global admin, is a Manager already (seed 000); Edit access adds a permission.
  const users = page.url().replace(/\/tenants$/, "/users");
  await page.goto(users);
  await page.getByRole("link", { name: "Sam Sync" }).click();
  await page.getByRole("link", { name: "Edit access" }).click();
  assert.ok(await page.getByRole("checkbox", { name: "Manager" }).isChecked());
  await page.getByText("Customize permissions", { exact: true }).click();
  await page.getByRole("radio", { name: "Account settings: Read only" }).check();
  await page.getByRole("button", { name: "Save" }).click();
  await page.waitForURL(/\/members\/user\/[0-9a-f-]+$/);
  await page.goto(users);
  assert.match(await page.locator("table.list").textContent(), /Sam Sync[\s\S]*Manager, Custom permissions \(1\)/);
  await shot(page, "nojs-users");
  await page.context().close();
});

test("a directory-sync tenant: the create buttons are disabled, with the reason", async () => {
  const page = await (await context(browser)).newPage();
  await signIn(page, "syncco.onatrium.local", "admin", ADMIN_PASSWORD);
  await page.getByRole("link", { name: "Sync Co" }).click();
  await page.waitForURL(/\/users$/);
  assert.ok(await page.getByRole("button", { name: "Create new users" }).isDisabled());
  assert.match(await page.locator("#create-why").textContent(), /synchronized from an on-premises directory/);
  await shot(page, "directory-sync-users");
  for (const [tab, button] of [["Groups", "New group"], ["Microsoft Entra applications", "New Microsoft Entra application"]]) {
    await page.getByRole("link", { name: tab, exact: true }).click();
    assert.ok(await page.getByRole("button", { name: button }).isDisabled(), `${button} is disabled`);
  }
  await page.context().close();
});

test("directory sync (SCIM): a token from the console feeds the tenant, and the provisioned user can be added to the account", async () => {
  const page = await (await context(browser)).newPage();
  await signIn(page, "syncco.onatrium.local", "admin", ADMIN_PASSWORD);
  await page.getByRole("link", { name: "Sync Co" }).click();
  await page.waitForURL(/\/users$/);
  const account = page.url().replace(/\/users$/, "");
  await page.goto(account + "/tenants");
  await page.getByRole("link", { name: "Directory sync (SCIM) of syncco.onatrium.local" }).click();
  assert.equal(await heading(page), "Directory sync (SCIM)");
  assert.deepEqual(await unlabelled(page), []);
  await page.getByLabel("Name").fill("Entra provisioning");
  await page.getByRole("button", { name: "Create token" }).click();
  const token = (await page.locator("#new-token-value").textContent()).trim();
  const scimUrl = (await page.locator("#scim-url").textContent()).trim();
  assert.match(token, /^atscim_/);
  assert.equal(scimUrl, BASE + "/scim/v2");
  assert.match(await page.locator("table.list").textContent(), /Entra provisioning[\s\S]*Active/);
  await shot(page, "scim-token-created");

  // The source directory provisions a person with the token, as Entra's provisioning service does.
  const api = page.context().request;
  const auth = { Authorization: `Bearer ${token}`, "Content-Type": "application/scim+json" };
  const created = await api.post(scimUrl + "/Users", { headers: auth, data: {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], externalId: "e-1042", userName: "pat.provisioned@syncco.example",
    active: true, displayName: "Pat Provisioned", name: { givenName: "Pat", familyName: "Provisioned" },
    emails: [{ primary: true, type: "work", value: "pat.provisioned@syncco.example" }] } });
  assert.equal(created.status(), 201, await created.text());

  // Partner Center access follows: the provisioned person is there to be added to the account.
  await page.goto(account + "/users/add");
  await page.getByRole("checkbox", { name: /Pat Provisioned/ }).check();
  await page.getByRole("checkbox", { name: "Developer" }).check();
  await page.getByRole("button", { name: "Save" }).click();
  await page.waitForURL(/\/users$/);
  assert.match(await page.locator("table.list").textContent(), /Pat Provisioned[\s\S]*Developer/);
  await shot(page, "scim-user-added-to-account");

  // Revoking (after a confirmation page) refuses the source from its next request.
  await page.goto(account + "/tenants");
  await page.getByRole("link", { name: "Directory sync (SCIM) of syncco.onatrium.local" }).click();
  await page.getByRole("link", { name: "Revoke Entra provisioning" }).click();
  assert.equal(await page.getByRole("alertdialog").count(), 1);
  await shot(page, "scim-token-revoke-confirm");
  await page.getByRole("button", { name: "Revoke", exact: true }).click();
  await page.getByText("This tenant has no provisioning token.").waitFor();
  const refused = await api.get(scimUrl + "/Users", { headers: auth });
  assert.equal(refused.status(), 401);
  await page.context().close();
});

test("every input is labelled", async () => {
  const page = await (await context(browser)).newPage();
  await page.goto(BASE + "/sign-in");
  assert.deepEqual(await unlabelled(page), []);
  await signIn(page, PERSONAL, OWNER, OWNER_PASSWORD);
  await page.getByRole("link", { name: "Sync Co" }).click();
  const account = page.url().replace(/\/users$/, "");
  for (const path of ["/users", "/users/add", "/users/invite", "/groups/add", "/applications/add", "/tenants", "/tenants/new", "/tenants/associate", "/products", "/audit"]) {
    await page.goto(account + path);
    assert.deepEqual(await unlabelled(page), [], `${path} has unlabelled inputs`);
  }
  await page.goto(BASE + "/accounts");
  assert.deepEqual(await unlabelled(page), []);
  await page.context().close();
});

test("keyboard navigation with visible focus", async () => {
  const page = await (await context(browser)).newPage();
  await page.goto(BASE + "/sign-in");
  // The whole sign-in form by keyboard: Tab between fields, Enter submits.
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.id), "tenant");
  await page.keyboard.press("Control+A");
  await page.keyboard.type(PERSONAL);
  await page.keyboard.press("Tab");
  await page.keyboard.type(OWNER);
  await page.keyboard.press("Tab");
  await page.keyboard.type(OWNER_PASSWORD);
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/accounts$/);
  // The first Tab reaches the skip link, which becomes visible and moves focus to the content.
  await page.keyboard.press("Tab");
  const skip = await page.evaluate(() => ({ text: document.activeElement.textContent, left: document.activeElement.getBoundingClientRect().left }));
  assert.equal(skip.text, "Skip to content");
  assert.ok(skip.left >= 0, "the skip link is on screen when focused");
  await shot(page, "focus-skip-link");
  // Every focused control shows an outline.
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press("Tab");
    const focus = await page.evaluate(() => {
      const s = getComputedStyle(document.activeElement);
      return { tag: document.activeElement.tagName, outline: s.outlineStyle, width: parseFloat(s.outlineWidth) };
    });
    assert.ok(focus.outline !== "none" && focus.width >= 2, `focused ${focus.tag} has a visible outline (${focus.outline} ${focus.width}px)`);
  }
  await page.getByRole("link", { name: "Sync Co" }).focus();
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/users$/);
  await page.getByRole("link", { name: "Groups", exact: true }).focus();
  await shot(page, "focus-tab");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/groups$/);
  assert.equal(await heading(page), "User management");
  await page.context().close();
});

test("htmx enhances the picker: search as you type", async () => {
  const page = await (await context(browser)).newPage();
  await signIn(page, PERSONAL, OWNER, OWNER_PASSWORD);
  await page.getByRole("link", { name: "Sync Co" }).click();
  await page.goto(page.url().replace(/\/users$/, "/users/add"));
  const url = page.url();
  await page.getByLabel("Search").pressSequentially("zz", { delay: 50 });
  await page.getByText("Nothing starts with “zz”").waitFor();
  await page.getByLabel("Search").fill("");
  await page.getByLabel("Search").pressSequentially("sa", { delay: 50 });
  await page.getByRole("checkbox", { name: /Sam Sync/ }).waitFor();
  assert.equal(page.url(), url, "no full page load");
  await shot(page, "search-as-you-type");
  await page.context().close();
});
