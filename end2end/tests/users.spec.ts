import { test, expect, checkScreen, signIn, waitForHydration } from "./helpers";

const ADMIN = { email: "admin@settle.example", password: "demo-admin-pass" };

test("an admin adds a customer user who chooses a password at first sign-in, then disables them", async ({ page, browser }, testInfo) => {
  await signIn(page, ADMIN, /\/ops\/crm\/companies$/);
  await page.goto("/ops/crm/companies/C1009/users");
  await waitForHydration(page);
  await expect(page.getByText("No one from this company can sign in")).toBeVisible();
  await page.getByRole("button", { name: "Add a user" }).click();
  const dialog = page.getByRole("dialog", { name: "Add a customer user" });
  await dialog.getByLabel("Name").fill("Morgan Blake");
  await dialog.getByLabel("Email").fill("not-an-email");
  await dialog.getByRole("button", { name: "Add user" }).click();
  await expect(dialog.locator("#email-error")).not.toBeEmpty();
  await dialog.getByLabel("Email").fill("morgan@c1009.example");
  await dialog.getByRole("button", { name: "Add user" }).click();
  const temporary = (await dialog.getByTestId("temporary-password").textContent())!.trim();
  expect(temporary).toMatch(/^[A-Za-z0-9]{4}(-[A-Za-z0-9]{4}){3}$/);
  await checkScreen(page, "user-created", testInfo);
  await dialog.getByRole("button", { name: "Done" }).click();
  const row = page.locator('[data-user="morgan@c1009.example"]');
  await expect(row).toContainText("Awaiting first sign-in");
  await checkScreen(page, "company-users", testInfo);

  // The new user signs in with the temporary password and is asked for their own.
  const customer = await (await browser.newContext()).newPage();
  await customer.goto("/login");
  await waitForHydration(customer);
  await customer.getByLabel("Email").fill("morgan@c1009.example");
  await customer.getByLabel("Password", { exact: true }).fill(temporary);
  await customer.getByRole("button", { name: "Sign in" }).click();
  await expect(customer.getByLabel("New password")).toBeVisible();
  await checkScreen(customer, "first-sign-in", testInfo);
  await customer.getByLabel("New password").fill("my own passphrase 2026");
  await customer.getByRole("button", { name: "Sign in" }).click();
  await expect(customer).toHaveURL(/\/portal$/);
  await expect(customer.getByRole("heading", { name: "Open invoices" })).toBeVisible();

  // Disabled: their session stops working at once.
  await page.reload();
  await waitForHydration(page);
  await row.getByRole("button", { name: "Disable Morgan Blake" }).click();
  await page.getByRole("dialog", { name: "Disable this user?" }).getByRole("button", { name: "Disable" }).click();
  await expect(page.getByTestId("users-message")).toContainText("disabled");
  await expect(row).toContainText("Disabled");
  await customer.goto("/portal/payments");
  await expect(customer).toHaveURL(/\/login/);
});

test("the customer portal works on a phone", async ({ page }, testInfo) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, { email: "ap@c1006.example", password: "demo-customer-pass" }, /\/portal$/);
  await expect(page.locator("[data-testid=selection-summary]")).toBeVisible();
  await checkScreen(page, "portal-phone", testInfo);
  // Selecting an invoice on a phone: the amount to pay is reached by scrolling the table,
  // never the page.
  const first = page.locator("[data-testid=open-invoices] tbody tr").first();
  await first.getByRole("checkbox").check();
  await first.getByRole("textbox").scrollIntoViewIfNeeded();
  await expect(first.getByRole("textbox")).toBeInViewport();
  await checkScreen(page, "portal-phone-selected", testInfo);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
});
