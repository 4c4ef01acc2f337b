// Browser tests of paying invoices: the payment dialog, declines, short pays, receipts, All Payments.
import { Page } from "@playwright/test";
import { test, expect, CLERK, checkScreen, signIn, sql, usd, waitForHydration, STAFF_HOME } from "./helpers";

/** The company's two oldest open invoices as [number, balance]. */
function oldestOpen(code: string, n: number): string[][] {
  return sql(
    `SELECT number, balance::text FROM invoices WHERE company_id = (SELECT id FROM companies WHERE code = '${code}') ` +
      `AND balance > 0 ORDER BY due_date, number LIMIT ${n}`,
  );
}

async function openCompany(page: Page, code: string) {
  await signIn(page, CLERK, STAFF_HOME);
  await page.goto(`/ops/crm/companies/${code}`);
  await waitForHydration(page);
  await expect(page.locator("[data-testid=open-invoices] tbody tr").first()).toBeVisible();
}

async function authorize(page: Page, reference: string) {
  await page.getByLabel("Authorized by").selectOption("phone");
  await page.getByLabel("Reference").fill(reference);
}

test("a clerk pays two invoices with a saved card and reads back the receipt", async ({ page }, testInfo) => {
  const code = "C1004";
  const [[n1, b1], [n2, b2]] = oldestOpen(code, 2);
  await openCompany(page, code);
  const makePayment = page.getByRole("button", { name: "Make Payment" });
  await expect(makePayment).toBeDisabled();

  await page.getByLabel(`Select ${n1}`).check();
  await page.getByLabel(`Select ${n2}`).check();
  const total = (Math.round((Number(b1) + Number(b2)) * 100) / 100).toFixed(2);
  await expect(page.getByTestId("selection-summary")).toHaveText(`2 selected · ${usd(total)}`);
  await expect(page.getByLabel("Select all invoices")).toHaveJSProperty("indeterminate", true);
  await checkScreen(page, "open-invoices-selected", testInfo);

  await makePayment.click();
  const dialog = page.getByRole("dialog", { name: "Make Payment" });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByTestId("pay-total")).toHaveText(usd(total));
  await expect(dialog.getByLabel(/Visa •••• 4242/)).toBeChecked();
  // Consent is required.
  await dialog.getByRole("button", { name: /Make Payment ·/ }).click();
  await expect(dialog.locator("#consent_channel-error")).toHaveText(/Choose how the customer authorized/);
  await expect(dialog.getByLabel("Authorized by")).toBeFocused();
  await authorize(page, "Call with the AP desk");
  await checkScreen(page, "payment-dialog", testInfo);
  await dialog.getByRole("button", { name: /Make Payment ·/ }).click();

  const receipt = page.getByRole("dialog", { name: "Payment received" });
  await expect(receipt.getByTestId("receipt")).toBeVisible();
  await expect(receipt).toContainText("Visa •••• 4242");
  await expect(receipt).toContainText(usd(total));
  await expect(receipt).toContainText("Casey Clerk on behalf of");
  await expect(receipt).toContainText(n1);
  await expect(receipt).toContainText(n2);
  const number = (await receipt.getByTestId("payment-number").textContent())!.trim();
  expect(number).toMatch(/^P-\d+$/);
  await checkScreen(page, "payment-receipt", testInfo);
  await receipt.getByRole("button", { name: "Done" }).click();

  // The list reflects the new balances: both invoices are paid off and gone.
  await expect(page.locator(`[data-invoice="${n1}"]`)).toHaveCount(0);
  await expect(page.locator(`[data-invoice="${n2}"]`)).toHaveCount(0);
  expect(sql(`SELECT balance::text FROM invoices WHERE number IN ('${n1}', '${n2}')`)).toEqual([["0.00"], ["0.00"]]);

  // The Payments tab shows it, approved, taken on the customer's behalf.
  await page.getByRole("link", { name: "Payments", exact: true }).click();
  const row = page.locator(`[data-payment="${number}"]`);
  await expect(row).toContainText("Approved");
  await expect(row).toContainText("Casey Clerk (on behalf)");
  await checkScreen(page, "company-payments", testInfo);
});

test("a declined card shows the reason and the clerk pays with another method", async ({ page }, testInfo) => {
  const code = "C1005";
  const [[n1, b1]] = oldestOpen(code, 1);
  await openCompany(page, code);
  await page.getByLabel(`Select ${n1}`).check();
  await page.getByRole("button", { name: "Make Payment" }).click();
  const dialog = page.getByRole("dialog", { name: "Make Payment" });
  await dialog.getByLabel(/Visa •••• 9995/).check();
  await authorize(page, "Email from AP, Nov 25");
  await dialog.getByRole("button", { name: /Make Payment ·/ }).click();
  await expect(dialog.getByTestId("declined")).toContainText("The card has insufficient funds.");
  expect(sql(`SELECT balance::text FROM invoices WHERE number = '${n1}'`)).toEqual([[b1]]);
  await checkScreen(page, "payment-declined", testInfo);

  // Nothing to re-enter: choose another method and pay.
  await expect(dialog.getByLabel("Reference")).toHaveValue("Email from AP, Nov 25");
  await dialog.getByLabel(/Visa •••• 4242/).check();
  await dialog.getByRole("button", { name: /Make Payment ·/ }).click();
  const receipt = page.getByRole("dialog", { name: "Payment received" });
  await expect(receipt).toContainText("Visa •••• 4242");
  await receipt.getByRole("button", { name: "Done" }).click();
  await expect(page.locator(`[data-invoice="${n1}"]`)).toHaveCount(0);
});

test("a partial payment needs a reason and leaves the rest open", async ({ page }) => {
  const code = "C1006";
  const [[n1, b1]] = oldestOpen(code, 1);
  await openCompany(page, code);
  await page.getByLabel(`Select ${n1}`).check();
  const amount = page.getByLabel(`Amount to pay on ${n1}`);
  await expect(amount).toHaveValue(b1);
  await amount.fill("0.001");
  await page.getByRole("button", { name: "Make Payment" }).click();
  await expect(page.getByText("Use at most 2 decimal places.")).toBeVisible();
  await amount.fill("10.00");
  await page.getByRole("button", { name: "Make Payment" }).click();
  await expect(page.getByText("Choose a reason for paying less than the balance.")).toBeVisible();
  // "Other" needs a comment.
  await page.getByLabel(`Reason for paying less on ${n1}`).selectOption({ label: "Other" });
  await page.getByRole("button", { name: "Make Payment" }).click();
  await expect(page.getByText('Say why in the comment: the reason is "Other".')).toBeVisible();
  await page.getByLabel(`Comment on paying less on ${n1}`).fill("Disputed freight");
  await page.getByRole("button", { name: "Make Payment" }).click();
  const dialog = page.getByRole("dialog", { name: "Make Payment" });
  await expect(dialog.getByTestId("pay-total")).toHaveText("$10.00");
  await authorize(page, "Phone, J. Rossi");
  await dialog.getByRole("button", { name: /Make Payment ·/ }).click();
  const receipt = page.getByRole("dialog", { name: "Payment received" });
  const left = (Math.round((Number(b1) - 10) * 100) / 100).toFixed(2);
  await expect(receipt).toContainText(usd(left));
  await expect(receipt.getByTestId("short-pay")).toHaveText("Paid short: Other: Disputed freight");
  await receipt.getByRole("button", { name: "Done" }).click();
  await expect(page.locator(`[data-invoice="${n1}"] [data-col=balance]`)).toHaveText(usd(left));
});

test("a method the gateway refuses can be swapped in the same dialog, and the charge happens once", async ({ page }, testInfo) => {
  const code = "C1009";
  const [[n1, b1]] = oldestOpen(code, 1);
  // A card the gateway no longer knows (revoked on its side): it refuses any charge.
  sql(
    `INSERT INTO payment_methods (company_id, kind, gateway_token, holder_name, last4, card_brand, exp_month, exp_year) ` +
      `SELECT id, 'card', 'tok_revoked_e2e', 'AP Desk', '1881', 'visa', 12, 2031 FROM companies WHERE code = '${code}' RETURNING id`,
  );
  await openCompany(page, code);
  await page.getByLabel(`Select ${n1}`).check();
  await page.getByRole("button", { name: "Make Payment" }).click();
  const dialog = page.getByRole("dialog", { name: "Make Payment" });
  await dialog.getByLabel(/Visa •••• 1881/).check();
  await authorize(page, "Call with AP");
  await dialog.getByRole("button", { name: /Make Payment ·/ }).click();
  await expect(dialog.locator("#method-error")).toContainText("refused this payment method. Nothing was charged");
  expect(sql(`SELECT balance::text FROM invoices WHERE number = '${n1}'`)).toEqual([[b1]]);
  await checkScreen(page, "payment-refused", testInfo);

  // The same form, another method: it pays.
  await dialog.getByLabel(/Visa •••• 4242/).check();
  await dialog.getByRole("button", { name: /Make Payment ·/ }).click();
  const receipt = page.getByRole("dialog", { name: "Payment received" });
  await expect(receipt).toContainText("Visa •••• 4242");
  await receipt.getByRole("button", { name: "Done" }).click();
  await expect(page.locator(`[data-invoice="${n1}"]`)).toHaveCount(0);
  // Both attempts under one key: the refused one failed (nothing charged), the other charged once.
  expect(
    sql(
      `SELECT p.status, (SELECT count(*) FROM sandbox_charges c WHERE c.idempotency_key = p.gateway_key) FROM payments p ` +
        `WHERE p.idempotency_key = (SELECT idempotency_key FROM payments WHERE method_label = 'Visa •••• 1881' AND company_id = ` +
        `(SELECT id FROM companies WHERE code = '${code}')) ORDER BY p.id`,
    ),
  ).toEqual([
    ["failed", "0"],
    ["approved", "1"],
  ]);
  await page.getByRole("link", { name: "Payments", exact: true }).click();
  await expect(page.locator("[data-testid=payments] tbody tr", { hasText: "Visa •••• 1881" })).toContainText("Failed");
});

test("a payment the gateway has not answered for shows as checking, on the company and in System → Awaiting gateway", async ({ page }, testInfo) => {
  const code = "C1011";
  // A payment whose gateway answer is overdue and whose next check is a while away (as after
  // a gateway outage with backoff). Paid on account (no invoice line), so the ledger's
  // "a payment is its lines plus what it puts on account" holds for this made-up row too.
  const [[number]] = sql(
    `INSERT INTO payments (company_id, method_id, method_label, amount, on_account, status, idempotency_key, gateway_key, initiated_by, ` +
      `consent_channel, consent_reference, created_at, gateway_answer_due_at, next_gateway_check_at, gateway_checks, last_gateway_error) ` +
      `SELECT c.id, m.id, 'Visa •••• 4242', 125.00, 125.00, 'processing', gen_random_uuid(), 'e2e-awaiting', u.id, 'phone', 'Call', ` +
      `now() - interval '7 minutes', now() - interval '6 minutes', now() + interval '1 hour', 4, ` +
      `'the payment gateway is unavailable: connection refused' ` +
      `FROM companies c JOIN payment_methods m ON m.company_id = c.id AND m.last4 = '4242' ` +
      `JOIN users u ON u.email = 'clerk@settle.example' WHERE c.code = '${code}' RETURNING number`,
  );
  try {
    await signIn(page, CLERK, STAFF_HOME);
    await page.goto(`/ops/crm/companies/${code}/payments`);
    await waitForHydration(page);
    await expect(page.locator(`[data-payment="${number}"]`)).toContainText("Checking with the gateway");
    await page.getByRole("link", { name: "Awaiting gateway" }).click();
    await expect(page).toHaveURL(/\/ops\/system\/awaiting-gateway$/);
    const row = page.locator(`[data-testid=awaiting-gateway] [data-payment="${number}"]`);
    await expect(row).toContainText("7 min");
    await expect(row).toContainText("connection refused");
    await expect(row).toContainText("$125.00");
    await checkScreen(page, "awaiting-gateway", testInfo);
  } finally {
    sql(`UPDATE payments SET status = 'failed', next_gateway_check_at = NULL WHERE number = '${number}' RETURNING id`);
  }
});
