// Browser tests of a company with thousands of open invoices: search, filters, paging, select all matching.
import { test, expect, CLERK, CUSTOMER, checkScreen, signIn, sql, usd, waitForHydration, STAFF_HOME } from "./helpers";

// A company with hundreds of open invoices: the list is paged, sorted and filtered on the
// server with all of it in the URL, the selection outlives paging, and "select all matching"
// stops at what one payment may cover (500 invoices).
const CODE = "C1030";
const EXTRA = 530;

test.beforeAll(() => {
  sql(
    `INSERT INTO invoices (company_id, number, po_number, issue_date, due_date, total, balance) ` +
      `SELECT c.id, 'BULK-' || lpad(g::text, 4, '0'), CASE WHEN g % 3 = 0 THEN 'PO-B' || g END, ` +
      `current_date - 200 + (g % 150), current_date - 170 + (g % 150) + (g % 7), 100 + g, 100 + g ` +
      `FROM companies c, generate_series(1, ${EXTRA}) g WHERE c.code = '${CODE}' ` +
      `ON CONFLICT (company_id, number) DO NOTHING`,
  );
});

function open(where = "", order = "due_date, number"): string[][] {
  return sql(
    `SELECT number, balance::text FROM invoices WHERE company_id = (SELECT id FROM companies WHERE code = '${CODE}') ` +
      `AND balance > 0 ${where} ORDER BY ${order}`,
  );
}

const rows = "[data-testid=open-invoices] tbody tr";

test("hundreds of open invoices are paged, sorted, filtered and searched on the server", async ({ page }, testInfo) => {
  const all = open();
  expect(all.length).toBeGreaterThan(EXTRA);
  const [[sum]] = sql(
    `SELECT sum(balance)::text FROM invoices WHERE company_id = (SELECT id FROM companies WHERE code = '${CODE}') AND balance > 0`,
  );
  await signIn(page, CLERK, STAFF_HOME);
  const started = Date.now();
  await page.goto(`/ops/crm/companies/${CODE}`);
  await waitForHydration(page);
  // One page of 50, with the figures of all of them.
  await expect(page.locator(rows)).toHaveCount(50);
  expect(await page.locator(rows).first().getAttribute("data-invoice")).toBe(all[0][0]);
  await expect(page.getByTestId("balance-total")).toHaveText(usd(sum));
  await expect(page.locator("tfoot")).toContainText(`${all.length.toLocaleString("en-US")} open invoices`);
  await expect(page.getByRole("navigation", { name: "Pages" })).toContainText(`1–50 of ${all.length.toLocaleString("en-US")}`);
  console.log(`page with ${all.length} open invoices shown in ${Date.now() - started} ms`);
  await checkScreen(page, "open-invoices-paged", testInfo);

  // Next page: the next 50, in the URL.
  await page.getByRole("link", { name: "Next ›" }).click();
  await expect(page).toHaveURL(/page=2/);
  await expect(page.locator(rows).first()).toHaveAttribute("data-invoice", all[50][0]);

  // Sorting by balance: largest first, then reversed; back on page 1.
  await page.getByRole("link", { name: "Balance" }).click();
  await expect(page).toHaveURL(/sort=balance&dir=desc$/);
  const byBalance = open("", "invoices.balance DESC, number DESC");
  await expect(page.locator(rows).first()).toHaveAttribute("data-invoice", byBalance[0][0]);
  await expect(page.getByRole("columnheader", { name: /Balance/ })).toHaveAttribute("aria-sort", "descending");
  await page.getByRole("link", { name: "Balance" }).click();
  await expect(page).toHaveURL(/sort=balance&dir=asc$/);
  await expect(page.locator(rows).first()).toHaveAttribute("data-invoice", open("", "invoices.balance, number")[0][0]);

  // The aging filter: only 31–60 days, with their count and balance; it survives a reload.
  await page.getByLabel("Aging").selectOption("31-60");
  await expect(page).toHaveURL(/aging=31-60/);
  const bucket = open("AND current_date - due_date BETWEEN 31 AND 60", "invoices.balance, number");
  await expect(page.locator("tfoot")).toContainText(`${bucket.length} matching invoice`);
  await page.reload();
  await waitForHydration(page);
  await expect(page.getByLabel("Aging")).toHaveValue("31-60");
  await expect(page.locator(rows).first()).toHaveAttribute("data-invoice", bucket[0][0]);
  await checkScreen(page, "open-invoices-filtered", testInfo);

  // A search by PO number, then one that finds nothing, with a way back.
  await page.getByLabel("Aging").selectOption("");
  await page.getByLabel("Search invoices").fill("po-b3");
  await expect(page).toHaveURL(/q=po-b3/);
  const po = open("AND po_number ILIKE '%po-b3%'");
  await expect(page.locator(rows)).toHaveCount(Math.min(50, po.length));
  await page.getByLabel("Search invoices").fill("no-such-invoice");
  await expect(page.getByText("No open invoice matches this search.")).toBeVisible();
  await page.getByRole("link", { name: "Clear search" }).click();
  await expect(page.locator(rows)).toHaveCount(50);
});

test("a selection outlives paging and select all matching stops at one payment's 500", async ({ page }, testInfo) => {
  const all = open();
  await signIn(page, CLERK, STAFF_HOME);
  await page.goto(`/ops/crm/companies/${CODE}`);
  await waitForHydration(page);
  await expect(page.locator(rows)).toHaveCount(50);

  // One on page 1, one on page 2: both stay selected.
  await page.getByLabel(`Select ${all[0][0]}`).check();
  await page.getByRole("link", { name: "Next ›" }).click();
  await page.getByLabel(`Select ${all[50][0]}`).check();
  const two = (Number(all[0][1]) + Number(all[50][1])).toFixed(2);
  await expect(page.getByTestId("selection-summary")).toHaveText(`2 selected · ${usd(two)}`);
  await page.getByRole("link", { name: "‹ Previous" }).click();
  await expect(page.getByLabel(`Select ${all[0][0]}`)).toBeChecked();

  // Select all matching: more than 500 match, so the first 500 (in the list's order).
  await page.getByRole("button", { name: `Select the first 500 of ${all.length} matching` }).click();
  await expect(page.getByTestId("selection-notice")).toContainText(
    `Selected the first 500 of ${all.length} matching invoices: one payment covers at most 500.`,
  );
  const first500 = all.slice(0, 500).reduce((s, [, b]) => s + Math.round(Number(b) * 100), 0);
  // Invoice 50 (page 2) was selected before and is inside the first 500 too.
  await expect(page.getByTestId("selection-summary")).toHaveText(`500 selected · ${usd((first500 / 100).toFixed(2))}`);
  await checkScreen(page, "open-invoices-select-all", testInfo);

  // One more, from the other end of the list: 501 is more than a payment covers, said plainly.
  await page.getByRole("link", { name: "Due", exact: true }).click();
  await expect(page).toHaveURL(/sort=due&dir=desc$/);
  await page.getByLabel(`Select ${all[all.length - 1][0]}`).check();
  await expect(page.getByTestId("selection-summary")).toHaveText(/^501 selected/);
  await page.getByRole("button", { name: "Make Payment" }).click();
  await expect(page.getByTestId("selection-notice")).toContainText(
    "One payment covers at most 500 invoices and 501 are selected.",
  );
  await expect(page.getByRole("dialog")).toHaveCount(0);

  // Back to two from different pages, paid in one payment.
  await page.getByRole("button", { name: "Clear" }).click();
  await expect(page.getByTestId("selection-summary")).toHaveText(/^0 selected/);
  await page.goto(`/ops/crm/companies/${CODE}`);
  await waitForHydration(page);
  await page.getByLabel(`Select ${all[1][0]}`).check();
  await page.getByRole("link", { name: "Next ›" }).click();
  await page.getByLabel(`Select ${all[51][0]}`).check();
  await page.getByRole("button", { name: "Make Payment" }).click();
  const dialog = page.getByRole("dialog", { name: "Make Payment" });
  const two2 = (Number(all[1][1]) + Number(all[51][1])).toFixed(2);
  await expect(dialog).toContainText(`Total for 2 invoices${usd(two2)}`);
  await dialog.getByLabel("Authorized by").selectOption("phone");
  await dialog.getByLabel("Reference").fill("Call about the bulk invoices");
  await dialog.getByRole("button", { name: /Make Payment ·/ }).click();
  const receipt = page.getByRole("dialog", { name: "Payment received" });
  await expect(receipt).toContainText(all[1][0]);
  await expect(receipt).toContainText(all[51][0]);
  expect(sql(`SELECT balance::text FROM invoices WHERE number IN ('${all[1][0]}', '${all[51][0]}') ORDER BY number`)).toEqual([
    ["0.00"],
    ["0.00"],
  ]);
});

test("the portal pages and sorts the customer's invoices the same way", async ({ page }) => {
  await signIn(page, CUSTOMER, /\/portal/);
  await page.goto("/portal?sort=balance&dir=desc");
  await waitForHydration(page);
  const mine = sql(
    `SELECT number FROM invoices WHERE company_id = (SELECT id FROM companies WHERE code = 'C1001') ` +
      `AND balance > 0 ORDER BY balance DESC, number DESC`,
  );
  await expect(page.locator(rows).first()).toHaveAttribute("data-invoice", mine[0][0]);
  await expect(page.getByRole("columnheader", { name: /Balance/ })).toHaveAttribute("aria-sort", "descending");
  await page.getByLabel("Search invoices").fill(mine[0][0]);
  await expect(page.locator(rows)).toHaveCount(1);
});
