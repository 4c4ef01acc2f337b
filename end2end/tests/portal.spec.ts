// Browser tests of the customer portal: invoices, paying, methods, receipts, and what customers may not see.
import { Page } from "@playwright/test";
import { test, expect, CLERK, CUSTOMER, checkScreen, signIn, sql, usd, waitForHydration, STAFF_HOME } from "./helpers";

/** The customer's company's oldest open invoice as [id, number, balance]. */
function oldestOpen(code: string): string[] {
  return sql(
    `SELECT id, number, balance::text FROM invoices WHERE company_id = (SELECT id FROM companies WHERE code = '${code}') ` +
      `AND balance > 0 ORDER BY due_date, number LIMIT 1`,
  )[0];
}

async function signOut(page: Page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);
}

test("a customer pays an invoice with a saved card and the clerk sees the customer made it", async ({ page }, testInfo) => {
  const [, number, balance] = oldestOpen("C1001");
  await signIn(page, CUSTOMER, /\/portal$/);
  await waitForHydration(page);
  await page.getByLabel(`Select ${number}`).check();
  await expect(page.getByTestId("selection-summary")).toHaveText(`1 selected · ${usd(balance)}`);
  await page.getByRole("button", { name: "Make Payment" }).click();
  const dialog = page.getByRole("dialog", { name: "Make Payment" });
  await expect(dialog.getByLabel(/Visa •••• 4242/)).toBeChecked();
  // The customer authorizes their own payment: no staff consent fields.
  await expect(dialog.getByLabel("Authorized by")).toHaveCount(0);
  await checkScreen(page, "portal-payment-dialog", testInfo);
  await dialog.getByRole("button", { name: /Make Payment ·/ }).click();
  const receipt = page.getByRole("dialog", { name: "Payment received" });
  await expect(receipt.getByTestId("receipt")).toContainText(usd(balance));
  await expect(receipt).toContainText(number);
  const paymentNumber = (await receipt.getByTestId("payment-number").textContent())!.trim();
  await checkScreen(page, "portal-receipt", testInfo);
  await receipt.getByRole("button", { name: "Done" }).click();
  await expect(page.locator(`[data-invoice="${number}"]`)).toHaveCount(0);

  await page.getByRole("link", { name: "Payments", exact: true }).click();
  const mine = page.locator(`[data-payment="${paymentNumber}"]`);
  await expect(mine).toContainText("(customer)");
  await checkScreen(page, "portal-payments", testInfo);

  await signOut(page);
  await signIn(page, CLERK, STAFF_HOME);
  await page.goto("/ops/crm/companies/C1001/payments");
  const row = page.locator(`[data-payment="${paymentNumber}"]`);
  await expect(row).toContainText("(customer)");
  await expect(row).not.toContainText("on behalf");
  await expect(row).toContainText("Approved");
});

test("a customer adds a bank account, authorizing the debit in the portal", async ({ page }, testInfo) => {
  await signIn(page, CUSTOMER, /\/portal$/);
  await page.getByRole("link", { name: "Payment methods" }).click();
  await expect(page).toHaveURL(/\/portal\/payment-methods$/);
  await waitForHydration(page);
  await expect(page.getByTestId("my-methods")).toBeVisible();
  await checkScreen(page, "portal-payment-methods", testInfo);
  await page.getByRole("button", { name: "Add a payment method" }).first().click();
  const add = page.getByRole("dialog", { name: "Add a payment method" });
  await add.getByLabel("ACH bank account").check();
  await add.getByLabel("Account holder name").fill("Ana Diaz");
  await add.getByLabel("Routing number").fill("110000000");
  await add.getByLabel("Account number", { exact: true }).fill("000111222333");
  await add.getByLabel("Account number again").fill("000111222333");
  await expect(add.getByTestId("authorization-text")).toContainText(
    "checking account •••• 2333 at First Sandbox Bank (routing number 110000000) of Harborview Construction LLC",
  );
  // No upload in the portal: the customer signs here. Both parts are required.
  await expect(add.getByLabel("Signed debit authorization")).toHaveCount(0);
  await add.getByRole("button", { name: "Add", exact: true }).click();
  await expect(add.locator("#signed_name-error")).toHaveText(/Type your full name/);
  await add.getByLabel("Your full name (signature)").fill("Ana Diaz");
  await add.getByRole("button", { name: "Add", exact: true }).click();
  await expect(add.locator("#agreed-error")).toHaveText(/Tick the box/);
  await add.getByLabel("I authorize these debits").check();
  await checkScreen(page, "portal-add-ach", testInfo);
  const shown = (await add.getByTestId("authorization-text").textContent())!.trim();
  await add.getByRole("button", { name: "Add", exact: true }).click();
  await expect(page.getByTestId("methods-message")).toContainText("Added First Sandbox Bank checking •••• 2333");
  await expect(page.locator("[data-testid=my-methods] tbody tr", { hasText: "•••• 2333" })).toContainText("Active");
  const [[kind, content]] = sql(
    `SELECT d.content_type, replace(convert_from(d.content, 'UTF8'), E'\\n', ' ') FROM payment_methods m JOIN documents d ON d.id = m.authorization_document_id ` +
      `WHERE m.last4 = '2333' AND m.company_id = (SELECT id FROM companies WHERE code = 'C1001')`,
  );
  expect(kind).toBe("text/plain");
  expect(content).toContain("Signed (typed name): Ana Diaz");
  // What the customer read is, byte for byte, the wording kept as the authorization.
  const [[kept]] = sql(
    `SELECT replace(encode(d.content, 'base64'), E'\\n', '') FROM payment_methods m JOIN documents d ON d.id = m.authorization_document_id ` +
      `WHERE m.last4 = '2333' AND m.company_id = (SELECT id FROM companies WHERE code = 'C1001')`,
  );
  const document = Buffer.from(kept, "base64").toString("utf8");
  expect(document.split("\n\n")[1]).toBe(shown);
});

test("a customer deactivates a card and the clerk's payment dialog no longer offers it", async ({ page }, testInfo) => {
  await signIn(page, CUSTOMER, /\/portal$/);
  await page.goto("/portal/payment-methods");
  await waitForHydration(page);
  const row = page.locator("[data-testid=my-methods] tbody tr", { hasText: "Visa •••• 0002" });
  await row.getByRole("button", { name: "Deactivate Visa •••• 0002" }).click();
  const confirm = page.getByRole("dialog", { name: "Deactivate this payment method?" });
  await checkScreen(page, "portal-deactivate", testInfo);
  await confirm.getByRole("button", { name: "Deactivate" }).click();
  await expect(page.getByTestId("methods-message")).toContainText("deactivated");
  await expect(row).toContainText("Inactive");
  await expect(row.getByRole("button", { name: "Activate Visa •••• 0002" })).toBeVisible();

  await signOut(page);
  await signIn(page, CLERK, STAFF_HOME);
  const [, number] = oldestOpen("C1001");
  await page.goto("/ops/crm/companies/C1001");
  await waitForHydration(page);
  await page.getByLabel(`Select ${number}`).check();
  await page.getByRole("button", { name: "Make Payment" }).click();
  const dialog = page.getByRole("dialog", { name: "Make Payment" });
  await expect(dialog.getByLabel(/Visa •••• 4242/)).toBeVisible();
  await expect(dialog.getByLabel(/Visa •••• 0002/)).toHaveCount(0);
});

test("a customer opening another company's invoice or payment sees not found", async ({ page }, testInfo) => {
  await signIn(page, CUSTOMER, /\/portal$/);
  const [own] = oldestOpen("C1001");
  const [other] = oldestOpen("C1002");
  const res = await page.goto(`/portal/invoices/${other}`);
  expect(res!.status()).toBe(404);
  await expect(page.getByText("Invoice not found.")).toBeVisible();
  await checkScreen(page, "portal-not-found", testInfo);
  const [[otherPayment]] = sql(`SELECT coalesce(max(id), 999999)::text FROM payments WHERE company_id = (SELECT id FROM companies WHERE code = 'C1002')`);
  const res2 = await page.goto(`/portal/payments/${otherPayment}`);
  expect(res2!.status()).toBe(404);
  await expect(page.getByText("Payment not found.")).toBeVisible();
  // The customer's own invoice opens.
  await page.goto(`/portal/invoices/${own}`);
  await expect(page.getByRole("heading", { name: /^Invoice INV-/ })).toBeVisible();
  await checkScreen(page, "portal-invoice", testInfo);
});
