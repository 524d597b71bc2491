// Seed 002's edits walked as a person would, in real Chromium: "Add existing users" after
// switching the Tenant drop-down (with htmx and without JavaScript), editing a user (first and
// last name, username, groups), a group (name, members) and an application (Reply URL, App ID
// URI), and "Delete from organization" behind its confirmation. Uses the owner password that
// 1-seeds.test.js sets (like 2-access); everything else it makes.
import { test, before, after } from "node:test";
import { BASE, OWNER, OWNER_PASSWORD, ADMIN_PASSWORD, PERSONAL, launch, context, shot, signIn, heading, assert, shotsFor } from "./lib.js";

shotsFor("5-edits");

const LITWARE = "litware.onatrium.local";
const ADATUM = "adatum.onatrium.local";

let browser, owner, admin, accountUrl;

before(async () => {
  browser = await launch();
  owner = await (await context(browser)).newPage();
  admin = await (await context(browser)).newPage();
});
after(async () => { await browser?.close(); });

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

/** Creates a user in the admin's tenant through "Create new users", with the Developer role. */
async function createUser(page, given, surname, alias) {
  await page.goto(accountUrl + "/users/new");
  await page.getByLabel("First name").fill(given);
  await page.getByLabel("Last name").fill(surname);
  await page.getByLabel("Username").fill(alias);
  await page.getByRole("checkbox", { name: "Developer" }).check();
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("heading", { name: "The user was created" }).waitFor();
}

/** A user in a tenant's directory only (not in the account), made by its admin through the REST API. */
async function directoryUser(domain, alias, given, surname) {
  const api = (await context(browser)).request;
  const signedIn = await api.post(BASE + "/api/v1/sign-in", { data: { tenant: domain, username: "admin", password: ADMIN_PASSWORD } });
  assert.equal(signedIn.status(), 200, await signedIn.text());
  const { token, tenant } = await signedIn.json();
  const created = await api.post(`${BASE}/api/v1/tenants/${tenant.id}/users`, {
    headers: { Authorization: `Bearer ${token}` },
    data: { userPrincipalName: alias, givenName: given, surname, password: ADMIN_PASSWORD },
  });
  assert.equal(created.status(), 201, await created.text());
}

test("setup: tenant create shows every field's error at once, then two tenants and their admin as Manager", async () => {
  await signIn(owner, PERSONAL, OWNER, OWNER_PASSWORD);
  await owner.waitForURL(/\/accounts$/);
  await owner.getByLabel("Account name").fill("Litware Labs");
  await owner.getByRole("button", { name: "Open account" }).click();
  await owner.waitForURL(/\/tenants$/);
  accountUrl = owner.url().replace(/\/tenants$/, "");
  // Several mistakes: each field says what is wrong with it, all at once.
  await owner.getByRole("link", { name: "Create Microsoft Entra ID" }).click();
  await owner.getByLabel("Domain name").fill("not valid");
  await owner.getByLabel("Contact email").fill("nobody");
  await owner.getByLabel("Last name").fill("Admin");
  await owner.getByLabel("Username").fill("admin");
  await owner.getByLabel("Password").fill("weak");
  await owner.getByRole("button", { name: "Create" }).click();
  for (const id of ["domainPrefix", "contactEmail", "globalAdmin.givenName", "globalAdmin.password"]) {
    assert.ok(await owner.locator(`[id="${id}-error"]`).isVisible(), `${id} shows its error`);
  }
  await shot(owner, "tenant-create-all-errors");
  await owner.goto(accountUrl + "/tenants");
  await createTenant(owner, "litware", "Litware Inc");
  await createTenant(owner, "adatum", "Adatum Corp");
  assert.equal(await owner.locator("table.list tbody tr").count(), 2);
  // A new tenant's admin is a Manager already; these two are in the directories only.
  await directoryUser(ADATUM, "ada.byron", "Ada", "Byron");
  await directoryUser(LITWARE, "lita.ford", "Lita", "Ford");
});

test("Add existing users: switching the Tenant drop-down (htmx) adds from the tenant chosen", async () => {
  await owner.goto(accountUrl + "/users/add");
  await owner.getByLabel("Tenant").selectOption({ label: LITWARE });
  await owner.locator("#picker legend", { hasText: LITWARE }).waitFor();
  await owner.getByLabel("Tenant").selectOption({ label: ADATUM });
  // The choices follow the drop-down without a page load…
  await owner.locator("#picker legend", { hasText: ADATUM }).waitFor();
  // Search as you type; tick once its results are in (a later swap would replace the boxes).
  const searched = owner.waitForResponse((r) => r.url().includes("search=ada"));
  await owner.getByLabel("Search").pressSequentially("ada", { delay: 50 });
  await searched;
  await owner.waitForFunction(() => !document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling"));
  assert.ok(await owner.getByRole("checkbox", { name: /Adatum Admin/ }).isDisabled(), "the tenant's admin is already a Manager");
  await owner.getByRole("checkbox", { name: /Ada Byron/ }).check();
  await owner.getByRole("checkbox", { name: "Manager" }).check();
  await shot(owner, "add-users-switched-tenant");
  // …and so does what Save sends: the user is added from Wingtip, not from the first tenant.
  await owner.getByRole("button", { name: "Save" }).click();
  await owner.waitForURL(/\/users$/);
  const row = owner.locator("tr", { hasText: "Ada Byron" });
  assert.match(await row.textContent(), new RegExp(`${ADATUM.replace(/\./g, "\\.")}[\\s\\S]*Manager`));
});

test("Add existing users without JavaScript: the tenant chosen with Search is the one saved", async () => {
  const page = await (await context(browser, { javaScriptEnabled: false })).newPage();
  await signIn(page, PERSONAL, OWNER, OWNER_PASSWORD);
  await page.waitForURL(/\/accounts$/);
  await page.goto(accountUrl + "/users/add");
  await page.getByLabel("Tenant").selectOption({ label: LITWARE });
  await page.getByLabel("Search").fill("lit");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("checkbox", { name: /Lita Ford/ }).check();
  await page.getByRole("checkbox", { name: "Manager" }).check();
  await page.getByRole("button", { name: "Save" }).click();
  await page.waitForURL(/\/users$/);
  assert.match(await page.locator("tr", { hasText: "Lita Ford" }).textContent(), /litware\.onatrium\.local[\s\S]*Manager/);
  await shot(page, "add-users-nojs");
  await page.context().close();
});

test("the owner is not offered directory edits; a Developer member is not offered Edit access", async () => {
  await owner.goto(accountUrl + "/users");
  await owner.getByRole("link", { name: "Litware Admin" }).click();
  assert.equal(await owner.getByRole("link", { name: "Edit details" }).count(), 0, "the owner is no global admin of the tenant");
  assert.equal(await owner.getByRole("link", { name: "Delete from organization" }).count(), 0);
  assert.match(await owner.locator(".note").last().textContent(), /global administrator signed in through litware/);
  await shot(owner, "member-owner-view");
});

test("seed 002: edit a user's first and last name, username and groups", async () => {
  await signIn(admin, LITWARE, "admin", ADMIN_PASSWORD);
  await admin.waitForURL(/\/accounts$/);
  await admin.getByRole("link", { name: "Litware Labs" }).click();
  await admin.waitForURL(/\/users$/);
  await createUser(admin, "Megan", "Bowen", "megan");
  for (const name of ["Marketing", "Sales"]) {
    await admin.goto(accountUrl + "/groups/new");
    await admin.getByLabel("Group name").fill(name);
    await admin.getByRole("checkbox", { name: "Developer" }).check();
    await admin.getByRole("button", { name: "Save" }).click();
    assert.equal(await heading(admin), name);
  }
  await admin.goto(accountUrl + "/users");
  await admin.getByRole("link", { name: "Megan Bowen" }).click();
  await admin.getByRole("link", { name: "Edit details" }).click();
  assert.equal(await heading(admin), "Edit Megan Bowen");
  await shot(admin, "user-edit");
  // A bad username is reported next to the field, with what was typed kept.
  await admin.getByLabel("Last name").fill("Bowen-Smith");
  await admin.getByLabel("Username").fill("megan smith");
  await admin.getByRole("button", { name: "Save" }).click();
  assert.ok(await admin.locator("#userPrincipalName-error").isVisible());
  assert.equal(await admin.getByLabel("Last name").inputValue(), "Bowen-Smith");
  await shot(admin, "user-edit-error");
  await admin.getByLabel("First name").fill("Meg");
  await admin.getByLabel("Username").fill("meg");
  await admin.getByRole("checkbox", { name: "Marketing" }).check();
  await admin.getByRole("checkbox", { name: "Sales" }).check();
  await admin.getByRole("button", { name: "Save" }).click();
  assert.equal(await heading(admin), "Meg Bowen-Smith");
  const facts = await admin.locator("dl.facts").textContent();
  assert.match(facts, /meg@litware\.onatrium\.local/);
  assert.match(facts, /Marketing, Sales/);
  await shot(admin, "user-edited");
  // Unticking a group takes the user out of it.
  await admin.getByRole("link", { name: "Edit details" }).click();
  await admin.getByRole("checkbox", { name: "Sales" }).uncheck();
  await admin.getByRole("button", { name: "Save" }).click();
  assert.doesNotMatch(await admin.locator("dl.facts").textContent(), /Sales/);
});

test("seed 002: edit a group's name and members", async () => {
  await admin.goto(accountUrl + "/groups");
  await admin.getByRole("link", { name: "Sales" }).click();
  await admin.getByRole("link", { name: "Edit details" }).click();
  await admin.getByLabel("Group name").fill("Marketing");
  await admin.getByRole("button", { name: "Save" }).click();
  assert.match(await admin.locator("#displayName-error").textContent(), /already named/);
  await shot(admin, "group-edit-error");
  await admin.getByLabel("Group name").fill("Field Sales");
  await admin.getByRole("checkbox", { name: /Meg Bowen-Smith/ }).check();
  await admin.getByRole("checkbox", { name: /Litware Admin/ }).check();
  await shot(admin, "group-edit");
  await admin.getByRole("button", { name: "Save" }).click();
  assert.equal(await heading(admin), "Field Sales");
  const members = await admin.locator("table.list").textContent();
  assert.match(members, /meg@litware/);
  assert.match(members, /admin@litware/);
  await shot(admin, "group-edited");
});

test("seed 002: edit an application's Reply URL and App ID URI", async () => {
  await admin.goto(accountUrl + "/applications/new");
  await admin.getByLabel("Name", { exact: true }).fill("Litware Portal");
  await admin.getByLabel("Reply URL").fill("https://portal.litware.com/signin");
  await admin.getByRole("checkbox", { name: "Developer" }).check();
  await admin.getByRole("button", { name: "Save" }).click();
  await admin.goto(accountUrl + "/applications/new");
  await admin.getByLabel("Name", { exact: true }).fill("Litware Reports");
  await admin.getByLabel("Reply URL").fill("https://reports.litware.com/signin");
  await admin.getByRole("checkbox", { name: "Developer" }).check();
  await admin.getByRole("button", { name: "Save" }).click();
  assert.equal(await heading(admin), "Litware Reports");
  await admin.getByRole("link", { name: "Edit details" }).click();
  // A Reply URL another application uses is refused next to the field.
  await admin.getByLabel("Reply URL").fill("https://portal.litware.com/signin");
  await admin.getByRole("button", { name: "Save" }).click();
  assert.ok(await admin.locator("#replyUrls-error").isVisible());
  await shot(admin, "app-edit-error");
  await admin.getByLabel("Reply URL").fill("https://reports.litware.com/callback");
  await admin.getByLabel("App ID URI").fill("api://litware-reports");
  await admin.getByRole("button", { name: "Save" }).click();
  assert.equal(await heading(admin), "Litware Reports");
  const facts = await admin.locator("dl.facts").textContent();
  assert.match(facts, /https:\/\/reports\.litware\.com\/callback/);
  assert.match(facts, /api:\/\/litware-reports/);
  await shot(admin, "app-edited");
});

test("seed 002: delete a user from the organization, behind a confirmation", async () => {
  await createUser(admin, "Lee", "Gu", "lee");
  await admin.getByRole("link", { name: "Done" }).click();
  assert.equal(await heading(admin), "Lee Gu");
  await admin.getByRole("link", { name: "Delete from organization" }).click();
  assert.equal(await admin.getByRole("alertdialog").count(), 1);
  assert.match(await admin.locator("#delete-what").textContent(), /deleted from the directory of litware\.onatrium\.local/);
  await shot(admin, "user-delete-confirm");
  // Cancel keeps the user.
  await admin.getByRole("link", { name: "Cancel" }).click();
  assert.equal(await heading(admin), "Lee Gu");
  await admin.getByRole("link", { name: "Delete from organization" }).click();
  await admin.getByRole("button", { name: "Delete from organization" }).click();
  await admin.waitForURL(/\/users$/);
  assert.doesNotMatch(await admin.locator("table.list").textContent(), /Lee Gu/);
  // Gone from the directory too: no longer there to be added.
  await admin.getByRole("link", { name: "Add existing users" }).click();
  await admin.getByLabel("Search").fill("lee");
  await admin.getByRole("button", { name: "Search" }).click();
  await admin.getByText("Nothing starts with “lee”").waitFor();
  await shot(admin, "user-deleted");
  // The admin cannot delete themselves: the button is not offered.
  await admin.goto(accountUrl + "/users");
  await admin.getByRole("link", { name: "Litware Admin" }).click();
  assert.equal(await admin.getByRole("link", { name: "Delete from organization" }).count(), 0);
});
