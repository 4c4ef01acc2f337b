// Browser tests of giving money back: the refund dialog per invoice line, who may refund, the
// approval queue above the limit (approved once, or refused with a reason), the receipt listing
// the refunds, disputes reopening invoices with their evidence pack, and the database and the
// sandbox's books agreeing with what the screens say; a pending ACH debit voided.
import { Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { ADMIN, test, expect, CLERK, checkScreen, signIn, sql, usd, waitForHydration, signedInPage, STAFF_HOME } from "./helpers";

const CODE = "C1014";

/** Opens the company's Payments tab and the receipt of `number`. */
async function openReceipt(page: Page, number: string, code = CODE) {
  await page.goto(`/ops/crm/companies/${code}/payments`);
  await waitForHydration(page);
  await page.getByRole("button", { name: `Receipt ${number}` }).click();
  return page.getByRole("dialog", { name: "Receipt" });
}

function balance(invoice: string): string {
  return sql(`SELECT balance::text FROM invoices WHERE number = '${invoice}'`)[0][0];
}

test("a clerk allowed to refund gives back part of a payment per line; above the limit an admin approves it once or refuses it", async ({ browser }, testInfo) => {
  test.setTimeout(120_000);
  sql("UPDATE users SET may_refund = false WHERE email = 'clerk@settle.example'");
  const [[n1, b1], [n2, b2]] = sql(
    `SELECT number, balance::text FROM invoices WHERE company_id = (SELECT id FROM companies WHERE code = '${CODE}') ` +
      `AND balance > 150 ORDER BY due_date, number LIMIT 2`,
  );

  // The clerk pays two invoices in full.
  const clerk = await signedInPage(browser, CLERK, STAFF_HOME);
  await clerk.goto(`/ops/crm/companies/${CODE}`);
  await waitForHydration(clerk);
  await clerk.getByLabel(`Select ${n1}`).check();
  await clerk.getByLabel(`Select ${n2}`).check();
  await clerk.getByRole("button", { name: "Make Payment" }).click();
  const pay = clerk.getByRole("dialog", { name: "Make Payment" });
  await pay.getByLabel("Authorized by").selectOption("phone");
  await pay.getByLabel("Reference").fill("Call with the AP desk");
  await pay.getByRole("button", { name: /Make Payment ·/ }).click();
  const paid = clerk.getByRole("dialog", { name: "Payment received" });
  const number = (await paid.getByTestId("payment-number").textContent())!.trim();
  await paid.getByRole("button", { name: "Done" }).click();

  // Without the permission the dialog says so, and nothing can be sent.
  let receipt = await openReceipt(clerk, number);
  await receipt.getByTestId("refund-open").click();
  let dialog = clerk.getByRole("dialog", { name: `Refund ${number}` });
  await expect(dialog.getByTestId("refund-not-allowed")).toContainText("An admin can allow it");
  await dialog.locator(".modal-actions").getByRole("button", { name: "Close" }).click();

  // The admin allows the clerk, and sets the approval limit to $100.
  const admin = await signedInPage(browser, ADMIN, STAFF_HOME);
  await admin.goto("/ops/system/staff-users");
  await waitForHydration(admin);
  await admin.getByRole("button", { name: "Allow refunds by Casey Clerk" }).click();
  await admin.getByRole("dialog", { name: "Allow refunds?" }).getByRole("button", { name: "Allow refunds" }).click();
  await expect(admin.locator('[data-user="clerk@settle.example"] [data-testid=may-refund]')).toHaveText("Allowed");
  await admin.goto("/ops/system/refund-approvals");
  await waitForHydration(admin);
  await admin.getByLabel("Approval needed above (USD)").fill("100");
  await admin.getByRole("button", { name: "Save limit" }).click();
  await expect(admin.getByText("Saved.")).toBeVisible();
  expect(sql("SELECT refund_approval_above::text FROM seller_settings")[0][0]).toBe("100.00");

  // The clerk refunds $25.00 of the first line; one cent past what is left is refused at the line.
  receipt = await openReceipt(clerk, number);
  await receipt.getByTestId("refund-open").click();
  dialog = clerk.getByRole("dialog", { name: `Refund ${number}` });
  const submit = dialog.getByRole("button", { name: /^Refund \$/ });
  await expect(submit).toBeDisabled();
  const over = (Math.round(Number(b1) * 100 + 1) / 100).toFixed(2);
  await dialog.getByLabel(`Refund on ${n1}`).fill(over);
  await dialog.getByLabel("Reason").selectOption("wrong_invoices");
  await submit.click();
  await expect(dialog.locator(`[id="refund-${n1}-error"]`)).toHaveText(new RegExp(`Only ${usd(b1).replace("$", "\\$")} is left`));
  await expect(dialog.getByLabel(`Refund on ${n1}`)).toBeFocused();
  expect(balance(n1)).toBe("0.00");
  await dialog.getByLabel(`Refund on ${n1}`).fill("25.00");
  await dialog.getByLabel("Note").fill("The customer meant another invoice");
  await expect(submit).toHaveText("Refund $25.00");
  await expect(submit).toBeEnabled();
  await checkScreen(clerk, "refund-dialog", testInfo);
  await submit.click();
  await expect(dialog.getByTestId("refund-result")).toContainText("$25.00 refunded to the payer");
  await dialog.getByRole("button", { name: "Done" }).click();
  await expect(clerk.locator(`[data-payment="${number}"] [data-testid=refunded]`)).toHaveText("Refunded $25.00");
  expect(balance(n1)).toBe("25.00");

  // All of the second line is above the limit: it waits, nothing moves.
  receipt = await openReceipt(clerk, number);
  await receipt.getByTestId("refund-open").click();
  dialog = clerk.getByRole("dialog", { name: `Refund ${number}` });
  await dialog.getByRole("button", { name: `All that is left on ${n2}` }).click();
  await expect(dialog.getByLabel(`Refund on ${n2}`)).toHaveValue(b2);
  await dialog.getByLabel("Reason").selectOption("duplicate");
  await expect(dialog.getByTestId("needs-approval")).toHaveText("Above $100.00: an admin approves it before any money moves.");
  await dialog.getByRole("button", { name: /^Refund \$/ }).click();
  await expect(dialog.getByTestId("refund-result")).toContainText("waits for an admin's approval");
  await dialog.getByRole("button", { name: "Done" }).click();
  expect(balance(n2)).toBe("0.00");
  // And $150.00 more of the first line, which the admin will refuse.
  receipt = await openReceipt(clerk, number);
  await receipt.getByTestId("refund-open").click();
  dialog = clerk.getByRole("dialog", { name: `Refund ${number}` });
  await dialog.getByLabel(`Refund on ${n1}`).fill("150");
  await dialog.getByLabel("Reason").selectOption("other");
  await dialog.getByRole("button", { name: /^Refund \$/ }).click();
  await expect(dialog.locator("#note-error")).toHaveText(/Say why/);
  await dialog.getByLabel("Note").fill("Goodwill for the late delivery");
  await dialog.getByRole("button", { name: /^Refund \$/ }).click();
  await expect(dialog.getByTestId("refund-result")).toContainText("waits");
  await dialog.getByRole("button", { name: "Done" }).click();

  // The admin approves the first and refuses the second.
  await admin.goto("/ops/system/refund-approvals");
  await waitForHydration(admin);
  const queue = admin.getByTestId("refund-approvals");
  const [[first], [second]] = sql(
    `SELECT r.number FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE p.number = '${number}' ` +
      `AND r.status = 'awaiting_approval' ORDER BY r.id`,
  );
  await expect(queue.locator(`[data-refund="${first}"]`)).toContainText(usd(b2));
  await expect(queue.locator(`[data-refund="${second}"]`)).toContainText("Goodwill for the late delivery");
  await checkScreen(admin, "refund-approvals", testInfo);
  await admin.getByRole("button", { name: `Approve ${first}` }).click();
  await admin.getByRole("dialog", { name: "Approve this refund?" }).getByRole("button", { name: "Approve and refund" }).click();
  await expect(admin.getByTestId("approval-message")).toHaveText(`${first} approved: ${usd(b2)} refunded.`);
  expect(balance(n2)).toBe(b2);
  await admin.getByRole("button", { name: `Refuse ${second}` }).click();
  const refuse = admin.getByRole("dialog", { name: `Refuse ${second}` });
  await refuse.getByRole("button", { name: "Refuse" }).click();
  await expect(refuse.locator("#refusal_reason-error")).toContainText("Say why the refund is refused.");
  await refuse.getByLabel("Why is it refused?").fill("Not agreed with sales");
  await refuse.getByRole("button", { name: "Refuse" }).click();
  await expect(admin.getByTestId("approval-message")).toHaveText(`${second} refused. Nothing was given back.`);
  await expect(queue).toContainText("No refund is waiting for approval.");
  expect(balance(n1)).toBe("25.00");

  // The receipt lists all three, with who, why and where each stands.
  receipt = await openReceipt(clerk, number);
  const refunds = receipt.getByTestId("refunds");
  await expect(refunds.locator("tbody tr")).toHaveCount(3);
  await expect(refunds.locator(`[data-refund="${first}"]`)).toContainText("approved by Avery Admin");
  await expect(refunds.locator(`[data-refund="${second}"]`)).toContainText("Not agreed with sales");
  await checkScreen(clerk, "payment-with-refunds", testInfo);

  // Settle's books and the sandbox's agree: what was refunded is what the gateway gave back.
  const [[settle, gateway]] = sql(
    `SELECT (SELECT sum(r.amount)::text FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE p.number = '${number}' AND r.status = 'succeeded'), ` +
      `(SELECT sum(g.amount)::text FROM sandbox_refunds g JOIN payments p ON p.gateway_charge_id = g.charge_id WHERE p.number = '${number}')`,
  );
  expect(settle).toBe((Math.round((25 + Number(b2)) * 100) / 100).toFixed(2));
  expect(gateway).toBe(settle);

  // All Payments finds it under "Refunded", and its export carries the refunds.
  await clerk.goto("/ops/payments");
  await waitForHydration(clerk);
  await clerk.getByLabel("Money back").selectOption("refunded");
  await clerk.getByRole("button", { name: "Filter" }).click();
  await expect(clerk).toHaveURL(/back=refunded/);
  const listed = sql(
    "SELECT DISTINCT p.number, p.created_at, p.id FROM payments p JOIN refunds r ON r.payment_id = p.id " +
      "WHERE r.kind = 'refund' AND r.status IN ('pending', 'succeeded') ORDER BY p.created_at DESC, p.id DESC",
  ).map((r) => r[0]);
  const rows = clerk.getByTestId("all-payments").locator("tbody tr");
  await expect(rows).toHaveCount(Math.min(listed.length, 50));
  await expect(clerk.locator(`[data-payment="${number}"] [data-testid=refunded]`)).toHaveText(`Refunded ${usd(settle)}`);
  const href = await clerk.getByTestId("export-csv").getAttribute("href");
  const csv = (await (await clerk.request.get(href!)).text()).trim().split("\n");
  expect(csv.slice(1).map((l) => l.split(",")[0])).toEqual(listed);
  const line = csv.find((l) => l.startsWith(number + ","))!;
  expect(line).toContain(`,${settle},`);
  expect(line).toContain(`${second} refund 150.00 refused (other)`);
  sql("UPDATE seller_settings SET refund_approval_above = 1000");
});

test("a disputed card payment reopens its invoices; staff see the days left, download the evidence pack, and a lost dispute keeps them open", async ({ page }, testInfo) => {
  test.setTimeout(90_000);
  const code = "C1015";
  const [[n1, b1]] = sql(
    `SELECT number, balance::text FROM invoices WHERE company_id = (SELECT id FROM companies WHERE code = '${code}') ` +
      `AND balance > 0 ORDER BY due_date, number LIMIT 1`,
  );
  // The clerk pays one invoice with the card the sandbox's network disputes (and the seller loses).
  await signIn(page, CLERK, STAFF_HOME);
  await page.goto(`/ops/crm/companies/${code}`);
  await waitForHydration(page);
  await page.getByLabel(`Select ${n1}`).check();
  await page.getByRole("button", { name: "Make Payment" }).click();
  const dialog = page.getByRole("dialog", { name: "Make Payment" });
  await dialog.getByRole("button", { name: "+ Add a payment method" }).click();
  const add = page.getByRole("dialog", { name: "Add a payment method" });
  await add.getByLabel("Name on card").fill("Robin Ortega");
  await add.getByLabel("Card number").pressSequentially("4000000000000259");
  await add.getByLabel("Expiry (MM/YY)").pressSequentially("1230");
  await add.getByLabel("Security code").fill("123");
  await add.getByLabel("Billing postal code").fill("94107");
  await add.getByRole("button", { name: "Add", exact: true }).click();
  const pay = page.getByRole("dialog", { name: "Make Payment" });
  await expect(pay.getByLabel(/Visa •••• 0259/)).toBeChecked();
  await pay.getByLabel("Authorized by").selectOption("phone");
  await pay.getByLabel("Reference").fill("Call with the AP desk");
  await pay.getByRole("button", { name: /Make Payment ·/ }).click();
  const paid = page.getByRole("dialog", { name: "Payment received" });
  const number = (await paid.getByTestId("payment-number").textContent())!.trim();
  await paid.getByRole("button", { name: "Done" }).click();
  expect(balance(n1)).toBe("0.00");

  // The card network disputes it: the invoice is open again by what it paid.
  await expect.poll(() => sql(`SELECT count(*) FROM payment_disputes d JOIN payments p ON p.id = d.payment_id WHERE p.number = '${number}'`)[0][0], { timeout: 20_000 }).toBe("1");
  expect(balance(n1)).toBe(b1);
  await page.goto("/ops/system/disputes");
  await waitForHydration(page);
  const row = page.locator(`[data-testid=disputes] tr[data-payment="${number}"]`);
  await expect(row).toContainText("needs response");
  await expect(row.getByTestId("days-left")).toHaveText("7 days left");
  await expect(row).toContainText(usd(b1));
  await checkScreen(page, "disputes", testInfo);

  // The evidence pack, read back by Python's zipfile.
  const download = page.waitForEvent("download");
  await row.getByRole("link", { name: `Evidence pack for ${number}` }).click();
  const file = await (await download).path();
  const listing = execFileSync("python3", ["-c",
    "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; " +
    "print('\\n'.join(sorted(z.namelist()))); print(z.read('receipt.txt').decode())", file!], { encoding: "utf8" });
  expect(listing).toContain("audit-trail.csv\nconsent.txt\ndispute.txt\ninvoices.csv\nreceipt.txt");
  expect(listing).toContain(`Receipt ${number}`);
  expect(listing).toContain(n1);

  // Lost: the dispute closes and the invoice stays open; the receipt shows what the network took.
  await expect.poll(() => sql(`SELECT d.status FROM payment_disputes d JOIN payments p ON p.id = d.payment_id WHERE p.number = '${number}'`)[0][0], { timeout: 20_000 }).toBe("lost");
  expect(balance(n1)).toBe(b1);
  await page.goto(`/ops/crm/companies/${code}/payments`);
  await waitForHydration(page);
  await page.getByRole("button", { name: `Receipt ${number}` }).click();
  const receipt = page.getByRole("dialog", { name: "Receipt" });
  await expect(receipt.getByTestId("dispute")).toContainText("lost");
  await expect(receipt.getByTestId("refunds")).toContainText("taken by the card network");
  await expect(receipt.getByTestId("refund-open")).toHaveCount(0);
});

test("a pending ACH debit is voided from its receipt: the action its rail allows, the invoice open again, and why no refund", async ({ browser }, testInfo) => {
  test.setTimeout(90_000);
  const code = "C1005";
  // The company's bank account at the sandbox's slow test account: it stays pending for a day.
  sql(
    `UPDATE sandbox_tokens SET behaviour = 'ach_slow' WHERE token = (SELECT m.gateway_token FROM payment_methods m ` +
      `JOIN companies c ON c.id = m.company_id WHERE c.code = '${code}' AND m.kind = 'ach')`,
  );
  const [[last4]] = sql(
    `SELECT m.last4 FROM payment_methods m JOIN companies c ON c.id = m.company_id WHERE c.code = '${code}' AND m.kind = 'ach'`,
  );
  const [[n1, b1]] = sql(
    `SELECT number, balance::text FROM invoices WHERE company_id = (SELECT id FROM companies WHERE code = '${code}') ` +
      `AND balance > 0 ORDER BY due_date DESC, number DESC LIMIT 1`,
  );
  const page = await signedInPage(browser, ADMIN, STAFF_HOME);
  await page.goto(`/ops/crm/companies/${code}`);
  await waitForHydration(page);
  await page.getByLabel(`Select ${n1}`).check();
  await page.getByRole("button", { name: "Make Payment" }).click();
  const pay = page.getByRole("dialog", { name: "Make Payment" });
  await pay.getByLabel(new RegExp(`•••• ${last4}`)).check();
  await pay.getByLabel("Authorized by").selectOption("phone");
  await pay.getByLabel("Reference").fill("Call with the AP desk");
  await pay.getByRole("button", { name: /Make Payment ·/ }).click();
  const paid = page.getByRole("dialog", { name: "Payment received" });
  const number = (await paid.getByTestId("payment-number").textContent())!.trim();
  await paid.getByRole("button", { name: "Done" }).click();
  expect(balance(n1)).toBe("0.00");

  // Pending: no refund, and the receipt says why; the void is offered instead.
  let receipt = await openReceipt(page, number, code);
  await expect(receipt.getByTestId("payment-status")).toHaveText("Pending");
  await expect(page.getByTestId("refund-why-not")).toContainText("has not settled yet");
  await expect(page.getByTestId("refund-open")).toHaveCount(0);
  await page.getByTestId("void-open").click();
  const dialog = page.getByRole("dialog", { name: `Void ${number}` });
  await expect(dialog.getByTestId("void-help")).toContainText("has not reached the bank yet");
  await expect(dialog.getByTestId("void-help")).toContainText(n1);
  await checkScreen(page, "void-dialog", testInfo);
  // No reason: said at the field, nothing changes.
  await dialog.getByTestId("void-submit").click();
  await expect(dialog.locator("#reason-error")).toContainText("Choose a reason.");
  await expect(dialog.getByLabel("Reason")).toBeFocused();
  expect(sql(`SELECT status FROM payments WHERE number = '${number}'`)[0][0]).toBe("pending");
  await dialog.getByLabel("Reason").selectOption("duplicate");
  await dialog.getByLabel("Note").fill("Paid by wire the same day");
  await dialog.getByTestId("void-submit").click();
  await expect(dialog.getByTestId("void-result")).toContainText(`${number} is voided`);
  await dialog.getByRole("button", { name: "Done" }).click();

  // The database and the sandbox's books agree: voided once, the invoice open again.
  expect(balance(n1)).toBe(b1);
  expect(
    sql(`SELECT p.status, c.status FROM payments p JOIN sandbox_charges c ON c.id = p.gateway_charge_id WHERE p.number = '${number}'`)[0],
  ).toEqual(["voided", "voided"]);
  expect(sql(`SELECT count(*) FROM events e JOIN payments p ON p.id = e.payment_id WHERE e.type = 'payment.voided' AND p.number = '${number}'`)[0][0]).toBe("1");
  const row = page.locator(`[data-testid=payments] tr[data-payment="${number}"]`);
  await expect(row.getByTestId("payment-status")).toHaveText("Voided");
  await expect(row).toContainText("Voided by Avery Admin, taken out before it reached the bank: Duplicate payment. Paid by wire the same day");
  await checkScreen(page, "payment-voided", testInfo);
  receipt = await openReceipt(page, number, code);
  await expect(page.getByTestId("refund-why-not")).toContainText("voided before it settled");
  await expect(page.getByTestId("void-open")).toHaveCount(0);
});
