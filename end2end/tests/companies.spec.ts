// Browser tests of CRM → Companies and a company's page: search, paging, tabs, contacts.
import { test, expect, CLERK, CUSTOMER, checkScreen, signIn, sql, usd, waitForHydration, STAFF_HOME } from "./helpers";

test("a clerk finds a company by its ID and sees its open invoices with the right balances", async ({ page }, testInfo) => {
  await page.goto("/login");
  await checkScreen(page, "login", testInfo);
  await signIn(page, CLERK, STAFF_HOME);
  await page.getByRole("link", { name: "Companies" }).click();
  await expect(page).toHaveURL(/\/ops\/crm\/companies$/);
  await expect(page.getByRole("heading", { name: "Companies" })).toBeVisible();
  await expect(page.locator(".pager-range")).toHaveText(/^1–40 of 40$/);
  await checkScreen(page, "companies", testInfo);

  // Search by Company ID: the URL holds it, the table narrows to that company.
  const search = page.getByLabel("Search companies");
  await search.fill("C1007");
  await search.press("Enter");
  await expect(page).toHaveURL(/\?q=C1007/);
  const rows = page.locator("[data-testid=companies] tbody tr");
  await expect(rows).toHaveCount(1);
  const [[name, balance, openCount]] = sql(
    "SELECT c.name, COALESCE(sum(i.balance), 0)::text, count(i.id) FROM companies c " +
      "LEFT JOIN invoices i ON i.company_id = c.id AND i.balance > 0 WHERE c.code = 'C1007' GROUP BY c.name",
  );
  await expect(rows.first()).toContainText(name);
  await expect(rows.first().locator("td").nth(2)).toHaveText(usd(balance));
  await expect(rows.first().locator("td").nth(3)).toHaveText(openCount);
  await checkScreen(page, "companies-search", testInfo);

  // Reload keeps the search; back returns to the full list.
  await page.reload();
  await expect(page.getByLabel("Search companies")).toHaveValue("C1007");
  await expect(rows).toHaveCount(1);

  await page.getByRole("link", { name: `More details for ${name}` }).click();
  await expect(page).toHaveURL(/\/ops\/crm\/companies\/C1007$/);
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  await expect(page.getByRole("link", { name: "Open Invoices" })).toHaveAttribute("aria-current", "page");

  const expected = sql(
    "SELECT number, balance::text FROM invoices WHERE company_id = (SELECT id FROM companies WHERE code = 'C1007') " +
      "AND balance > 0 ORDER BY due_date, number",
  );
  expect(expected.length).toBeGreaterThan(0);
  const invoiceRows = page.locator("[data-testid=open-invoices] tbody tr");
  await expect(invoiceRows).toHaveCount(expected.length);
  const shown = await invoiceRows.evaluateAll((trs) =>
    trs.map((tr) => [tr.getAttribute("data-invoice"), tr.querySelector("[data-col=balance]")?.textContent]),
  );
  expect(shown).toEqual(expected.map(([number, bal]) => [number, usd(bal)]));
  await expect(page.getByTestId("balance-total")).toHaveText(usd(balance));
  await checkScreen(page, "company-open-invoices", testInfo);

  await page.getByRole("link", { name: "Contacts" }).click();
  await expect(page).toHaveURL(/\/contacts$/);
  await expect(page.getByRole("columnheader", { name: "Email" })).toBeVisible();
  await checkScreen(page, "company-contacts", testInfo);
});

test("a search with no match says so and offers to clear it", async ({ page }, testInfo) => {
  await signIn(page, CLERK, STAFF_HOME);
  await page.goto("/ops/crm/companies?q=zzzz-no-such-company");
  await expect(page.getByText("No company matches “zzzz-no-such-company”.")).toBeVisible();
  await checkScreen(page, "companies-empty", testInfo);
  await waitForHydration(page);
  await page.getByRole("link", { name: "Clear search" }).click();
  await expect(page.locator("[data-testid=companies] tbody tr")).toHaveCount(40);
});

test("a wrong password is explained beside the field", async ({ page }, testInfo) => {
  await page.goto("/login");
  await waitForHydration(page);
  await page.getByLabel("Email").fill(CLERK.email);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator("#password-error")).toHaveText(/The email or password is incorrect\./);
  await expect(page.getByLabel("Password")).toBeFocused();
  await expect(page).toHaveURL(/\/login/);
  await checkScreen(page, "login-error", testInfo);
});

test("a customer who opens the operations portal is refused", async ({ page }, testInfo) => {
  await signIn(page, CUSTOMER, /\/portal$/);
  await expect(page.getByRole("heading", { name: "Open invoices" })).toBeVisible();
  await checkScreen(page, "portal-invoices", testInfo);
  const response = await page.goto("/ops/crm/companies");
  expect(response?.status()).toBe(403);
  await expect(page.getByRole("heading", { name: "Not allowed" })).toBeVisible();
  await expect(page.locator("[data-testid=companies]")).toHaveCount(0);
  await checkScreen(page, "not-allowed", testInfo);
});

test("a signed-out visitor is sent to sign in and then back", async ({ page }) => {
  await page.goto("/ops/crm/companies/C1002");
  await expect(page).toHaveURL(/\/login\?next=/);
  await waitForHydration(page);
  await page.getByLabel("Email").fill(CLERK.email);
  await page.getByLabel("Password").fill(CLERK.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/ops\/crm\/companies\/C1002$/);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/ops/crm/companies");
  await expect(page).toHaveURL(/\/login\?next=/);
});
