// Browser test of Reports → Deposits: a card payment taken in the browser is in today's card
// line on both sides (Settle's record and the sandbox gateway's balance transactions, each equal
// to its SQL sum), matched in the day's lines; a charge only the gateway knows shows in red; a
// day that is not one is refused at its field.
import { test, expect, CLERK, checkScreen, sql, usd, waitForHydration, signedInPage, STAFF_HOME } from "./helpers";

const PAYS = "C1012";
const TZ = "(SELECT time_zone FROM seller_settings)";

/** Today's card payments on each side, as SQL adds them up. */
function sums(): { settle: string; gateway: string } {
  const [[settle, gateway]] = sql(
    `SELECT (SELECT COALESCE(sum(amount), 0)::numeric(14,2)::text FROM money_movements
              WHERE rail = 'card' AND kind = 'payment' AND (at AT TIME ZONE ${TZ})::date = seller_today()),
            (SELECT COALESCE(sum(b.amount), 0)::numeric(14,2)::text FROM sandbox_balance_transactions b
              JOIN sandbox_charges c ON c.id = b.charge_id JOIN sandbox_tokens t ON t.token = c.token
              WHERE t.kind = 'card' AND b.kind = 'payment' AND (b.created_at AT TIME ZONE ${TZ})::date = seller_today())`,
  );
  return { settle, gateway };
}

test("today's card deposits equal both books, match line by line, and a gateway-only charge shows in red", async ({ browser }, testInfo) => {
  test.setTimeout(90_000);
  const clerk = await signedInPage(browser, CLERK, STAFF_HOME);
  const [[today]] = sql("SELECT seller_today()::text");

  // A card payment taken in the browser.
  const [[invoice, balance]] = sql(
    `SELECT number, balance::text FROM invoices WHERE company_id = (SELECT id FROM companies WHERE code = '${PAYS}')
       AND status = 'open' AND balance > 0 ORDER BY due_date DESC, id DESC LIMIT 1`,
  );
  await clerk.goto(`/ops/crm/companies/${PAYS}`);
  await waitForHydration(clerk);
  await clerk.getByLabel(`Select ${invoice}`).check();
  await clerk.getByRole("button", { name: "Make Payment" }).click();
  const dialog = clerk.getByRole("dialog", { name: "Make Payment" });
  await dialog.getByLabel(/Visa •••• 4242/).check();
  await dialog.getByLabel("Authorized by").selectOption("phone");
  await dialog.getByLabel("Reference").fill("Call with the AP desk");
  await dialog.getByRole("button", { name: /Make Payment ·/ }).click();
  const receipt = clerk.getByRole("dialog", { name: "Payment received" });
  await expect(receipt).toContainText(usd(balance));
  await receipt.getByRole("button", { name: "Done" }).click();
  const [[payment, charge]] = sql("SELECT number, gateway_charge_id FROM payments ORDER BY id DESC LIMIT 1");

  // Reports → Deposits: today's card line, Settle above the gateway, each its book's sum.
  await clerk.getByRole("link", { name: "Deposits" }).click();
  await expect(clerk).toHaveURL(/\/ops\/reports\/deposits$/);
  await expect(clerk.getByRole("heading", { level: 1, name: "Deposits" })).toBeVisible();
  const line = clerk.locator(`tbody[data-rail="card"][data-day="${today}"]`);
  const { settle, gateway } = sums();
  expect(settle).toBe(gateway);
  await expect(line.locator("tr").first().locator("td").nth(1)).toHaveText(usd(settle));
  await expect(line.locator("tr.books-row td").nth(1)).toHaveText(usd(gateway));
  await expect(line.locator(".diff")).toHaveCount(0);
  // The NACHA files of the week (this server's ACH rail; the ACH files test writes some): each
  // control record agrees with its entries.
  const [[files]] = sql(
    `SELECT count(*) FROM ach_files WHERE (created_at AT TIME ZONE ${TZ})::date BETWEEN seller_today() - 6 AND seller_today()`,
  );
  if (Number(files) > 0) {
    await expect(clerk.getByTestId("deposit-files").locator("tbody tr")).toHaveCount(Number(files));
    await expect(clerk.getByTestId("deposit-files").locator("tbody tr", { hasText: "Differs" })).toHaveCount(0);
  } else {
    await expect(clerk.getByTestId("deposit-files-empty")).toBeVisible();
  }
  await expect(clerk.getByLabel("To", { exact: true })).toHaveValue(today);
  await checkScreen(clerk, "deposits", testInfo);

  // The day's card lines: the payment matched with its charge, linking to its company.
  await line.getByRole("link").first().click();
  await expect(clerk).toHaveURL(new RegExp(`/ops/reports/deposits/${today}/card$`));
  await expect(clerk.getByRole("heading", { level: 1 })).toContainText("Card deposits");
  const row = clerk.getByTestId("deposit-items").locator("tr", { hasText: charge });
  await expect(row).toContainText(payment);
  await expect(row).toContainText("Matched");
  await expect(row.getByRole("link", { name: payment })).toHaveAttribute("href", `/ops/crm/companies/${PAYS}/payments`);

  // A charge only the gateway's books hold: the line differs, in red, and the lines say which.
  sql(
    `INSERT INTO sandbox_charges (id, idempotency_key, token, amount, currency, status)
     SELECT 'ch_e2e_stray', 'e2e-stray', token, 12.34, 'USD', 'approved' FROM sandbox_charges WHERE id = '${charge}'`,
  );
  try {
    await clerk.goto("/ops/reports/deposits");
    await waitForHydration(clerk);
    await expect(clerk.getByTestId("deposits-summary")).toContainText("differ");
    await expect(line.locator(".badge-red")).toHaveText("Differs");
    await expect(line.locator("tr.books-row td.diff").first()).toContainText(usd((Number(gateway) + 12.34).toFixed(2)));
    await checkScreen(clerk, "deposits-difference", testInfo);
    await clerk.goto(`/ops/reports/deposits/${today}/card`);
    await waitForHydration(clerk);
    const stray = clerk.getByTestId("deposit-items").locator("tr", { hasText: "ch_e2e_stray" });
    await expect(stray).toContainText("Only at the gateway");
    await expect(stray).toContainText("Not in Settle");
    await checkScreen(clerk, "deposit-lines", testInfo);
  } finally {
    sql("DELETE FROM sandbox_balance_transactions WHERE charge_id = 'ch_e2e_stray'; DELETE FROM sandbox_charges WHERE id = 'ch_e2e_stray'");
  }

  // A day that is not one is refused where it was typed.
  await clerk.goto("/ops/reports/deposits?from=2026-13-01");
  await waitForHydration(clerk);
  await expect(clerk.locator("#from-error")).toHaveText(/Enter the day as YYYY-MM-DD/);
  await expect(clerk.getByLabel("From", { exact: true })).toHaveAttribute("aria-invalid", "true");
});
