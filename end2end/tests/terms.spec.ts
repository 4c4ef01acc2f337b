// Browser tests of the seller's terms: the reason codes admins keep (System → Reason codes),
// offered when an invoice is paid short and carried to the receipt and the database; payment
// policies (the seller's default, a company's own) refused in the portal and paid outside by
// staff with a reason.
import { ADMIN, test, expect, CLERK, checkScreen, sql, usd, waitForHydration, signedInPage, STAFF_HOME } from "./helpers";

const CODE = "C1016";

test("an admin keeps the short-pay reasons; a clerk pays short with one and the receipt says it", async ({ browser }, testInfo) => {
  test.setTimeout(90_000);
  const label = `Freight not agreed ${Date.now() % 100000}`;
  const code = label.toLowerCase().replace(/ /g, "_");
  sql("UPDATE reason_codes SET active = true WHERE kind = 'short_pay' AND code = 'installment'");

  const admin = await signedInPage(browser, ADMIN, STAFF_HOME);
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
  const clerk = await signedInPage(browser, CLERK, STAFF_HOME);
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

test("an admin gives a company its own payment policy; the portal refuses a card above it, a clerk pays with a reason", async ({ browser }, testInfo) => {
  test.setTimeout(90_000);
  const code = "C1013";
  const company = `(SELECT id FROM companies WHERE code = '${code}')`;
  sql(`DELETE FROM payment_policies WHERE company_id = ${company}`);
  try {
    const admin = await signedInPage(browser, ADMIN, STAFF_HOME);
    await admin.goto(`/ops/crm/companies/${code}/policy`);
    await waitForHydration(admin);
    await expect(admin.getByTestId("policy-in-force")).toContainText("The seller's default");
    await admin.getByLabel("Its own policy").check();
    // A maximum below the minimum is refused where it was typed.
    await admin.getByLabel("Minimum per payment (USD)").fill("100");
    await admin.getByLabel("Maximum per payment (USD)").fill("50");
    await admin.getByRole("button", { name: "Save policy" }).click();
    await expect(admin.locator("#max_amount-error")).toContainText("Enter at least the minimum, $100.00.");
    await admin.getByLabel("Minimum per payment (USD)").fill("");
    await admin.getByLabel("Maximum per payment (USD)").fill("");
    await admin.getByLabel("ACH required above (USD)").fill("10");
    await admin.getByRole("button", { name: "Save policy" }).click();
    await expect(admin.getByTestId("policy-in-force")).toContainText("Its own policy: Card or ACH · ACH above $10.00");
    await checkScreen(admin, "company-policy", testInfo);
    await admin.goto("/ops/system/payment-policy");
    await waitForHydration(admin);
    await expect(admin.getByLabel("Staff may take a payment outside a company's policy", { exact: false })).toBeChecked();
    await checkScreen(admin, "payment-policy", testInfo);

    const [[n1, b1]] = sql(
      `SELECT number, balance::text FROM invoices WHERE company_id = ${company} AND balance > 10 ORDER BY due_date, number LIMIT 1`,
    );
    // The customer cannot pay it by card, and is told why at the method.
    const customer = await signedInPage(browser, { email: `ap@${code.toLowerCase()}.example`, password: "demo-customer-pass" }, /\/portal$/);
    await waitForHydration(customer);
    await customer.getByLabel(`Select ${n1}`).check();
    await customer.getByRole("button", { name: "Make Payment" }).click();
    let dialog = customer.getByRole("dialog", { name: "Make Payment" });
    await expect(dialog.getByTestId("policy-summary")).toHaveText("This account pays: Card or ACH · ACH above $10.00");
    await dialog.getByLabel(/Visa •••• 4242/).check();
    await dialog.getByRole("button", { name: /Make Payment ·/ }).click();
    await expect(dialog.locator("#method-error")).toContainText("Payments over $10.00 must be made by ACH for this account.");
    await expect(dialog.getByTestId("outside-policy")).toHaveCount(0);
    expect(sql(`SELECT balance::text FROM invoices WHERE number = '${n1}'`)).toEqual([[b1]]);

    // The clerk may, with a reason.
    const clerk = await signedInPage(browser, CLERK, STAFF_HOME);
    await clerk.goto(`/ops/crm/companies/${code}`);
    await waitForHydration(clerk);
    await clerk.getByLabel(`Select ${n1}`).check();
    await clerk.getByRole("button", { name: "Make Payment" }).click();
    dialog = clerk.getByRole("dialog", { name: "Make Payment" });
    await dialog.getByLabel(/Visa •••• 4242/).check();
    await dialog.getByLabel("Authorized by").selectOption("phone");
    await dialog.getByLabel("Reference").fill("Call with AP");
    await dialog.getByRole("button", { name: /Make Payment ·/ }).click();
    await expect(dialog.getByTestId("outside-policy")).toContainText("Payments over $10.00 must be made by ACH for this account.");
    await expect(dialog.getByLabel("Reason for paying outside the policy")).toBeFocused();
    await dialog.getByRole("button", { name: /Make Payment ·/ }).click();
    await expect(dialog.locator("#policy_override-error")).toContainText("Give the reason");
    await dialog.getByLabel("Reason for paying outside the policy").fill("Bank account closed; card agreed by the controller");
    await checkScreen(clerk, "payment-outside-policy", testInfo);
    await dialog.getByRole("button", { name: /Make Payment ·/ }).click();
    const receipt = clerk.getByRole("dialog", { name: "Payment received" });
    const number = (await receipt.getByTestId("payment-number").textContent())!.trim();
    expect(sql(`SELECT policy_override FROM payments WHERE number = '${number}'`)).toEqual([
      ["Bank account closed; card agreed by the controller"],
    ]);
  } finally {
    sql(`DELETE FROM payment_policies WHERE company_id = ${company}`);
  }
});

test("a payment on account is the company's credit, applied later by the clerk and in the portal", async ({ browser }, testInfo) => {
  test.setTimeout(120_000);
  // C1006 takes payments on account from here on (the phone test of the portal shows its credit).
  const code = "C1006";
  const company = `(SELECT id FROM companies WHERE code = '${code}')`;
  sql(`DELETE FROM payment_policies WHERE company_id = ${company}`);
  const admin = await signedInPage(browser, ADMIN, STAFF_HOME);
  await admin.goto(`/ops/crm/companies/${code}/policy`);
  await waitForHydration(admin);
  await admin.getByLabel("Its own policy").check();
  await admin.getByLabel("A payment may be more than its invoices", { exact: false }).check();
  await admin.getByRole("button", { name: "Save policy" }).click();
  await expect(admin.getByTestId("policy-in-force")).toContainText("payments on account accepted");

  const [[n1, b1], [n2, b2]] = sql(
    `SELECT number, balance::text FROM invoices WHERE company_id = ${company} AND balance > 60 ORDER BY due_date, number LIMIT 2`,
  );
  const clerk = await signedInPage(browser, CLERK, STAFF_HOME);
  await clerk.goto(`/ops/crm/companies/${code}`);
  await waitForHydration(clerk);
  const strip = clerk.getByTestId("credit");
  await expect(strip.getByTestId("credit-available")).toHaveText("$0.00");
  await expect(strip.getByRole("button", { name: "Apply credit" })).toBeDisabled();
  // Paid in full and $50.00 more: the excess is the company's credit, not the invoice's.
  await clerk.getByLabel(`Select ${n1}`).check();
  await clerk.getByRole("button", { name: "Make Payment" }).click();
  const dialog = clerk.getByRole("dialog", { name: "Make Payment" });
  const extra = dialog.getByLabel("Also pay on account (USD, optional)");
  await extra.fill("5O");
  await expect(dialog.locator("#on_account-error")).toContainText("Enter an amount");
  await extra.fill("50.00");
  const total = (Math.round((Number(b1) + 50) * 100) / 100).toFixed(2);
  await expect(dialog.getByTestId("pay-total")).toHaveText(usd(total));
  await dialog.getByLabel("Authorized by").selectOption("phone");
  await dialog.getByLabel("Reference").fill("Call with AP, overpaying on purpose");
  await checkScreen(clerk, "payment-on-account", testInfo);
  await dialog.getByRole("button", { name: /Make Payment ·/ }).click();
  const receipt = clerk.getByRole("dialog", { name: "Payment received" });
  await expect(receipt.getByTestId("on-account")).toContainText("$50.00");
  const number = (await receipt.getByTestId("payment-number").textContent())!.trim();
  await receipt.getByRole("button", { name: "Done" }).click();
  expect(sql(`SELECT balance::text FROM invoices WHERE number = '${n1}'`)).toEqual([["0.00"]]);
  expect(sql(`SELECT c.amount::text, c.remaining::text FROM credits c JOIN payments p ON p.id = c.payment_id WHERE p.number = '${number}'`)).toEqual([
    ["50.00", "50.00"],
  ]);
  await expect(strip.getByTestId("credit-available")).toHaveText("$50.00");
  await checkScreen(clerk, "company-credit", testInfo);

  // The clerk applies part of it; never more than is left.
  await strip.getByRole("button", { name: "Apply credit" }).click();
  let apply = clerk.getByRole("dialog", { name: "Apply credit" });
  const line = apply.getByLabel(`Credit to apply to ${n2}`);
  await expect(line).toHaveValue("50.00");
  await line.fill("60.00");
  await apply.getByRole("button", { name: /Apply \$/ }).click();
  await expect(apply.locator(".banner-error")).toContainText("Only $50.00 of credit is left to apply");
  await line.fill("30.00");
  await apply.getByRole("button", { name: "Apply $30.00" }).click();
  await expect(apply).toHaveCount(0);
  await expect(strip.getByTestId("credit-available")).toHaveText("$20.00");
  const left2 = (Math.round((Number(b2) - 30) * 100) / 100).toFixed(2);
  expect(sql(`SELECT balance::text FROM invoices WHERE number = '${n2}'`)).toEqual([[left2]]);
  await expect(clerk.locator(`[data-invoice="${n2}"] [data-col=balance]`)).toHaveText(usd(left2));

  // The customer sees the rest in the portal and applies it there.
  const customer = await signedInPage(browser, { email: `ap@${code.toLowerCase()}.example`, password: "demo-customer-pass" }, /\/portal$/);
  await waitForHydration(customer);
  const theirs = customer.getByTestId("credit");
  await expect(theirs.getByTestId("credit-available")).toHaveText("$20.00");
  await checkScreen(customer, "portal-credit", testInfo);
  await theirs.getByRole("button", { name: "Apply credit" }).click();
  apply = customer.getByRole("dialog", { name: "Apply credit" });
  await expect(apply.getByLabel(`Credit to apply to ${n2}`)).toHaveValue("20.00");
  await apply.getByRole("button", { name: "Apply $20.00" }).click();
  await expect(apply).toHaveCount(0);
  await expect(theirs.getByTestId("credit-available")).toHaveText("$0.00");
  const left3 = (Math.round((Number(b2) - 50) * 100) / 100).toFixed(2);
  expect(sql(`SELECT balance::text FROM invoices WHERE number = '${n2}'`)).toEqual([[left3]]);
  expect(sql(`SELECT ca.door, ca.amount::text FROM credit_applications ca JOIN credits c ON c.id = ca.credit_id ` +
    `JOIN payments p ON p.id = c.payment_id WHERE p.number = '${number}' ORDER BY ca.id`)).toEqual([
    ["staff", "30.00"],
    ["portal", "20.00"],
  ]);
});

test("an admin sets a card surcharge; a clerk sees it before paying by credit card, never where the state refuses it", async ({ browser }, testInfo) => {
  test.setTimeout(90_000);
  try {
    const admin = await signedInPage(browser, ADMIN, STAFF_HOME);
    await admin.goto("/ops/system/payment-policy");
    await waitForHydration(admin);
    const section = admin.getByTestId("surcharge");
    await section.getByLabel("Surcharge on credit cards (%)").fill("3.5");
    await section.getByRole("button", { name: "Save surcharge" }).click();
    await expect(section.locator("#surcharge_percent-error")).toContainText("The card networks cap a surcharge at 3 %.");
    await section.getByLabel("Surcharge on credit cards (%)").fill("3");
    await section.getByRole("button", { name: "Save surcharge" }).click();
    await expect(section.getByRole("status")).toContainText("Saved.");
    const states = section.getByTestId("surcharge-states");
    await expect(states.locator("tr", { hasText: "Connecticut (CT)" })).toContainText("Refused");
    await expect(states.locator("tr", { hasText: "Colorado (CO)" })).toContainText("At most 2 %");
    await checkScreen(admin, "surcharge-settings", testInfo);

    // C1011 is billed in Illinois: its Visa (a credit card) carries 3 % on the invoices.
    const code = "C1011";
    const rows = sql(
      `SELECT number, balance::text FROM invoices WHERE company_id = (SELECT id FROM companies WHERE code = '${code}') ` +
        `AND balance > 0 ORDER BY due_date, number LIMIT 2`,
    );
    const cents = rows.map(([, b]) => Math.round(Number(b) * 100));
    const sumCents = cents[0] + cents[1];
    const feeCents = Math.floor((sumCents * 3 + 50) / 100);
    const money = (c: number) => usd((c / 100).toFixed(2));
    const clerk = await signedInPage(browser, CLERK, STAFF_HOME);
    await clerk.goto(`/ops/crm/companies/${code}`);
    await waitForHydration(clerk);
    for (const [n] of rows) await clerk.getByLabel(`Select ${n}`).check();
    await clerk.getByRole("button", { name: "Make Payment" }).click();
    const dialog = clerk.getByRole("dialog", { name: "Make Payment" });
    await expect(dialog.getByTestId("surcharge")).toHaveText(`Card surcharge 3 % on a credit card: ${money(feeCents)}`);
    await expect(dialog.getByTestId("pay-total")).toHaveText(money(sumCents + feeCents));
    await dialog.getByLabel("Authorized by").selectOption("phone");
    await dialog.getByLabel("Reference").fill("Call with AP; surcharge read out");
    await checkScreen(clerk, "payment-surcharge", testInfo);
    await dialog.getByRole("button", { name: `Make Payment · ${money(sumCents + feeCents)}` }).click();
    const receipt = clerk.getByRole("dialog", { name: "Payment received" });
    await expect(receipt.getByTestId("receipt-surcharge")).toContainText("Card surcharge 3 % on a credit card");
    await expect(receipt.getByTestId("receipt-surcharge")).toContainText(money(feeCents));
    const number = (await receipt.getByTestId("payment-number").textContent())!.trim();
    expect(sql(
      `SELECT p.amount::text, p.surcharge::text, (SELECT sum(fee)::text FROM payment_allocations WHERE payment_id = p.id), ` +
        `(SELECT count(*) FROM payment_allocations WHERE payment_id = p.id AND fee > 0)::text FROM payments p WHERE p.number = '${number}'`,
    )).toEqual([[((sumCents + feeCents) / 100).toFixed(2), (feeCents / 100).toFixed(2), (feeCents / 100).toFixed(2), "2"]]);
    // The invoices are paid by their balances; the fee is on none of them.
    for (const [n] of rows) expect(sql(`SELECT balance::text FROM invoices WHERE number = '${n}'`)).toEqual([["0.00"]]);
    await receipt.getByRole("button", { name: "Done" }).click();

    // C1004 is billed in Connecticut: no surcharge, whatever the card.
    const [[n4]] = sql(
      `SELECT number FROM invoices WHERE company_id = (SELECT id FROM companies WHERE code = 'C1004') AND balance > 0 ORDER BY due_date, number LIMIT 1`,
    );
    await clerk.goto("/ops/crm/companies/C1004");
    await waitForHydration(clerk);
    await clerk.getByLabel(`Select ${n4}`).check();
    await clerk.getByRole("button", { name: "Make Payment" }).click();
    const ct = clerk.getByRole("dialog", { name: "Make Payment" });
    await expect(ct.getByLabel(/Visa •••• 4242/)).toBeChecked();
    await expect(ct.getByTestId("surcharge")).toHaveCount(0);
  } finally {
    sql("UPDATE seller_settings SET surcharge_percent = NULL");
  }
});
