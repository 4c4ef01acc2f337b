// Every route rendered on the server, one at a time and in bursts of sixteen: every request answered, no panic.
import { APIRequestContext, Browser } from "@playwright/test";
import { readFileSync } from "node:fs";
import { test, expect, CLERK, CUSTOMER, signIn, sql, STAFF_HOME } from "./helpers";

/**
 * Server rendering never panics and never drops a request: every SSR route, staff and
 * portal, fetched over real HTTP one at a time and 16 at a time. A functional test, not a
 * timed one: it counts answers, never milliseconds.
 */

// 410: an invitation or reset link that is not (or no longer) good.
// 422: a filter refused at its field (the page is whole, the error shown where it was typed).
const ALLOWED = [200, 303, 404, 410, 422];
const CONCURRENCY = 16;

/** A browser context signed in as `who`, whose `request` carries the session cookie. */
async function signedIn(browser: Browser, who: { email: string; password: string }, landing: RegExp) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, who, landing);
  await page.close();
  return context;
}

type Target = { request: APIRequestContext; path: string };

// Each request comes from a visitor of its own (named in X-Forwarded-For, which the test
// server believes from this machine): a dead link tried by one visitor at a time, as real
// visitors do, never reaches the per-client limit on links that open nothing (a test of its
// own), which would otherwise answer 429 here and to every later test's link.
let visitor = 0;

async function fetchOnce({ request, path }: Target): Promise<string | null> {
  let res;
  try {
    const from = `198.51.100.${1 + (visitor++ % 250)}`;
    res = await request.get(path, { maxRedirects: 0, timeout: 15_000, headers: { "x-forwarded-for": from } });
  } catch (e) {
    return `${path}: no answer (${e})`;
  }
  const status = res.status();
  if (!ALLOWED.includes(status)) return `${path}: ${status}`;
  if (status === 200 || status === 422) {
    const body = await res.text();
    // The document, then (streamed rendering) the scripts carrying resolved data.
    const end = body.trimEnd();
    if (!body.includes("</html>") || !(end.endsWith("</html>") || end.endsWith("</script>")))
      return `${path}: an incomplete page (ends with ${JSON.stringify(end.slice(-60))})`;
    if (body.includes("could not finish showing this page")) return `${path}: rendering broke off`;
  }
  return null;
}

function panicLines(): string[] {
  const log = process.env.E2E_SERVER_LOG;
  if (!log) throw new Error("E2E_SERVER_LOG is not set (make test sets it)");
  return readFileSync(log, "utf8")
    .split("\n")
    .filter((l) => /panicked/.test(l));
}

test("every server-rendered route answers, sequentially and 16 at a time, with no panic", async ({ browser, playwright }) => {
  test.setTimeout(180_000);
  const panicsBefore = panicLines().length;
  const staff = await signedIn(browser, CLERK, STAFF_HOME);
  const customer = await signedIn(browser, CUSTOMER, /\/portal$/);
  const anonymous = await playwright.request.newContext({ baseURL: test.info().project.use.baseURL });

  const companies = sql("SELECT code FROM companies ORDER BY code LIMIT 10").map((r) => r[0]);
  const methods = sql("SELECT id FROM payment_methods ORDER BY id LIMIT 15").map((r) => r[0]);
  const c1001 = "(SELECT id FROM companies WHERE code = 'C1001')";
  const invoices = sql(`SELECT id FROM invoices WHERE company_id = ${c1001} ORDER BY id LIMIT 8`).map((r) => r[0]);
  const payments = sql(`SELECT id FROM payments WHERE company_id = ${c1001} ORDER BY id LIMIT 8`).map((r) => r[0]);
  expect(companies.length).toBe(10);
  expect(methods.length).toBeGreaterThan(5);
  expect(invoices.length).toBeGreaterThan(3);
  expect(payments.length).toBeGreaterThan(0);

  const targets: Target[] = [];
  const add = (request: APIRequestContext, paths: string[]) => paths.forEach((path) => targets.push({ request, path }));
  for (const code of companies) {
    const base = `/ops/crm/companies/${code}`;
    add(staff.request, [base, `${base}/payments`, `${base}/payment-methods`, `${base}/contacts`, `${base}/users`, `${base}/pay-links`]);
  }
  add(staff.request, [
    "/",
    "/ops",
    "/ops/crm/companies",
    "/ops/crm/companies?q=C10&page=1",
    "/ops/crm/companies?page=2",
    "/ops/crm/companies/NOPE9",
    "/ops/system/payment-methods",
    "/ops/system/payment-methods?company=C1001",
    "/ops/system/payment-methods/999999999",
    "/ops/system/awaiting-gateway",
    "/ops/system/email",
    "/ops/system/email?status=sent&q=receipt",
    "/ops/payments",
    "/ops/reports/aging",
    "/ops/reports/aging/C1001",
    "/ops/reports/authorizations",
    "/ops/reports/authorizations?company=C1002&from=2026-01-01",
    "/ops/reports/authorizations?from=2026-13-01",
    "/ops/reports/deposits",
    "/ops/reports/deposits?from=2026-13-01",
    "/ops/reports/deposits?from=2020-01-01&to=2026-01-01",
    "/ops/reports/deposits/2026-12-01/card",
    "/ops/reports/deposits/2026-12-01/cash",
    "/ops/reports/deposits/not-a-day/ach",
    ...methods.map((id) => `/ops/system/payment-methods/${id}`),
    "/no-such-page",
  ]);
  add(customer.request, [
    "/",
    "/portal",
    "/portal/payments",
    "/portal/payment-methods",
    "/portal/invoices/999999999",
    "/portal/payments/999999999",
    ...invoices.map((id) => `/portal/invoices/${id}`),
    ...payments.map((id) => `/portal/payments/${id}`),
  ]);
  // The pages reached by an emailed link, with links that are not (or no longer) good.
  add(anonymous, [
    "/login",
    "/",
    "/ops/crm/companies",
    "/portal",
    "/no-such-page",
    "/forgot-password",
    "/pay/not-a-link",
    `/pay/${"A".repeat(43)}`,
    "/receipts/P-000001.forged",
    "/invite/not-a-link",
    "/reset-password/not-a-link",
  ]);

  const rounds = Math.ceil(300 / targets.length);
  const failures: string[] = [];
  let sent = 0;
  // One at a time.
  for (let r = 0; r < rounds; r++) {
    for (const t of targets) {
      const failure = await fetchOnce(t);
      sent++;
      if (failure) failures.push(`sequential ${failure}`);
    }
  }
  // Sixteen at a time: each worker takes the next target until the list is done.
  const queue: Target[] = [];
  for (let r = 0; r < rounds; r++) queue.push(...targets);
  const worker = async () => {
    for (let t = queue.shift(); t; t = queue.shift()) {
      const failure = await fetchOnce(t);
      sent++;
      if (failure) failures.push(`concurrent ${failure}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  // Each screen in three bursts of sixteen at once: the same screen rendered on both of the
  // server's threads together (how All Payments once deadlocked the whole server, within
  // some thirty such requests).
  const who = new Map<APIRequestContext, string>([
    [staff.request, "staff"],
    [customer.request, "customer"],
    [anonymous, "anonymous"],
  ]);
  const screens = new Map<string, Target>();
  for (const t of targets) {
    const key = `${who.get(t.request)} ${t.path.replace(/\/C\d+/, "/C").replace(/\/\d+/g, "/N")}`;
    if (!screens.has(key)) screens.set(key, t);
  }
  for (const t of screens.values()) {
    for (let b = 0; b < 3; b++) {
      const burst = await Promise.all(Array.from({ length: CONCURRENCY }, () => fetchOnce(t)));
      sent += burst.length;
      for (const failure of burst) if (failure) failures.push(`burst ${failure}`);
    }
  }

  const panics = panicLines().slice(panicsBefore);
  console.log(`SSR robustness: ${sent} requests over ${targets.length} routes, ${failures.length} failed, ${panics.length} panics`);
  expect(sent).toBeGreaterThanOrEqual(600);
  expect(failures).toEqual([]);
  expect(panics).toEqual([]);
  await staff.close();
  await customer.close();
  await anonymous.dispose();
});
