// Seed 000 (tenants) and seed 002 (users, groups, applications) walked as a person would, in
// real Chromium. The steps run in order and share the server's state.
import { test, before, after } from "node:test";
import { BASE, OWNER, OWNER_ONE_TIME_PASSWORD, OWNER_PASSWORD, ADMIN_PASSWORD, PERSONAL, launch, context, shot, signIn, signOut, heading, assert, shotsFor } from "./lib.js";

shotsFor("1-seeds");

let browser, owner, admin, accountUrl;

before(async () => {
  browser = await launch();
  owner = await (await context(browser)).newPage();
  admin = await (await context(browser)).newPage();
});
after(async () => { await browser?.close(); });

test("seed 000: the owner signs in with the one-time password and must change it", async () => {
  await owner.goto(BASE + "/");
  await owner.waitForURL(/\/sign-in$/);
  await shot(owner, "sign-in");
  await signIn(owner, PERSONAL, OWNER, "wrong password");
  assert.match(await owner.getByRole("alert").textContent(), /user name or password/i);
  await shot(owner, "sign-in-error");
  await signIn(owner, PERSONAL, OWNER, OWNER_ONE_TIME_PASSWORD);
  await owner.waitForURL(/\/password$/);
  assert.equal(await heading(owner), "Change your password");
  // Any other page sends a temporary-password session back here.
  await owner.goto(BASE + "/accounts");
  await owner.waitForURL(/\/password$/);
  await owner.getByLabel("Current password").fill(OWNER_ONE_TIME_PASSWORD);
  await owner.getByLabel("New password", { exact: true }).fill("weak");
  await owner.getByLabel("Confirm the new password").fill("weak");
  await owner.getByRole("button", { name: "Change password" }).click();
  assert.match(await owner.locator("#new-error").textContent(), /complexity/);
  await shot(owner, "password-weak");
  await owner.getByLabel("Current password").fill(OWNER_ONE_TIME_PASSWORD);
  await owner.getByLabel("New password", { exact: true }).fill(OWNER_PASSWORD);
  await owner.getByLabel("Confirm the new password").fill(OWNER_PASSWORD);
  await owner.getByRole("button", { name: "Change password" }).click();
  await owner.waitForURL(/\/accounts$/);
});

test("seed 000: open an account; until a tenant is associated it has only its owner", async () => {
  assert.match(await owner.locator(".empty").textContent(), /no accounts yet/);
  await shot(owner, "accounts-empty");
  await owner.getByRole("button", { name: "Open account" }).click();
  assert.ok(await owner.locator("#name-error").isVisible(), "a missing name is reported next to the field");
  await owner.getByLabel("Account name").fill("Contoso Games");
  await owner.getByRole("button", { name: "Open account" }).click();
  await owner.waitForURL(/\/accounts\/[0-9a-f-]+\/tenants$/);
  accountUrl = owner.url().replace(/\/tenants$/, "");
  assert.match(await owner.locator(".empty").textContent(), /No tenant is associated yet/);
  await shot(owner, "tenants-empty");
  await owner.goto(accountUrl + "/users");
  assert.match(await owner.locator(".empty").textContent(), /No tenant is associated/);
});

test("seed 000 and 001: create a new tenant (errors next to fields), then associate an existing one", async () => {
  await owner.goto(accountUrl + "/tenants");
  await owner.getByRole("link", { name: "Create Microsoft Entra ID" }).click();
  await owner.getByLabel("Domain name").fill("no good");
  await owner.getByLabel("Contact email").fill("ops@contoso.com");
  await owner.getByLabel("First name").fill("Ada");
  await owner.getByLabel("Last name").fill("Admin");
  await owner.getByLabel("Username").fill("admin");
  await owner.getByLabel("Password").fill(ADMIN_PASSWORD);
  await owner.getByRole("button", { name: "Create" }).click();
  assert.match(await owner.locator("#domainPrefix-error").textContent(), /domain prefix/i);
  assert.equal(await owner.getByLabel("Contact email").inputValue(), "ops@contoso.com", "the form keeps what was typed");
  await shot(owner, "tenant-create-error");
  await owner.getByLabel("Domain name").fill("contoso");
  await owner.getByLabel("Organization name").fill("Contoso");
  await owner.getByLabel("Password").fill(ADMIN_PASSWORD);
  await owner.getByRole("button", { name: "Create" }).click();
  await owner.waitForURL(/\/tenants$/);
  assert.match(await owner.locator("table.list").textContent(), /contoso\.onatrium\.local/);

  // A second account with its own tenant, which Contoso Games then associates.
  await owner.goto(BASE + "/accounts");
  await owner.getByLabel("Account name").fill("Fabrikam Apps");
  await owner.getByRole("button", { name: "Open account" }).click();
  await owner.getByRole("link", { name: "Create Microsoft Entra ID" }).click();
  await owner.getByLabel("Domain name").fill("fabrikam");
  await owner.getByLabel("Organization name").fill("Fabrikam");
  await owner.getByLabel("First name").fill("Fay");
  await owner.getByLabel("Last name").fill("Admin");
  await owner.getByLabel("Username").fill("admin");
  await owner.getByLabel("Password").fill(ADMIN_PASSWORD);
  await owner.getByRole("button", { name: "Create" }).click();
  await owner.waitForURL(/\/tenants$/);

  await owner.goto(accountUrl + "/tenants");
  await owner.getByRole("link", { name: "Associate another tenant" }).click();
  await owner.getByLabel("Tenant (domain or ID)").fill("fabrikam.onatrium.local");
  await owner.getByLabel("User name").fill("admin");
  await owner.getByLabel("Password").fill("not the password");
  await owner.getByRole("button", { name: "Sign in and review" }).click();
  assert.match(await owner.getByRole("alert").textContent(), /user name or password/i);
  await owner.getByLabel("Password").fill(ADMIN_PASSWORD);
  await owner.getByRole("button", { name: "Sign in and review" }).click();
  assert.equal(await owner.locator("#review-organization").textContent(), "Fabrikam");
  assert.equal(await owner.locator("#review-domain").textContent(), "fabrikam.onatrium.local");
  await shot(owner, "tenant-review");
  await owner.getByRole("button", { name: "Confirm" }).click();
  await owner.waitForURL(/\/tenants$/);
  const rows = await owner.locator("table.list tbody tr").count();
  assert.equal(rows, 2);
  await shot(owner, "tenants");
});

test("seed 000: the owner sees why create buttons are disabled; the new tenant's admin is already a Manager", async () => {
  await owner.goto(accountUrl + "/users");
  await shot(owner, "users-owner");
  assert.ok(await owner.getByRole("button", { name: "Create new users" }).isDisabled());
  assert.match(await owner.locator("#create-why").textContent(), /global administrator/);
  // Seed 000: the tenant's first global admin signs in next to add users, so is a Manager already.
  assert.match(await owner.locator("table.list").textContent(), /Ada Admin[\s\S]*Manager/);
  await owner.getByRole("link", { name: "Add existing users" }).click();
  await owner.getByLabel("Tenant").selectOption({ label: "contoso.onatrium.local" });
  await owner.getByRole("button", { name: "Search" }).click();
  await owner.getByLabel("Search").fill("ad");
  await owner.getByRole("button", { name: "Search" }).click();
  assert.ok(await owner.getByRole("checkbox", { name: /Ada Admin/ }).isDisabled(), "already added");
  // An empty grant is refused, next to the roles (Fay, of the associated tenant; not saved).
  await owner.getByLabel("Tenant").selectOption({ label: "fabrikam.onatrium.local" });
  await owner.getByLabel("Search").fill("");
  await owner.getByRole("button", { name: "Search" }).click();
  await owner.getByRole("checkbox", { name: /Fay Admin/ }).check();
  await owner.getByRole("button", { name: "Save" }).click();
  assert.match(await owner.locator("#grant-error").textContent(), /at least one role/);
  await shot(owner, "add-users-error");
});

test("seed 000: the new tenant's global admin signs in and uses the account switcher", async () => {
  await signIn(admin, "contoso.onatrium.local", "admin", ADMIN_PASSWORD);
  await admin.waitForURL(/\/accounts$/);
  await shot(admin, "accounts-admin");
  await admin.getByRole("link", { name: "Contoso Games" }).click();
  await admin.waitForURL(/\/users$/);
  assert.equal(admin.url().replace(/\/users$/, ""), accountUrl);
  assert.match(await admin.locator(".current-account").textContent(), /Contoso Games/);
});

test("seed 002: create a new user; the temporary password is shown once, with a copy button", async () => {
  await admin.goto(accountUrl + "/users");
  await admin.getByRole("link", { name: "Create new users" }).click();
  await shot(admin, "user-new");
  await admin.getByLabel("First name").fill("Adele");
  await admin.getByLabel("Last name").fill("Vance");
  await admin.getByLabel("Username").fill("adele");
  await admin.getByRole("checkbox", { name: "Developer" }).check();
  await admin.getByRole("button", { name: "Save" }).click();
  await admin.getByRole("heading", { name: "The user was created" }).waitFor();
  const password = (await admin.locator("#temporary-password").textContent()).trim();
  assert.ok(password.length >= 12, "a temporary password is shown");
  assert.equal((await admin.locator("#created-upn").textContent()).trim(), "adele@contoso.onatrium.local");
  await admin.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: BASE });
  await admin.getByRole("button", { name: "Copy" }).click();
  await admin.locator(".copied", { hasText: "Copied" }).waitFor();
  assert.equal(await admin.evaluate(() => navigator.clipboard.readText()), password);
  await shot(admin, "user-created");
  await admin.getByRole("link", { name: "Done" }).click();
  assert.equal(await heading(admin), "Adele Vance");
  assert.ok(!(await admin.content()).includes(password), "the temporary password is not shown again");
  await shot(admin, "user-detail");

  // Reset password: a new temporary password, once.
  await admin.getByRole("button", { name: "Reset password" }).click();
  await admin.getByRole("heading", { name: "The password was reset" }).waitFor();
  const reset = (await admin.locator("#temporary-password").textContent()).trim();
  assert.notEqual(reset, password);
  await admin.goBack();
  await admin.reload();
  assert.ok(!(await admin.content()).includes(reset));
});

test("seed 002: remove a user, then add existing users with search and multi-select", async () => {
  for (const [given, alias] of [["Bob", "bob"], ["Bea", "bea"]]) {
    await admin.goto(accountUrl + "/users/new");
    await admin.getByLabel("First name").fill(given);
    await admin.getByLabel("Last name").fill("Builder");
    await admin.getByLabel("Username").fill(alias);
    await admin.getByRole("checkbox", { name: "Marketer" }).check();
    await admin.getByRole("button", { name: "Save" }).click();
    await admin.getByRole("heading", { name: "The user was created" }).waitFor();
    await admin.getByRole("link", { name: "Done" }).click();
    await admin.getByRole("link", { name: "Remove" }).click();
    assert.match(await admin.locator("#remove-what").textContent(), /stays in the directory/);
    await admin.getByRole("button", { name: "Remove" }).click();
    await admin.waitForURL(/\/users$/);
  }
  await shot(admin, "member-removed");
  await admin.getByRole("link", { name: "Add existing users" }).click();
  await admin.getByLabel("Search").fill("b");
  await admin.getByRole("button", { name: "Search" }).click();
  await admin.getByRole("checkbox", { name: /Bob Builder/ }).check();
  await admin.getByRole("checkbox", { name: /Bea Builder/ }).check();
  assert.ok(!(await admin.getByRole("checkbox", { name: /Ada Admin/ }).count()), "search narrows the list");
  await admin.getByRole("checkbox", { name: "Business Contributor" }).check();
  await shot(admin, "add-users");
  await admin.getByRole("button", { name: "Save" }).click();
  await admin.waitForURL(/\/users$/);
  const table = await admin.locator("table.list").textContent();
  assert.match(table, /Bob Builder[\s\S]*Business Contributor/);
  assert.match(table, /Bea Builder[\s\S]*Business Contributor/);
  await shot(admin, "users");
});

test("seed 002: create a group with members", async () => {
  await admin.goto(accountUrl + "/groups");
  assert.match(await admin.locator(".empty").textContent(), /No groups/);
  await shot(admin, "groups-empty");
  await admin.getByRole("link", { name: "New group" }).click();
  await admin.getByLabel("Group name").fill("Engineering");
  await admin.getByRole("checkbox", { name: /Adele Vance/ }).check();
  await admin.getByRole("checkbox", { name: "Developer" }).check();
  await shot(admin, "group-new");
  await admin.getByRole("button", { name: "Save" }).click();
  assert.equal(await heading(admin), "Engineering");
  assert.match(await admin.locator("table.list").textContent(), /adele@contoso/);
  await shot(admin, "group-detail");
  await admin.goto(accountUrl + "/groups");
  assert.match(await admin.locator("table.list").textContent(), /Engineering[\s\S]*Developer/);
  await shot(admin, "groups");
});

test("seed 002: create an application, add a key (shown once), list and remove it", async () => {
  await admin.goto(accountUrl + "/applications");
  await admin.getByRole("link", { name: "New Microsoft Entra application" }).click();
  await admin.getByLabel("Name", { exact: true }).fill("Contoso Reports");
  await admin.getByLabel("Reply URL").fill("https://reports.contoso.com/callback");
  await admin.getByLabel("App ID URI").fill("api://contoso-reports");
  await admin.getByRole("checkbox", { name: "Manager" }).check();
  await shot(admin, "app-new");
  await admin.getByRole("button", { name: "Save" }).click();
  assert.equal(await heading(admin), "Contoso Reports");
  assert.match(await admin.locator("#app-client-id").textContent(), /^[0-9a-f-]{36}$/);
  assert.match(await admin.locator("#app-tenant-id").textContent(), /^[0-9a-f-]{36}$/);
  assert.match(await admin.locator(".empty").textContent(), /no keys/);
  const appUrl = admin.url();
  await admin.getByRole("button", { name: "Add new key" }).click();
  const value = (await admin.locator("#new-key-value").textContent()).trim();
  assert.ok(value.length >= 30);
  await shot(admin, "app-key-added");
  await admin.goto(appUrl);
  assert.ok(!(await admin.content()).includes(value), "the key value is shown only once");
  const keyRow = admin.locator("table.list tbody tr");
  assert.equal(await keyRow.count(), 1);
  assert.match(await keyRow.textContent(), /\d{4}-\d{2}-\d{2}[\s\S]*\d{4}-\d{2}-\d{2}/, "created and expires");
  await shot(admin, "app-detail");
  await keyRow.getByRole("link", { name: /Remove key/ }).click();
  await shot(admin, "key-remove");
  await admin.getByRole("button", { name: "Remove" }).click();
  assert.match(await admin.locator(".empty").textContent(), /no keys/);

  // A Reply URL already used in the directory is reported next to its field.
  await admin.goto(accountUrl + "/applications/new");
  await admin.getByLabel("Name", { exact: true }).fill("Copycat");
  await admin.getByLabel("Reply URL").fill("https://reports.contoso.com/callback");
  await admin.getByRole("checkbox", { name: "Developer" }).check();
  await admin.getByRole("button", { name: "Save" }).click();
  assert.ok(await admin.locator("#replyUrl-error").isVisible());
  await shot(admin, "app-new-error");
  await admin.goto(accountUrl + "/applications");
  await shot(admin, "applications");
});

test("seed 002: edit permissions with a product scope; the Mixed indicator follows the rows", async () => {
  await admin.goto(accountUrl + "/products");
  assert.match(await admin.locator(".empty").textContent(), /no products/);
  await admin.getByLabel("Product name").fill("Contoso Racer");
  await admin.getByRole("button", { name: "Create product" }).click();
  await admin.getByLabel("Product name").fill("Contoso Chess");
  await admin.getByRole("button", { name: "Create product" }).click();
  await shot(admin, "products");

  await admin.goto(accountUrl + "/users");
  await admin.getByRole("link", { name: "Bob Builder" }).click();
  await admin.getByRole("link", { name: "Edit access" }).click();
  await admin.getByRole("checkbox", { name: "Business Contributor" }).uncheck();
  await admin.getByText("Customize permissions", { exact: true }).click();
  const publishing = admin.locator("table.perms tbody", { hasText: "Publishing" });
  assert.equal((await publishing.locator("[data-summary]").textContent()).trim(), "No access");
  await admin.getByRole("radio", { name: "Packages: Read/write" }).check();
  assert.equal((await publishing.locator("[data-summary]").textContent()).trim(), "Mixed");
  await admin.getByRole("radio", { name: "Store listings: Read only" }).check();
  await admin.getByRole("radio", { name: "Account users: Read only" }).check();
  await admin.getByRole("radio", { name: "Only the products chosen below" }).check();
  await admin.getByRole("checkbox", { name: "Contoso Racer" }).check();
  await shot(admin, "edit-access");
  await admin.getByRole("button", { name: "Save" }).click();
  assert.equal(await heading(admin), "Bob Builder");
  assert.match(await admin.locator("dl.facts").textContent(), /Custom permissions \(3\)/);
  // Reopened, the editor shows the saved grant: the chosen product, and Mixed on Publishing.
  await admin.getByRole("link", { name: "Edit access" }).click();
  assert.ok(await admin.getByRole("checkbox", { name: "Contoso Racer" }).isChecked());
  assert.ok(!(await admin.getByRole("checkbox", { name: "Contoso Chess" }).isChecked()));
  assert.ok(await admin.getByRole("radio", { name: "Packages: Read/write" }).isChecked());
  assert.equal((await admin.locator("table.perms tbody", { hasText: "Publishing" }).locator("[data-summary]").textContent()).trim(), "Mixed");
  await shot(admin, "edit-access-saved");
});

test("seed 000/002: the owner views a member's history and the audit log", async () => {
  await owner.goto(accountUrl + "/users");
  const ada = owner.locator("tr", { hasText: "Ada Admin" });
  await ada.getByRole("link", { name: /\d{4}-\d{2}-\d{2}|View history/ }).click();
  assert.match(await heading(owner), /History: Ada Admin/);
  // Activity is written in batches about once a second.
  for (let i = 0; i < 20 && (await owner.locator("table.list").count()) === 0; i++) {
    await owner.waitForTimeout(500);
    await owner.reload();
  }
  // The pages visited, with their ids (not route templates).
  const visited = await owner.locator("table.list").textContent();
  assert.ok(visited.includes(new URL(accountUrl).pathname + "/users") && !visited.includes("{accountId}"), visited);
  await shot(owner, "history");
  await owner.goto(accountUrl + "/audit");
  const audit = await owner.locator("table.list").textContent();
  for (const action of ["Opened the account", "Created a new tenant", "Associated a tenant", "Added to the account", "Created and added to the account", "Changed roles and permissions"]) {
    assert.ok(audit.includes(action), `${action} is in the audit log`);
  }
  await shot(owner, "audit");
});

test("seed 000: remove tenants behind a confirmation that states the consequences", async () => {
  // A Manager cannot remove the tenant they signed in through…
  await admin.goto(accountUrl + "/tenants");
  await admin.locator("tr", { hasText: "contoso.onatrium.local" }).getByRole("link", { name: /Remove/ }).click();
  assert.match(await admin.locator("#remove-what").textContent(), /cannot remove it/);
  await admin.getByRole("button", { name: "Remove" }).click();
  assert.match(await admin.getByRole("alert").textContent(), /signed in through/);
  await shot(admin, "tenant-remove-refused");
  // …but can remove another one.
  await admin.goto(accountUrl + "/tenants");
  await admin.locator("tr", { hasText: "fabrikam.onatrium.local" }).getByRole("link", { name: /Remove/ }).click();
  assert.match(await admin.locator("#remove-what").textContent(), /no user of this tenant can sign in/);
  await shot(admin, "tenant-remove");
  await admin.getByRole("button", { name: "Remove" }).click();
  await admin.waitForURL(/\/tenants$/);
  assert.equal(await admin.locator("table.list tbody tr").count(), 1);
  // The last tenant: only the owner. Afterwards the account is back to single-user mode.
  await owner.goto(accountUrl + "/tenants");
  await owner.locator("tr", { hasText: "contoso.onatrium.local" }).getByRole("link", { name: /Remove/ }).click();
  assert.match(await owner.locator(".warn").textContent(), /only the account owner/);
  await owner.getByRole("button", { name: "Remove" }).click();
  await owner.waitForURL(/\/tenants$/);
  assert.match(await owner.locator(".empty").textContent(), /No tenant is associated yet/);
  await admin.goto(accountUrl + "/users");
  assert.match(await heading(admin), /Not found/);
  await signOut(owner);
});
