// Browser tests of the staff home: the dashboard is server-rendered (charts included), its
// figures are the book's, a refresh after a payment moves them, and a declined card shows among
// the payments to look at.
import { Page } from "@playwright/test";
import { test, expect, CLERK, checkScreen, signIn, sql, usd, waitForHydration, STAFF_HOME } from "./helpers";

// No other browser test pays on this company.
const PAYS = "C1012";

/** The value shown under a key figure's label. */
function figure(page: Page, label: string) {
  return page.locator(".figure", { has: page.locator(".figure-label", { hasText: new RegExp(`^${label}$`) }) }).locator(".figure-value");
}

/** The book's open balance now (what the aging of today adds up). */
function bookOpen(): string {
  return sql(
    "SELECT COALESCE(sum(balance), 0)::numeric(16,2)::text FROM invoices WHERE status = 'open' AND balance > 0 AND issue_date <= seller_today()",
  )[0][0];
}

async function refresh(page: Page) {
  const button = page.getByTestId("dashboard-refresh");
  const before = await page.getByTestId("dashboard-as-of").textContent();
  await button.click();
  await expect(button).toHaveText("Refresh");
  await expect(button).toBeEnabled();
  return before;
}

/** This week's card collections in the cash chart's table. */
async function cardThisWeek(page: Page): Promise<number> {
  const last = page.getByTestId("chart-cash").locator("table tbody tr").last();
  return Number((await last.locator("td").first().textContent())!.replace(/[$,]/g, ""));
}

test("the dashboard is the book, server-rendered, moves with a payment on refresh and lists a decline", async ({ page }, testInfo) => {
  test.setTimeout(90_000);
  await signIn(page, CLERK, STAFF_HOME);
  await expect(page.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Dashboard" })).toHaveAttribute("aria-current", "page");

  // The server's HTML already holds the figures and the charts (they show before the page is
  // interactive, and print).
  const html = await (await page.request.get("/ops")).text();
  expect(html.includes("Open receivables"), "the figures in the server's HTML").toBe(true);
  for (const chart of ["chart-aging", "chart-cash", "chart-dso"]) {
    const drawn = new RegExp(`data-testid="${chart}"[^]*?<svg[^>]*class="chart-svg"[^]*?<(rect|polyline)`).test(html);
    expect(drawn, `${chart} drawn in the server's HTML`).toBe(true);
  }
  await waitForHydration(page);
  await refresh(page);

  // The figures are the book's, and the aging chart's numbers (a table for screen readers) add
  // up to the open receivables.
  const open = bookOpen();
  await expect(figure(page, "Open receivables")).toHaveText(usd(open));
  const cents = (s: string) => Math.round(Number(s.replace(/[$,]/g, "")) * 100);
  const buckets = await page.getByTestId("chart-aging").locator("table tbody td").allTextContents();
  expect(buckets).toHaveLength(6);
  expect(buckets.map(cents).reduce((a, b) => a + b, 0)).toBe(cents(usd(open)));
  expect(buckets.slice(1).map(cents).reduce((a, b) => a + b, 0)).toBe(cents((await figure(page, "Past due").textContent())!));
  await expect(page.getByTestId("chart-aging").locator("svg rect.chart-bar").first()).toBeVisible();
  await expect(page.getByTestId("chart-cash").locator("table tbody tr")).toHaveCount(12);
  await expect(page.getByTestId("chart-dso").locator("table tbody tr")).toHaveCount(6);
  await expect(page.getByTestId("dso-formula")).toContainText("receivables at the month's end ÷ invoiced in the month × days in the month");
  const top = page.getByTestId("top-overdue").locator("tbody tr");
  await expect(top.first()).toBeVisible();
  expect(await top.count()).toBeLessThanOrEqual(10);
  await checkScreen(page, "dashboard", testInfo);

  // A card payment, then back home: a refresh takes it off the book and into this week's cash.
  const cardBefore = await cardThisWeek(page);
  const [[number, balance]] = sql(
    `SELECT number, balance::text FROM invoices WHERE company_id = (SELECT id FROM companies WHERE code = '${PAYS}')
       AND status = 'open' AND balance > 0 ORDER BY due_date, id LIMIT 1`,
  );
  await page.goto(`/ops/crm/companies/${PAYS}`);
  await waitForHydration(page);
  await page.getByLabel(`Select ${number}`).check();
  await page.getByRole("button", { name: "Make Payment" }).click();
  const dialog = page.getByRole("dialog", { name: "Make Payment" });
  await dialog.getByLabel(/Visa •••• 4242/).check();
  await dialog.getByLabel("Authorized by").selectOption("phone");
  await dialog.getByLabel("Reference").fill("Call with the AP desk");
  await dialog.getByRole("button", { name: /Make Payment ·/ }).click();
  const receipt = page.getByRole("dialog", { name: "Payment received" });
  await expect(receipt).toContainText(usd(balance));
  await receipt.getByRole("button", { name: "Done" }).click();

  await page.getByRole("link", { name: "Dashboard" }).click();
  await expect(page).toHaveURL(STAFF_HOME);
  await refresh(page);
  const openAfter = bookOpen();
  expect(cents(usd(openAfter))).toBe(cents(usd(open)) - cents(usd(balance)));
  await expect(figure(page, "Open receivables")).toHaveText(usd(openAfter));
  expect(Math.round((await cardThisWeek(page)) * 100)).toBe(Math.round(cardBefore * 100) + cents(usd(balance)));

  // A declined card: among the payments to look at at once, with its reason.
  const [[declined]] = sql(
    "SELECT number FROM invoices WHERE company_id = (SELECT id FROM companies WHERE code = 'C1005') AND status = 'open' AND balance > 0 ORDER BY due_date, id LIMIT 1",
  );
  await page.goto("/ops/crm/companies/C1005");
  await waitForHydration(page);
  await page.getByLabel(`Select ${declined}`).check();
  await page.getByRole("button", { name: "Make Payment" }).click();
  await dialog.getByLabel(/Visa •••• 9995/).check();
  await dialog.getByLabel("Authorized by").selectOption("phone");
  await dialog.getByLabel("Reference").fill("Call with the AP desk");
  await dialog.getByRole("button", { name: /Make Payment ·/ }).click();
  await expect(dialog.getByTestId("declined")).toContainText("The card has insufficient funds.");
  const [[payment]] = sql("SELECT number FROM payments WHERE status = 'declined' ORDER BY id DESC LIMIT 1");
  await page.goto("/ops");
  await waitForHydration(page);
  const row = page.getByTestId("attention").locator(`tr[data-payment="${payment}"]`);
  await expect(row).toContainText("Declined");
  await expect(row).toContainText("The card has insufficient funds.");
  await expect(row.getByRole("link")).toHaveAttribute("href", "/ops/crm/companies/C1005/payments");
  await checkScreen(page, "dashboard-attention", testInfo);
});
