// Browser tests of what Settle emails: receipts, invitations, resets and pay links, read from the mail catcher.
import { Page } from "@playwright/test";
import { ADMIN, test, expect, CLERK, checkScreen, signIn, sql, usd, waitForHydration, STAFF_HOME } from "./helpers";
import { linkIn, mailCatcher, mailsTo, showMail, waitForMail } from "./mail";

// Emails go through a real SMTP server: the MailDev catcher scripts/e2e-server.sh starts.
// Each message's HTML is saved as screenshots/email-<name>.png.


function companyId(code: string): string {
  return sql(`SELECT id FROM companies WHERE code = '${code}'`)[0][0];
}

function oldestOpen(code: string, n: number): string[][] {
  return sql(
    `SELECT number, balance::text FROM invoices WHERE company_id = ${companyId(code)} AND balance > 0 ORDER BY due_date, number LIMIT ${n}`,
  );
}

async function openCompany(page: Page, code: string, who = CLERK) {
  await signIn(page, who, STAFF_HOME);
  await page.goto(`/ops/crm/companies/${code}`);
  await waitForHydration(page);
  await expect(page.locator("[data-testid=open-invoices] tbody tr").first()).toBeVisible();
}

test("a clerk sends a pay link; the customer pays part with a new card through it, and the receipt arrives", async ({ page, browser }, testInfo) => {
  test.setTimeout(90_000);
  const code = "C1034";
  const [[n1, b1], [n2, b2]] = oldestOpen(code, 2);
  await openCompany(page, code);
  await page.getByLabel(`Select ${n1}`).check();
  await page.getByLabel(`Select ${n2}`).check();
  await page.getByRole("button", { name: "Make Payment" }).click();
  await page.getByRole("dialog", { name: "Make Payment" }).getByRole("button", { name: "Send a pay link instead" }).click();
  const send = page.getByRole("dialog", { name: "Send a pay link" });
  await send.getByRole("button", { name: "Send pay link" }).click();
  await expect(send.locator("#contact-error")).toContainText("Choose who receives the link.");
  await send.getByRole("radio").first().check();
  await checkScreen(page, "send-pay-link", testInfo);
  await send.getByRole("button", { name: "Send pay link" }).click();
  await expect(send.getByTestId("pay-link-sent")).toContainText("Pay link sent to");
  await send.getByRole("button", { name: "Done" }).click();
  const [[to, contactName]] = sql(
    `SELECT l.email, c.name FROM pay_links l JOIN contacts c ON c.id = l.contact_id WHERE l.company_id = ${companyId(code)} ORDER BY l.id DESC LIMIT 1`,
  );

  // The email, through the real SMTP server.
  const mail = await waitForMail(to, /sent you a link to pay/);
  expect(mail.from[0].name).toBe("Northwind Supply");
  expect(mail.text).toContain(n1);
  expect(mail.text).toContain(usd((Math.round((Number(b1) + Number(b2)) * 100) / 100).toFixed(2)));
  await showMail(page, mail, "pay-link", testInfo);
  const link = linkIn(mail, "/pay/");
  const token = link.split("/pay/")[1];
  expect(sql(`SELECT count(*) FROM pay_links WHERE token_hash = sha256('${token}'::bytea)`)).toEqual([["1"]]);
  expect(JSON.stringify(sql("SELECT data::text FROM emails WHERE kind = 'pay_link'"))).not.toContain(token);

  // The clerk sees it sent on the company's Pay Links tab.
  await page.getByRole("link", { name: "Pay Links" }).click();
  await waitForHydration(page);
  const linkRow = page.locator("[data-testid=pay-links] tbody tr").first();
  await expect(linkRow.getByTestId("pay-link-status")).toHaveText("Sent");

  // The customer, signed in nowhere, opens it and pays part of the first invoice with a new card.
  const customer = await (await browser.newContext()).newPage();
  await customer.goto(link);
  await waitForHydration(customer);
  await expect(customer.getByRole("heading", { name: /Pay .*'s invoices/ })).toBeVisible();
  await expect(customer.getByTestId("selection-summary")).toContainText("2 selected");
  await checkScreen(customer, "pay-link-page", testInfo);
  const part = (Math.round(Number(b1) * 50) / 100).toFixed(2);
  await customer.getByLabel(`Amount to pay on ${n1}`).fill(part);
  await customer.getByLabel(`Reason for paying less on ${n1}`).selectOption({ label: "Credit memo expected" });
  await customer.getByLabel(`Comment on paying less on ${n1}`).fill("The rest after the credit note");
  await customer.getByRole("button", { name: "Review and pay" }).click();
  const dialog = customer.getByRole("dialog", { name: "Make Payment" });
  await expect(dialog.getByLabel("Authorized by")).toHaveCount(0);
  await dialog.getByRole("button", { name: "+ Add a payment method" }).click();
  const add = customer.getByRole("dialog", { name: "Add a payment method" });
  // A bank account added here is authorized on this page, for the link's company by name.
  const company = (await customer.getByRole("heading", { name: /Pay .*'s invoices/ }).textContent())!
    .replace(/^Pay /, "")
    .replace(/'s invoices$/, "");
  await add.getByLabel("ACH bank account").check();
  await expect(add.getByTestId("authorization-text")).toContainText(
    `of ${company} for the payments I make or approve on this payment page`,
  );
  await add.getByLabel("Credit card").check();
  await add.getByLabel("Name on card").fill(contactName);
  await add.getByLabel("Card number").fill("5555555555554444");
  await add.getByLabel("Expiry (MM/YY)").pressSequentially("1230");
  await add.getByLabel("Security code").fill("123");
  await add.getByLabel("Billing postal code").fill("94107");
  await add.getByRole("button", { name: "Add", exact: true }).click();
  const pay = customer.getByRole("dialog", { name: "Make Payment" });
  await expect(pay.getByLabel(/Mastercard •••• 4444/)).toBeChecked();
  await pay.getByRole("button", { name: /Make Payment ·/ }).click();
  const receipt = customer.getByRole("dialog", { name: "Payment received" });
  await expect(receipt.getByTestId("receipt")).toContainText("paid through a link sent by Casey Clerk");
  const number = (await receipt.getByTestId("payment-number").textContent())!.trim();
  await checkScreen(customer, "pay-link-paid", testInfo);
  await receipt.getByRole("button", { name: "Done" }).click();
  await expect(customer.getByTestId("pay-link-paid")).toContainText(number);

  // Recorded as the customer's own payment, and the link is spent.
  expect(
    sql(`SELECT consent_channel, initiated_by IS NULL, amount::text FROM payments WHERE number = '${number}'`),
  ).toEqual([["pay_link", "t", (Math.round((Number(part) + Number(b2)) * 100) / 100).toFixed(2)]]);
  expect(sql(`SELECT balance::text FROM invoices WHERE number = '${n1}'`)).toEqual([[(Math.round((Number(b1) - Number(part)) * 100) / 100).toFixed(2)]]);
  await page.getByRole("button", { name: "Refresh" }).click();
  await expect(linkRow.getByTestId("pay-link-status")).toHaveText("Paid");
  await checkScreen(page, "company-pay-links", testInfo);

  // The receipt and the new-card notice reach the contact; the receipt links to its page.
  const got = await waitForMail(to, new RegExp(`Payment receipt ${number}`));
  expect(got.text).toContain(n1);
  expect(got.text).toContain("Mastercard ending in 4444");
  expect(got.text).not.toContain("5555555555554444");
  await showMail(page, got, "payment-receipt", testInfo);
  const added = await waitForMail(to, /Security notice: a payment method was added/);
  await showMail(page, added, "method-added", testInfo);
  await customer.goto(linkIn(got, "/receipts/"));
  await expect(customer.getByTestId("receipt")).toContainText(number);
  await checkScreen(customer, "receipt-by-link", testInfo);
  // Spent: the link says so and pays nothing more.
  await customer.goto(link);
  await expect(customer.getByTestId("pay-link-paid")).toBeVisible();
});

test("an admin invites a clerk, who accepts; then the clerk resets a forgotten password by email", async ({ page, browser }, testInfo) => {
  test.setTimeout(90_000);
  const address = `riley.${Date.now()}@settle.example`;
  await signIn(page, ADMIN, STAFF_HOME);
  await page.getByRole("link", { name: "Staff Users" }).click();
  await waitForHydration(page);
  await page.getByRole("button", { name: "Invite a staff user" }).click();
  const dialog = page.getByRole("dialog", { name: "Invite a staff user" });
  await dialog.getByLabel("Name").fill("Riley Park");
  await dialog.getByLabel("Email").fill("clerk@settle.example");
  await dialog.getByRole("button", { name: "Send invitation" }).click();
  await expect(dialog.locator("#email-error")).toContainText("A user with this email already exists.");
  await dialog.getByLabel("Email").fill(address);
  await dialog.getByLabel("Role").selectOption("clerk");
  await checkScreen(page, "invite-staff", testInfo);
  await dialog.getByRole("button", { name: "Send invitation" }).click();
  await expect(dialog.getByTestId("invitation-sent")).toContainText(address);
  await dialog.getByRole("button", { name: "Done" }).click();
  await expect(page.locator(`[data-user="${address}"]`)).toContainText("Invited");
  await checkScreen(page, "staff-users", testInfo);

  const invitation = await waitForMail(address, /You are invited/);
  await showMail(page, invitation, "invitation", testInfo);
  const link = linkIn(invitation, "/invite/");
  const riley = await (await browser.newContext()).newPage();
  await riley.goto(link);
  await waitForHydration(riley);
  await expect(riley.getByText(`Riley Park · ${address}`)).toBeVisible();
  await riley.getByLabel("New password").fill("riley's own passphrase");
  await riley.getByLabel("Type it again").fill("riley's own passphrase!");
  await riley.getByRole("button", { name: "Choose password and sign in" }).click();
  await expect(riley.locator("#confirm-error")).toContainText("The two passwords are not the same.");
  await checkScreen(riley, "accept-invitation", testInfo);
  await riley.getByLabel("Type it again").fill("riley's own passphrase");
  await riley.getByRole("button", { name: "Choose password and sign in" }).click();
  await expect(riley).toHaveURL(STAFF_HOME);
  // Single use.
  const again = await riley.goto(link);
  expect(again!.status()).toBe(410);
  await expect(riley.getByText("expired or was already used")).toBeVisible();

  // Forgotten: the same answer for an unknown address, a link for a known one.
  const anon = await (await browser.newContext()).newPage();
  await anon.goto("/login");
  await waitForHydration(anon);
  await anon.getByRole("link", { name: "Forgot your password?" }).click();
  await waitForHydration(anon);
  await anon.getByLabel("Email").fill("nobody@settle.example");
  await anon.getByRole("button", { name: "Email me a reset link" }).click();
  const answer = (await anon.getByTestId("reset-requested").textContent())!;
  await anon.goto("/forgot-password");
  await waitForHydration(anon);
  await anon.getByLabel("Email").fill(address);
  await anon.getByRole("button", { name: "Email me a reset link" }).click();
  await expect(anon.getByTestId("reset-requested")).toHaveText(answer);
  await checkScreen(anon, "reset-requested", testInfo);
  expect(await mailsTo("nobody@settle.example", /./)).toEqual([]);
  const reset = await waitForMail(address, /Reset your Settle password/);
  await showMail(page, reset, "password-reset", testInfo);
  await anon.goto(linkIn(reset, "/reset-password/"));
  await waitForHydration(anon);
  await anon.getByLabel("New password").fill("a new passphrase for riley");
  await anon.getByLabel("Type it again").fill("a new passphrase for riley");
  await checkScreen(anon, "reset-password", testInfo);
  await anon.getByRole("button", { name: "Save password and sign in" }).click();
  await expect(anon).toHaveURL(STAFF_HOME);
  const fresh = await (await browser.newContext()).newPage();
  await signIn(fresh, { email: address, password: "a new passphrase for riley" }, STAFF_HOME);

  // The admin makes Riley an admin, then disables Riley: signed out everywhere at once.
  await page.goto("/ops/system/staff-users");
  await waitForHydration(page);
  const row = page.locator(`[data-user="${address}"]`);
  await row.getByRole("button", { name: "Make Riley Park admin" }).click();
  const promote = page.getByRole("dialog", { name: "Make Riley Park an admin?" });
  await checkScreen(page, "staff-user-promote", testInfo);
  await promote.getByRole("button", { name: "Make admin" }).click();
  await expect(page.getByTestId("staff-message")).toHaveText("Riley Park is now an admin.");
  await expect(row).toContainText("Admin");
  await row.getByRole("button", { name: "Disable Riley Park" }).click();
  await page.getByRole("dialog", { name: "Disable this staff user?" }).getByRole("button", { name: "Disable" }).click();
  await expect(page.getByTestId("staff-message")).toHaveText("Riley Park is disabled and signed out everywhere.");
  await expect(row).toContainText("Disabled");
  await checkScreen(page, "staff-user-disabled", testInfo);
  // The admin's own row offers no change.
  await expect(page.locator('[data-user="admin@settle.example"]').getByRole("button")).toHaveCount(0);
  await fresh.reload();
  await expect(fresh).toHaveURL(/\/login/);
});

test("a returned ACH debit, an expiring card and a deactivated method are told by email", async ({ page }, testInfo) => {
  test.setTimeout(90_000);
  // ACH: C1003's bank account is the sandbox's that gets returned (R01).
  const code = "C1003";
  const [[n1]] = oldestOpen(code, 1);
  await openCompany(page, code);
  await page.getByLabel(`Select ${n1}`).check();
  await page.getByRole("button", { name: "Make Payment" }).click();
  const dialog = page.getByRole("dialog", { name: "Make Payment" });
  await dialog.getByLabel(/checking/).check();
  await dialog.getByLabel("Authorized by").selectOption("phone");
  await dialog.getByLabel("Reference").fill("Call with AP");
  await dialog.getByRole("button", { name: /Make Payment ·/ }).click();
  const number = (await page.getByRole("dialog", { name: "Payment received" }).getByTestId("payment-number").textContent())!.trim();
  const returned = await waitForMail("clerk@settle.example", new RegExp(`ACH payment returned: ${number}`));
  expect(returned.text).toContain("Insufficient funds");
  expect(returned.text).toContain(n1);
  await showMail(page, returned, "ach-returned", testInfo);
  const contact = sql(`SELECT lower(email) FROM contacts WHERE company_id = ${companyId(code)} AND email IS NOT NULL LIMIT 1`)[0][0];
  await waitForMail(contact, new RegExp(`ACH payment returned: ${number}`));

  // A card expiring at the end of this month (as the ERP or a customer left it).
  const now = new Date();
  const card = sql(
    `UPDATE payment_methods SET exp_month = ${now.getMonth() + 1}, exp_year = ${now.getFullYear()} ` +
      `WHERE id = (SELECT id FROM payment_methods WHERE company_id = ${companyId("C1038")} AND last4 = '4242') RETURNING id`,
  )[0][0];
  const c1038 = sql(`SELECT lower(email) FROM contacts WHERE company_id = ${companyId("C1038")} AND email IS NOT NULL LIMIT 1`)[0][0];
  const expiring = await waitForMail(c1038, /expires soon/);
  expect(expiring.text).toContain("Visa ending in 4242");
  await showMail(page, expiring, "card-expiring", testInfo);
  // Once a month, however often the job runs.
  await page.waitForTimeout(4_500);
  expect(sql(`SELECT count(*) FROM emails WHERE kind = 'card_expiring' AND recipient = '${c1038}'`)).toEqual([["1"]]);

  // Deactivated by a clerk: a security notice.
  await page.goto(`/ops/system/payment-methods/${card}`);
  await waitForHydration(page);
  await page.getByLabel("Activate").selectOption("inactive");
  await page.getByRole("dialog", { name: "Deactivate this payment method?" }).getByRole("button", { name: "Deactivate" }).click();
  await expect(page.getByTestId("method-status")).toHaveText("Inactive");
  const notice = await waitForMail(c1038, /a payment method was deactivated/);
  await showMail(page, notice, "method-deactivated", testInfo);
});

test("with the mail server down a receipt waits in the outbox, then goes out exactly once", async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  const code = "C1036";
  const [[n1]] = oldestOpen(code, 1);
  const contacts = sql(`SELECT DISTINCT lower(email) FROM contacts WHERE company_id = ${companyId(code)} AND email IS NOT NULL`).map((r) => r[0]);
  mailCatcher("stop");
  try {
    await openCompany(page, code);
    await page.getByLabel(`Select ${n1}`).check();
    await page.getByRole("button", { name: "Make Payment" }).click();
    const dialog = page.getByRole("dialog", { name: "Make Payment" });
    await dialog.getByLabel("Authorized by").selectOption("phone");
    await dialog.getByLabel("Reference").fill("Call with AP");
    await dialog.getByRole("button", { name: /Make Payment ·/ }).click();
    const receipt = page.getByRole("dialog", { name: "Payment received" });
    const number = (await receipt.getByTestId("payment-number").textContent())!.trim();
    await receipt.getByRole("button", { name: "Done" }).click();

    // The payment is done; its receipts wait, each with the reason.
    await page.goto(`/ops/system/email?q=${number}`);
    await waitForHydration(page);
    const rows = page.locator("[data-testid=emails] tbody tr");
    await expect(rows).toHaveCount(contacts.length);
    await expect
      .poll(async () => {
        await page.getByRole("button", { name: "Refresh" }).click();
        return (await rows.first().textContent()) ?? "";
      }, { timeout: 20_000 })
      .toContain("could not reach the mail server");
    await expect(rows.first()).toContainText("Pending");
    await checkScreen(page, "email-outbox-waiting", testInfo);
    expect(sql(`SELECT status FROM payments WHERE number = '${number}'`)).toEqual([["approved"]]);

    mailCatcher("start");
    for (const to of contacts) await waitForMail(to, new RegExp(`Payment receipt ${number}`), 60_000);
    // A while later there is still one each.
    await page.waitForTimeout(3_000);
    for (const to of contacts) expect(await mailsTo(to, new RegExp(`Payment receipt ${number}`))).toHaveLength(1);
    expect(
      sql(`SELECT status, attempts > 1 FROM emails WHERE kind = 'payment_receipt' AND data->>'id' = '${number}'`),
    ).toEqual(contacts.map(() => ["sent", "t"]));
    await page.getByRole("button", { name: "Refresh" }).click();
    await expect(rows.first()).toContainText("Sent");
    await checkScreen(page, "email-outbox", testInfo);
  } finally {
    mailCatcher("start");
  }
});
