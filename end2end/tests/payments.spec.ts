import { Page } from "@playwright/test";
import { test, expect, CLERK, checkScreen, signIn, sql, usd, waitForHydration } from "./helpers";

/** The company's two oldest open invoices as [number, balance]. */
function oldestOpen(code: string, n: number): string[][] {
  return sql(
    `SELECT number, balance::text FROM invoices WHERE company_id = (SELECT id FROM companies WHERE code = '${code}') ` +
      `AND balance > 0 ORDER BY due_date, number LIMIT ${n}`,
  );
}

async function openCompany(page: Page, code: string) {
  await signIn(page, CLERK, /\/ops\/crm\/companies$/);
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
  await page.getByRole("link", { name: "Payments" }).click();
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
  await expect(page.getByText("Give a reason for paying less than the balance.")).toBeVisible();
  await page.getByLabel(`Reason for paying less on ${n1}`).fill("Disputed freight");
  await page.getByRole("button", { name: "Make Payment" }).click();
  const dialog = page.getByRole("dialog", { name: "Make Payment" });
  await expect(dialog.getByTestId("pay-total")).toHaveText("$10.00");
  await authorize(page, "Phone, J. Rossi");
  await dialog.getByRole("button", { name: /Make Payment ·/ }).click();
  const receipt = page.getByRole("dialog", { name: "Payment received" });
  const left = (Math.round((Number(b1) - 10) * 100) / 100).toFixed(2);
  await expect(receipt).toContainText(usd(left));
  await receipt.getByRole("button", { name: "Done" }).click();
  await expect(page.locator(`[data-invoice="${n1}"] [data-col=balance]`)).toHaveText(usd(left));
});
