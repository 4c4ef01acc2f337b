// Browser tests of staff's reports: the aging as of today and as of a past day, its drill-down
// to a company's invoices, a day to come refused where it was typed, and the XLSX export read
// back by an independent reader (openpyxl) with numbers as numbers.
import { execFileSync } from "node:child_process";
import { ADMIN, test, expect, CLERK, checkScreen, sql, usd, waitForHydration, signedInPage, STAFF_HOME } from "./helpers";

// No other browser test pays on this company: its figures hold still while they run.
const CODE = "C1020";

test("the aging shows each company by days past due, drills down to its invoices and refuses a day to come", async ({ browser }, testInfo) => {
  test.setTimeout(90_000);
  const [[today, open, overdue]] = sql(
    `SELECT seller_today()::text, COALESCE(sum(balance), 0)::numeric(14,2)::text,
            COALESCE(sum(balance) FILTER (WHERE due_date < seller_today()), 0)::numeric(14,2)::text
     FROM invoices WHERE status = 'open' AND balance > 0 AND company_id = (SELECT id FROM companies WHERE code = '${CODE}')`,
  );
  expect(Number(open)).toBeGreaterThan(0);
  const clerk = await signedInPage(browser, CLERK, STAFF_HOME);
  await clerk.getByRole("link", { name: "Aging", exact: true }).click();
  await expect(clerk).toHaveURL(/\/ops\/reports\/aging$/);
  await expect(clerk.getByRole("heading", { level: 1, name: "Aging" })).toBeVisible();
  await expect(clerk.getByTestId("aging-as-of")).toContainText("(UTC)");
  const row = clerk.locator(`tr[data-company="${CODE}"]`);
  await expect(row).toBeVisible();
  await expect(row.locator("td.strong")).toHaveText(usd(open));
  // Past due is every bucket but Current: the row's other bucket cells add up to it.
  const cells = await row.locator("td.num").allTextContents();
  const cents = (s: string) => Math.round(Number(s.replace(/[$,]/g, "")) * 100);
  expect(cells.slice(1, 6).map(cents).reduce((a, b) => a + b, 0)).toBe(cents(usd(overdue)));
  expect(cells.slice(0, 6).map(cents).reduce((a, b) => a + b, 0)).toBe(cents(usd(open)));
  await checkScreen(clerk, "aging", testInfo);

  // A company's drill-down: its open invoices on the day, oldest due first.
  await row.getByRole("link").click();
  await expect(clerk).toHaveURL(new RegExp(`/ops/reports/aging/${CODE}$`));
  const [[invoices]] = sql(
    `SELECT count(*) FROM invoices WHERE status = 'open' AND balance > 0 AND company_id = (SELECT id FROM companies WHERE code = '${CODE}')`,
  );
  await expect(clerk.getByTestId("aging-lines").locator("tbody tr")).toHaveCount(Number(invoices));
  await expect(clerk.getByTestId("aging-lines").locator("tfoot td")).toHaveText(usd(open));
  await checkScreen(clerk, "aging-company", testInfo);

  // As of a day before the company's first invoice was issued: nothing was open.
  const [[before]] = sql(
    `SELECT (min(issue_date) - 1)::text FROM invoices WHERE company_id = (SELECT id FROM companies WHERE code = '${CODE}')`,
  );
  await clerk.goto("/ops/reports/aging");
  await waitForHydration(clerk);
  await clerk.getByLabel("As of").fill(before);
  await clerk.getByRole("searchbox", { name: "Company" }).fill(CODE);
  await clerk.getByRole("button", { name: "Show" }).click();
  await expect(clerk).toHaveURL(new RegExp(`as_of=${before}`));
  await expect(clerk.getByText("No company owes anything on this day with these filters.")).toBeVisible();

  // A day to come is refused where it was typed.
  const tomorrow = new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  await clerk.goto(`/ops/reports/aging?as_of=${tomorrow}`);
  await waitForHydration(clerk);
  await expect(clerk.locator("#as_of-error")).toContainText(`as of today (${today}) or an earlier day`);
  await checkScreen(clerk, "aging-day-to-come", testInfo);
});

test("the aging's XLSX export opens in an independent reader with numbers as numbers and a totals row", async ({ browser }) => {
  const admin = await signedInPage(browser, ADMIN, STAFF_HOME);
  await admin.goto("/ops/reports/aging?sort=name");
  await waitForHydration(admin);
  await expect(admin.getByTestId("time-zone").getByLabel("The seller's days are in")).toHaveValue("UTC");
  const [download] = await Promise.all([admin.waitForEvent("download"), admin.getByTestId("aging-xlsx").click()]);
  expect(download.suggestedFilename()).toMatch(/^settle-aging-\d{4}-\d{2}-\d{2}\.xlsx$/);
  const path = test.info().outputPath("aging.xlsx");
  await download.saveAs(path);
  const book = JSON.parse(
    execFileSync(`${process.env.VENV ?? "../.data/venv"}/bin/python`, ["../scripts/xlsx-check.py", path], { encoding: "utf8" }),
  );
  expect(book.sheet).toBe("Aging");
  expect(book.title).toMatch(/^Aging as of \d{4}-\d{2}-\d{2} \(UTC\)$/);
  expect(book.freeze).toBe("A3");
  expect(book.header).toEqual([
    "Company", "Name", "Current", "1–30", "31–60", "61–90", "91–120", "120+",
    "Open balance", "Past due", "Unapplied credit", "Disputed",
  ]);
  const mine = book.rows.find((r: { values: unknown[] }) => r.values[0] === CODE);
  expect(mine.types.slice(2)).toEqual(Array(10).fill("n"));
  expect(mine.formats[2]).toContain("$#,##0.00");
  const [[open]] = sql(
    `SELECT COALESCE(sum(balance), 0)::text FROM invoices WHERE status = 'open' AND company_id = (SELECT id FROM companies WHERE code = '${CODE}')`,
  );
  expect(mine.values[8]).toBeCloseTo(Number(open), 2);
  // Each row's buckets add up to its open balance; the totals row is every row's sum.
  for (const r of book.rows) {
    const buckets = r.values.slice(2, 8).reduce((a: number, b: number) => a + b, 0);
    expect(buckets).toBeCloseTo(r.values[8], 2);
  }
  expect(book.totals.values[0]).toBe("Total");
  const sum = book.rows.reduce((a: number, r: { values: number[] }) => a + r.values[8], 0);
  expect(book.totals.values[8]).toBeCloseTo(sum, 1);
  expect(book.totals.types.slice(2)).toEqual(Array(10).fill("n"));
});
