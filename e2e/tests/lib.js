// Shared helpers of the browser tests: Debian's Chromium through playwright-core, against the
// server that scripts/e2e started (ATRIUM_TEST_URL), with a screenshot of every page visited.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import assert from "node:assert/strict";

export const BASE = process.env.ATRIUM_TEST_URL;
export const OWNER = process.env.ATRIUM_TEST_OWNER;
export const OWNER_ONE_TIME_PASSWORD = process.env.ATRIUM_TEST_OWNER_PASSWORD;
const SHOTS = process.env.ATRIUM_TEST_SCREENSHOTS || "screenshots";
assert.ok(BASE && OWNER && OWNER_ONE_TIME_PASSWORD, "run through scripts/e2e (ATRIUM_TEST_URL, ATRIUM_TEST_OWNER, ATRIUM_TEST_OWNER_PASSWORD)");
mkdirSync(SHOTS, { recursive: true });

export const PERSONAL = "personal.onatrium.local";
export const OWNER_PASSWORD = "Owner-Passw0rd!";
export const ADMIN_PASSWORD = "Adm1n-Passw0rd!";

export async function launch() {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    // As on the machine probe: no sandbox as root, and no background traffic to Google.
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
}

/** A fresh browser profile (cookies) that trusts the server's generated certificate. */
export async function context(browser, options = {}) {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 }, ...options });
  ctx.setDefaultTimeout(15000);
  return ctx;
}

let shotNumber = 0;
let shotPrefix = "";
/** Groups the screenshots of one test file (each file runs in its own process). */
export function shotsFor(prefix) { shotPrefix = `${prefix}-`; }
/** Saves a full-page screenshot and checks the page is a complete console page (or, with
 *  `{ consolePage: false }`, a page of its own such as the authorize page: it has a main). */
export async function shot(page, name, { consolePage = true } = {}) {
  shotNumber += 1;
  const file = join(SHOTS, `${shotPrefix}${String(shotNumber).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  if (!consolePage) {
    assert.ok(await page.locator("main").isVisible(), `${name}: the page has no main content`);
    return file;
  }
  // Every page ends with its closing tags and its stylesheet loaded (no broken layout).
  const styled = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor === "rgb(245, 245, 245)");
  assert.ok(styled, `${name}: the stylesheet did not load`);
  return file;
}

export async function signIn(page, tenant, username, password) {
  await page.goto(`${BASE}/sign-in`);
  await page.getByLabel("Tenant").fill(tenant);
  await page.getByLabel("User name").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

export async function signOut(page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/sign-in$/);
}

/** The main heading of the current page. */
export async function heading(page) {
  return (await page.getByRole("heading", { level: 1 }).textContent()).trim();
}

export { assert };
