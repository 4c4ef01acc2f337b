// What the browser tests share: sign-in, hydration waits, axe checks and screenshots, SQL against the test database.
import { test as base, expect, Browser, Page, TestInfo } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";

/**
 * Playwright's `test`, failing any test whose page broke the Content Security Policy, threw
 * an uncaught error (a WASM panic shows as `RuntimeError: unreachable`), or failed to
 * hydrate (the server's HTML and the browser build disagreeing).
 */
export const test = base.extend<{ pageGuard: void }>({
  pageGuard: [
    async ({ page }, use) => {
      const violations: string[] = [];
      const errors: string[] = [];
      page.on("console", (m) => {
        const text = m.text();
        if (/Content Security Policy/i.test(text)) violations.push(text);
        else if (m.type() === "error" && /hydrat|panicked|unreachable/i.test(text)) errors.push(text);
      });
      page.on("pageerror", (e) => errors.push(`${e.name}: ${e.message}`));
      await use();
      expect(violations, "Content Security Policy violations").toEqual([]);
      expect(errors, "page errors or failed hydration").toEqual([]);
    },
    { auto: true },
  ],
});
export { expect };

/** Where staff land after signing in: the dashboard. */
export const STAFF_HOME = /\/ops$/;

export const CLERK = { email: "clerk@settle.example", password: "demo-clerk-pass" };
export const ADMIN = { email: "admin@settle.example", password: "demo-admin-pass" };
export const CUSTOMER = { email: "ap@c1001.example", password: "demo-customer-pass" };

/** Signs in through the login form and waits for the landing page. */
export async function signIn(page: Page, who: { email: string; password: string }, landing: RegExp) {
  await page.goto("/login");
  await waitForHydration(page);
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(landing);
}

/** A page of its own (a new browser context: its own cookies), signed in as `who`. */
export async function signedInPage(browser: Browser, who: { email: string; password: string }, landing: RegExp): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, who, landing);
  return page;
}

/** Waits until the WASM has hydrated the page, so clicks reach Leptos handlers. */
export async function waitForHydration(page: Page) {
  await page.waitForFunction(() => (window as any).__settle_hydrated === true, null, { timeout: 20_000 });
}

/** Fails on serious or critical accessibility violations, and saves a screenshot. */
export async function checkScreen(page: Page, name: string, testInfo: TestInfo) {
  await waitForHydration(page);
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  mkdirSync("screenshots", { recursive: true });
  await page.screenshot({ path: `screenshots/${name}.png`, fullPage: true });
  expect(
    bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`),
    `accessibility violations on ${name}`,
  ).toEqual([]);
}

/** Runs SQL against the test database (the source of truth the UI must agree with). */
export function sql(query: string): string[][] {
  const url = process.env.E2E_DATABASE_URL;
  if (!url) throw new Error("E2E_DATABASE_URL is not set");
  const out = execFileSync("psql", [url, "-tA", "-F", "\t", "-c", query], { encoding: "utf8" });
  return out
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => l.split("\t"));
}

/** `$12,340.00` for a NUMERIC text such as `12340.00`. */
export function usd(amount: string): string {
  const [whole, frac = "00"] = amount.split(".");
  return "$" + Number(whole).toLocaleString("en-US") + "." + frac.padEnd(2, "0");
}

/**
 * As the customer (signed in), opens "Add a payment method" in the portal and fills in a bank
 * account with the authorization agreed on the page, ready to add. Answers the dialog.
 */
export async function fillPortalBankAccount(page: Page, account: string, accountType?: string) {
  await page.goto("/portal/payment-methods");
  await waitForHydration(page);
  await page.getByRole("button", { name: "Add a payment method" }).first().click();
  const add = page.getByRole("dialog", { name: "Add a payment method" });
  await add.getByLabel("ACH bank account").check();
  await add.getByLabel("Account holder name").fill("Ana Diaz");
  if (accountType) await add.getByLabel("Account type").selectOption(accountType);
  await add.getByLabel("Routing number").fill("110000000");
  await add.getByLabel("Account number", { exact: true }).fill(account);
  await add.getByLabel("Account number again").fill(account);
  await add.getByLabel("Your full name (signature)").fill("Ana Diaz");
  await add.getByLabel("I authorize these debits").check();
  return add;
}
