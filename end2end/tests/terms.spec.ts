// Browser tests of the seller's terms: the reason codes admins keep (System → Reason codes),
// offered when an invoice is paid short and carried to the receipt and the database.
import { Browser, Page } from "@playwright/test";
import { ADMIN, test, expect, CLERK, checkScreen, signIn, sql, usd, waitForHydration } from "./helpers";

const CODE = "C1016";

async function as(browser: Browser, who: { email: string; password: string }, landing: RegExp): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, who, landing);
  return page;
}

test("an admin keeps the short-pay reasons; a clerk pays short with one and the receipt says it", async ({ browser }, testInfo) => {
  test.setTimeout(90_000);
  const label = `Freight not agreed ${Date.now() % 100000}`;
  const code = label.toLowerCase().replace(/ /g, "_");
  sql("UPDATE reason_codes SET active = true WHERE kind = 'short_pay' AND code = 'installment'");

  const admin = await as(browser, ADMIN, /\/ops\/crm\/companies$/);
  await admin.goto("/ops/system/reason-codes");
  await waitForHydration(admin);
  const shortPay = admin.getByTestId("reasons-short_pay");
  await expect(shortPay.locator('[data-reason="other"]')).toContainText("Offered");
  // A label already in the list is refused where it was typed.
  await shortPay.getByLabel("New reason").fill("pricing DIFFERENCE");
  await shortPay.getByRole("button", { name: "Add reason" }).click();
  await expect(shortPay.locator("#short_pay_label-error")).toContainText("already in the list");
  await shortPay.getByLabel("New reason").fill(label);
  await shortPay.getByRole("button", { name: "Add reason" }).click();
  await expect(shortPay.getByRole("status")).toContainText(`Added "${label}" (${code}).`);
  await expect(shortPay.locator(`[data-reason="${code}"]`)).toContainText("Offered");
  // Installments are no longer offered.
  await shortPay.getByRole("button", { name: "Change Paying in installments" }).click();
  const change = admin.getByRole("dialog", { name: 'Change "Paying in installments"' });
  await change.getByLabel("Offered in the forms").uncheck();
  await change.getByRole("button", { name: "Save" }).click();
  await expect(change).toHaveCount(0);
  await expect(shortPay.locator('[data-reason="installment"]')).toContainText("Not offered");
  // "Other" cannot be taken out.
  await shortPay.getByRole("button", { name: "Change Other" }).click();
  await expect(admin.getByRole("dialog", { name: 'Change "Other"' }).getByLabel("Offered in the forms")).toBeDisabled();
  await admin.getByRole("dialog", { name: 'Change "Other"' }).getByRole("button", { name: "Cancel" }).click();
  await checkScreen(admin, "reason-codes", testInfo);

  // The clerk pays part of an invoice with the new reason.
  const [[n1, b1]] = sql(
    `SELECT number, balance::text FROM invoices WHERE company_id = (SELECT id FROM companies WHERE code = '${CODE}') ` +
      `AND balance > 50 ORDER BY due_date, number LIMIT 1`,
  );
  const clerk = await as(browser, CLERK, /\/ops\/crm\/companies$/);
  await clerk.goto(`/ops/crm/companies/${CODE}`);
  await waitForHydration(clerk);
  await clerk.getByLabel(`Select ${n1}`).check();
  await clerk.getByLabel(`Amount to pay on ${n1}`).fill("20.00");
  const reason = clerk.getByLabel(`Reason for paying less on ${n1}`);
  await expect(reason.locator("option", { hasText: label })).toHaveCount(1);
  await expect(reason.locator("option", { hasText: "Paying in installments" })).toHaveCount(0);
  await reason.selectOption({ label });
  await clerk.getByLabel(`Comment on paying less on ${n1}`).fill("Quoted delivered, billed freight");
  await checkScreen(clerk, "short-pay-reason", testInfo);
  await clerk.getByRole("button", { name: "Make Payment" }).click();
  const dialog = clerk.getByRole("dialog", { name: "Make Payment" });
  await dialog.getByLabel("Authorized by").selectOption("phone");
  await dialog.getByLabel("Reference").fill("Call with AP");
  await dialog.getByRole("button", { name: /Make Payment ·/ }).click();
  const receipt = clerk.getByRole("dialog", { name: "Payment received" });
  await expect(receipt.getByTestId("short-pay")).toHaveText(`Paid short: ${label}: Quoted delivered, billed freight`);
  const left = (Math.round((Number(b1) - 20) * 100) / 100).toFixed(2);
  await expect(receipt).toContainText(usd(left));
  const number = (await receipt.getByTestId("payment-number").textContent())!.trim();
  expect(
    sql(
      `SELECT a.short_pay_code, a.short_pay_reason FROM payment_allocations a JOIN payments p ON p.id = a.payment_id WHERE p.number = '${number}'`,
    ),
  ).toEqual([[code, "Quoted delivered, billed freight"]]);
  sql("UPDATE reason_codes SET active = true WHERE kind = 'short_pay' AND code = 'installment'");
});
