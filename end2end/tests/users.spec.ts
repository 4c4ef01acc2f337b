// Browser tests of users: customer users on a company, staff users, invitations and disabling.
import { ADMIN, test, expect, checkScreen, signIn, waitForHydration, STAFF_HOME } from "./helpers";
import { linkIn, waitForMail } from "./mail";


test("an admin invites a customer user who accepts by email, then disables them", async ({ page, browser }, testInfo) => {
  await signIn(page, ADMIN, STAFF_HOME);
  await page.goto("/ops/crm/companies/C1009/users");
  await waitForHydration(page);
  await expect(page.getByText("No one from this company can sign in")).toBeVisible();
  await page.getByRole("button", { name: "Invite a user" }).click();
  const dialog = page.getByRole("dialog", { name: "Invite a customer user" });
  await dialog.getByLabel("Name").fill("Morgan Blake");
  await dialog.getByLabel("Email").fill("not-an-email");
  await dialog.getByRole("button", { name: "Send invitation" }).click();
  await expect(dialog.locator("#email-error")).not.toBeEmpty();
  await dialog.getByLabel("Email").fill("morgan@c1009.example");
  await dialog.getByRole("button", { name: "Send invitation" }).click();
  await expect(dialog.getByTestId("invitation-sent")).toContainText("morgan@c1009.example");
  await checkScreen(page, "user-invited", testInfo);
  await dialog.getByRole("button", { name: "Done" }).click();
  const row = page.locator('[data-user="morgan@c1009.example"]');
  await expect(row).toContainText("Invited");
  await checkScreen(page, "company-users", testInfo);

  // The invitation arrives by email; the link lets them choose a password and signs them in.
  const mail = await waitForMail("morgan@c1009.example", /You are invited/);
  expect(mail.text).toContain("customer portal");
  const customer = await (await browser.newContext()).newPage();
  await customer.goto(linkIn(mail, "/invite/"));
  await waitForHydration(customer);
  await customer.getByLabel("New password").fill("short");
  await customer.getByLabel("Type it again").fill("short");
  await customer.getByRole("button", { name: "Choose password and sign in" }).click();
  await expect(customer.locator("#password-error")).toContainText("12 characters");
  await customer.getByLabel("New password").fill("my own passphrase 2026");
  await customer.getByLabel("Type it again").fill("my own passphrase 2026");
  await customer.getByRole("button", { name: "Choose password and sign in" }).click();
  await expect(customer).toHaveURL(/\/portal$/);
  await expect(customer.getByRole("heading", { name: "Open invoices" })).toBeVisible();

  // Disabled: their session stops working at once.
  await page.reload();
  await waitForHydration(page);
  await expect(row).toContainText("Active");
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
