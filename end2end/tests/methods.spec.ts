// Browser tests of saved payment methods: adding cards and bank accounts, activating, the default, documents.
import { Page } from "@playwright/test";
import { test, expect, CLERK, checkScreen, signIn, sql, waitForHydration, STAFF_HOME } from "./helpers";

/** A small but real PDF, standing in for a scanned, signed authorization. */
function authorizationPdf(): Buffer {
  return Buffer.from(
    "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" +
      "2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n" +
      "trailer << /Root 1 0 R >>\n%%EOF\n",
  );
}

function oldestOpenNumber(code: string): string {
  return sql(
    `SELECT number FROM invoices WHERE company_id = (SELECT id FROM companies WHERE code = '${code}') ` +
      `AND balance > 0 ORDER BY due_date, number LIMIT 1`,
  )[0][0];
}

async function openPaymentDialog(page: Page, code: string) {
  const invoice = oldestOpenNumber(code);
  await page.goto(`/ops/crm/companies/${code}`);
  await waitForHydration(page);
  await page.getByLabel(`Select ${invoice}`).check();
  await page.getByRole("button", { name: "Make Payment" }).click();
  const dialog = page.getByRole("dialog", { name: "Make Payment" });
  await expect(dialog.getByLabel(/Visa •••• 4242/)).toBeVisible();
  return dialog;
}

test("a clerk adds a card inside the payment dialog and pays with it", async ({ page }, testInfo) => {
  const code = "C1007";
  await signIn(page, CLERK, STAFF_HOME);
  const dialog = await openPaymentDialog(page, code);
  await dialog.getByRole("button", { name: "+ Add a payment method" }).click();
  const add = page.getByRole("dialog", { name: "Add a payment method" });
  await expect(add.getByLabel("Credit card")).toBeChecked();

  // Nothing filled in: every field says what it needs, and the first gets focus.
  await add.getByRole("button", { name: "Add", exact: true }).click();
  await expect(add.locator("#holder_name-error")).toHaveText(/Enter the name on the account/);
  await expect(add.locator("#card_number-error")).toHaveText(/Enter the card number/);
  await expect(add.locator("#expiry-error")).toHaveText(/Enter the expiry date/);
  await expect(add.getByLabel("Name on card")).toBeFocused();

  await add.getByLabel("Name on card").fill("Robin Ortega");
  const number = add.getByLabel("Card number");
  await number.pressSequentially("5555555555554440");
  await expect(number).toHaveValue("5555 5555 5555 4440");
  await expect(add.locator("#card_number-error")).toHaveText(/not valid/);
  await number.fill("");
  await number.pressSequentially("5555555555554444");
  await expect(add.locator("#card_number-help")).toHaveText("Mastercard ✓");
  await expect(add.locator("#card_number-error")).toBeEmpty();
  await add.getByLabel("Expiry (MM/YY)").pressSequentially("0120");
  await add.getByLabel("Security code").fill("123");
  await add.getByLabel("Billing postal code").fill("94107");
  await add.getByRole("button", { name: "Add", exact: true }).click();
  await expect(add.locator("#expiry-error")).toHaveText(/This card has expired./);
  await expect(add.getByLabel("Expiry (MM/YY)")).toBeFocused();
  await add.getByLabel("Expiry (MM/YY)").fill("");
  await add.getByLabel("Expiry (MM/YY)").pressSequentially("1230");
  await checkScreen(page, "add-card", testInfo);
  await add.getByRole("button", { name: "Add", exact: true }).click();

  // Back in the payment dialog with the new card chosen.
  const back = page.getByRole("dialog", { name: "Make Payment" });
  await expect(back.getByLabel(/Mastercard •••• 4444/)).toBeChecked();
  await back.getByLabel("Authorized by").selectOption("phone");
  await back.getByLabel("Reference").fill("Robin Ortega on the phone");
  await back.getByRole("button", { name: /Make Payment ·/ }).click();
  const receipt = page.getByRole("dialog", { name: "Payment received" });
  await expect(receipt).toContainText("Mastercard •••• 4444");
  await receipt.getByRole("button", { name: "Done" }).click();

  const [[last4, brand, holder, by]] = sql(
    `SELECT m.last4, m.card_brand, m.holder_name, u.name FROM payment_methods m JOIN users u ON u.id = m.created_by ` +
      `WHERE m.company_id = (SELECT id FROM companies WHERE code = '${code}') ORDER BY m.id DESC LIMIT 1`,
  );
  expect([last4, brand, holder, by]).toEqual(["4444", "mastercard", "Robin Ortega", "Casey Clerk"]);
});

test("a clerk adds an ACH account with its authorization, deactivates it and activates it again", async ({ page }, testInfo) => {
  const code = "C1008";
  await signIn(page, CLERK, STAFF_HOME);
  await page.goto(`/ops/crm/companies/${code}/payment-methods`);
  await waitForHydration(page);
  await expect(page.locator("[data-testid=company-methods] tbody tr").first()).toBeVisible();
  await checkScreen(page, "company-payment-methods", testInfo);
  await page.getByRole("button", { name: "Add a payment method" }).first().click();
  const add = page.getByRole("dialog", { name: "Add a payment method" });
  await add.getByLabel("ACH bank account").check();
  await add.getByLabel("Account holder name").fill("Northwind AP");
  await add.getByLabel("Routing number").fill("110000001");
  await expect(add.locator("#routing_number-error")).toHaveText(/not valid/);
  await add.getByLabel("Routing number").fill("110000000");
  await expect(add.locator("#routing_number-help")).toHaveText("First Sandbox Bank");
  await add.getByLabel("Account number", { exact: true }).fill("000123456789");
  await add.getByLabel("Account number again").fill("000123456780");
  await add.getByLabel("Date signed").fill("2026-11-20");

  // No authorization, and a mistyped confirmation: both are said beside their fields.
  await add.getByRole("button", { name: "Add", exact: true }).click();
  await expect(add.locator("#account_number_confirm-error")).toHaveText(/The account numbers do not match./);
  await expect(add.locator("#document-error")).toHaveText(/ACH cannot be added without it/);
  await add.getByLabel("Account number again").fill("000123456789");

  // A file named .pdf that is not one is refused by its content.
  const upload = add.getByLabel("Signed debit authorization");
  await upload.setInputFiles({ name: "authorization.pdf", mimeType: "application/pdf", buffer: Buffer.from("just text") });
  await expect(add.locator("#document-error")).toHaveText(/named .pdf but is not a PDF/);
  await upload.setInputFiles({ name: "authorization.pdf", mimeType: "application/pdf", buffer: authorizationPdf() });
  await expect(add.locator("#document-help")).toHaveText(/Uploaded authorization.pdf/);
  await expect(add.locator("#document-error")).toBeEmpty();
  await checkScreen(page, "add-ach", testInfo);
  await add.getByRole("button", { name: "Add", exact: true }).click();
  await expect(page.getByTestId("method-added")).toContainText("First Sandbox Bank checking •••• 6789");
  const row = page.locator("[data-testid=company-methods] tbody tr", { hasText: "First Sandbox Bank checking •••• 6789" });
  await expect(row).toContainText("Active");

  // System → Payment Methods, filtered by Company ID.
  await page.getByRole("link", { name: "Payment Methods", exact: true }).first().click();
  await expect(page).toHaveURL(/\/ops\/system\/payment-methods$/);
  await waitForHydration(page);
  await page.getByLabel("Filter by Company ID").fill(code);
  await expect(page).toHaveURL(new RegExp(`company=${code}`));
  const rows = page.locator("[data-testid=payment-methods] tbody tr");
  await expect(rows.first()).toContainText(code);
  for (const text of await rows.allTextContents()) expect(text).toContain(code);
  await checkScreen(page, "system-payment-methods", testInfo);
  await page.getByRole("link", { name: "More details for First Sandbox Bank checking •••• 6789" }).click();
  await expect(page.getByRole("heading", { name: "First Sandbox Bank checking •••• 6789" })).toBeVisible();
  await waitForHydration(page);
  const doc = page.getByTestId("document-link");
  await expect(doc).toHaveText("authorization.pdf");
  const file = await page.request.get((await doc.getAttribute("href"))!);
  expect(file.status()).toBe(200);
  expect(file.headers()["content-type"]).toBe("application/pdf");

  // Deactivate, with a confirmation.
  await page.getByLabel("Activate").selectOption("inactive");
  const confirm = page.getByRole("dialog", { name: "Deactivate this payment method?" });
  await checkScreen(page, "deactivate-confirm", testInfo);
  await confirm.getByRole("button", { name: "Deactivate" }).click();
  await expect(page.getByTestId("saved")).toContainText("inactive");
  await expect(page.getByTestId("method-status")).toHaveText("Inactive");
  await expect(page.getByTestId("history")).toContainText("Deactivated — Casey Clerk");
  await checkScreen(page, "payment-method-detail", testInfo);
  const detailUrl = page.url();

  let dialog = await openPaymentDialog(page, code);
  await expect(dialog.getByLabel(/First Sandbox Bank/)).toHaveCount(0);
  await dialog.getByRole("button", { name: "Cancel" }).click();

  // Activate again: it is offered once more.
  await page.goto(detailUrl);
  await waitForHydration(page);
  await page.getByLabel("Activate").selectOption("active");
  await page.getByRole("dialog", { name: "Activate this payment method?" }).getByRole("button", { name: "Activate" }).click();
  await expect(page.getByTestId("method-status")).toHaveText("Active");
  dialog = await openPaymentDialog(page, code);
  await expect(dialog.getByLabel(/First Sandbox Bank checking •••• 6789/)).toBeVisible();
});

test("a method deactivated while the dialog is open is refused and no longer offered", async ({ page }) => {
  const code = "C1009";
  await signIn(page, CLERK, STAFF_HOME);
  const dialog = await openPaymentDialog(page, code);
  await dialog.getByLabel(/Visa •••• 9995/).check();
  // Someone else deactivates it meanwhile.
  sql(
    `UPDATE payment_methods SET active = false WHERE last4 = '9995' AND company_id = (SELECT id FROM companies WHERE code = '${code}')`,
  );
  await dialog.getByLabel("Authorized by").selectOption("phone");
  await dialog.getByLabel("Reference").fill("Call with AP");
  await dialog.getByRole("button", { name: /Make Payment ·/ }).click();
  await expect(dialog.locator("#method-error")).toHaveText(/inactive/);
  await expect(dialog.getByLabel(/Visa •••• 9995/)).toHaveCount(0);
  // Nothing is chosen for the clerk: they pick the next method themselves.
  await expect(dialog.getByLabel(/Visa •••• 4242/)).not.toBeChecked();
  expect(
    sql(`SELECT count(*) FROM payments WHERE company_id = (SELECT id FROM companies WHERE code = '${code}') AND created_at > now() - interval '1 minute'`),
  ).toEqual([["0"]]);
});
