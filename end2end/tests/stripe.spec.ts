// Browser tests with Stripe as the gateway (a second server, SETTLE_GATEWAY=stripe, against
// Stripe's API as its published description defines it: scripts/stripe-mock.py). Stripe.js
// cannot load here: its address is routed to end2end/stripe/stripe-js-stand-in.js, which makes
// only the documented calls Settle uses.
import { Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test, expect, CLERK, CUSTOMER, checkScreen, fillPortalBankAccount, signIn, waitForHydration, STAFF_HOME } from "./helpers";

const STRIPE_URL = process.env.STRIPE_E2E_URL;
const MOCK = process.env.STRIPE_MOCK_URL ?? "";
test.use({ baseURL: STRIPE_URL });

function sql(query: string): string[][] {
  const url = process.env.STRIPE_E2E_DATABASE_URL;
  if (!url) throw new Error("STRIPE_E2E_DATABASE_URL is not set");
  return execFileSync("psql", [url, "-tA", "-F", "\t", "-c", query], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => l.split("\t"));
}

async function standInStripeJs(page: Page) {
  const body = readFileSync(join(__dirname, "../stripe/stripe-js-stand-in.js"), "utf8").replaceAll(
    "__STRIPE_API_BASE__",
    MOCK,
  );
  await page.route("https://js.stripe.com/v3/", (route) =>
    route.fulfill({ status: 200, contentType: "application/javascript", body }),
  );
}

test("with Stripe, a clerk adds a card in Stripe's field and pays with it", async ({ page }, testInfo) => {
  test.skip(!STRIPE_URL, "the Stripe server is started by scripts/e2e-stripe.sh");
  await standInStripeJs(page);
  const code = "C1007";
  const [[invoice]] = sql(
    `SELECT number FROM invoices WHERE company_id = (SELECT id FROM companies WHERE code = '${code}') ` +
      `AND balance > 0 ORDER BY due_date, number LIMIT 1`,
  );
  await signIn(page, CLERK, STAFF_HOME);
  await page.goto(`/ops/crm/companies/${code}`);
  await waitForHydration(page);
  await page.getByLabel(`Select ${invoice}`).check();
  await page.getByRole("button", { name: "Make Payment" }).click();
  const dialog = page.getByRole("dialog", { name: "Make Payment" });
  await dialog.getByRole("button", { name: "+ Add a payment method" }).click();
  const add = page.getByRole("dialog", { name: "Add a payment method" });

  // Stripe's field instead of Settle's: the number never goes through Settle's own inputs.
  const field = add.locator("#stripe-card");
  await expect(field.getByLabel("Card number")).toBeVisible();
  await expect(add.getByLabel("Card number", { exact: true })).toHaveCount(1);
  await expect(add.locator("input[name=card_number]")).toHaveCount(0);
  await field.getByLabel("Card number").fill("4000 0566");
  await expect(add.locator("#card_number-error")).toHaveText(/Your card number is incomplete/);
  await add.getByLabel("Name on card").fill("Robin Ortega");
  await field.getByLabel("Card number").fill("4000056655665556");
  await expect(add.locator("#card_number-error")).toBeEmpty();
  await field.getByLabel("Expiration date MM / YY").fill("12 / 30");
  await field.getByLabel("CVC").fill("123");
  await field.getByLabel("ZIP").fill("94107");
  await checkScreen(page, "stripe-add-card", testInfo);
  await add.getByRole("button", { name: "Add", exact: true }).click();

  const back = page.getByRole("dialog", { name: "Make Payment" });
  await expect(back.getByLabel(/Visa •••• 5556/)).toBeChecked();
  await back.getByLabel("Authorized by").selectOption("phone");
  await back.getByLabel("Reference").fill("Robin Ortega on the phone");
  await back.getByRole("button", { name: /Make Payment ·/ }).click();
  const receipt = page.getByRole("dialog", { name: "Payment received" });
  await expect(receipt).toContainText("Visa •••• 5556");
  await checkScreen(page, "stripe-receipt", testInfo);
  await receipt.getByRole("button", { name: "Done" }).click();

  // Saved as Stripe's PaymentMethod with its funding; paid by a PaymentIntent.
  const [[token, gateway, funding, customer]] = sql(
    `SELECT m.gateway_token, m.gateway, m.card_funding, c.stripe_customer FROM payment_methods m ` +
      `JOIN companies c ON c.id = m.company_id WHERE c.code = '${code}' ORDER BY m.id DESC LIMIT 1`,
  );
  expect(token).toMatch(/^pm_/);
  expect([gateway, funding]).toEqual(["stripe", "debit"]);
  expect(customer).toMatch(/^cus_/);
  const [[status, charge]] = sql(
    `SELECT status, gateway_charge_id FROM payments WHERE company_id = ` +
      `(SELECT id FROM companies WHERE code = '${code}') ORDER BY id DESC LIMIT 1`,
  );
  expect(status).toBe("approved");
  expect(charge).toMatch(/^pi_/);

  // Deposits read Stripe's balance transactions: the charge is matched by its intent, with
  // the fee Stripe took (2.9 % + $0.30).
  const [[today, amount]] = sql(
    `SELECT seller_today(), amount + surcharge FROM payments WHERE gateway_charge_id = '${charge}'`,
  );
  await page.goto(`/ops/reports/deposits/${today}/card`);
  await expect(page.getByText(/compared with Stripe's balance transactions/)).toBeVisible();
  const row = page.getByTestId("deposit-items").locator("tr", { hasText: charge });
  await expect(row).toContainText("Matched");
  const fee = (Math.round(Number(amount) * 2.9) / 100 + 0.3).toFixed(2);
  await expect(row).toContainText(`$${fee}`);
  await checkScreen(page, "deposits-stripe", testInfo);

  // Every request, from the server and from the stand-in in the browser, as the description allows.
  const report = await (await fetch(`${MOCK}/_mock/report`)).json();
  expect(report.violations).toEqual([]);
  expect(report.answers_invalid).toEqual([]);
  const browser = report.requests.filter((r: any) => r.key.startsWith("pk_")).length;
  console.log(`Stripe description: ${report.validated} requests validated (${browser} from the browser), 0 violations`);
});

test("with Stripe, a customer adds a bank account in the portal; its mandate is the authorization agreed there", async ({ page }, testInfo) => {
  test.skip(!STRIPE_URL, "the Stripe server is started by scripts/e2e-stripe.sh");
  await standInStripeJs(page);
  await signIn(page, CUSTOMER, /\/portal$/);
  const add = await fillPortalBankAccount(page, "000444555666", "savings");
  const before = (await (await fetch(`${MOCK}/_mock/report`)).json()).requests.length;
  await add.getByRole("button", { name: "Add", exact: true }).click();
  await expect(page.getByTestId("methods-message")).toContainText("•••• 5666");
  await checkScreen(page, "stripe-portal-ach", testInfo);

  const [[token, gateway, sha]] = sql(
    `SELECT m.gateway_token, m.gateway, encode(d.sha256, 'hex') FROM payment_methods m ` +
      `JOIN documents d ON d.id = m.authorization_document_id ` +
      `WHERE m.last4 = '5666' AND m.company_id = (SELECT id FROM companies WHERE code = 'C1001')`,
  );
  expect(token).toMatch(/^pm_/);
  expect(gateway).toBe("stripe");
  // Stripe got the PaymentMethod from Settle's tokenizer, then a SetupIntent confirmed with
  // the mandate (online: the address and browser it was agreed from); nothing refused.
  const report = await (await fetch(`${MOCK}/_mock/report`)).json();
  const made = report.requests.slice(before).map((r: any) => `${r.method} ${r.operation}`);
  expect(made).toEqual(
    expect.arrayContaining([
      "POST /v1/payment_methods",
      "POST /v1/payment_methods/{payment_method}",
      "POST /v1/setup_intents",
    ]),
  );
  expect(report.violations).toEqual([]);
  expect(sha).toMatch(/^[0-9a-f]{64}$/);
});

/** Stripe's `Stripe-Signature` for `body` at `t`, computed with Node's crypto as Stripe documents it. */
function stripeSignature(secret: string, t: number, body: string): string {
  return `t=${t},v1=${createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")}`;
}

test("with Stripe, signed events reach /webhooks/stripe over HTTP, and a dispute shows on the payment", async ({ page, request }, testInfo) => {
  test.skip(!STRIPE_URL, "the Stripe server is started by scripts/e2e-stripe.sh");
  const secret = process.env.STRIPE_WEBHOOK_SECRET ?? "";
  // The card payment the first test made, as Stripe holds it.
  const [[number, intent, key]] = sql(
    `SELECT number, gateway_charge_id, idempotency_key FROM payments WHERE gateway_charge_id LIKE 'pi_%' ORDER BY id DESC LIMIT 1`,
  );
  const fixtures = JSON.parse(readFileSync(join(__dirname, "../../server/tests/stripe/fixtures3.json"), "utf8"));
  const now = Math.floor(Date.now() / 1000);
  const send = (body: string, signature: string) =>
    request.post("/webhooks/stripe", { data: body, headers: { "Content-Type": "application/json", "Stripe-Signature": signature } });
  const event = (id: string, type: string, object: unknown) =>
    JSON.stringify({ ...fixtures.resources.event, id, type, created: now, data: { object } });

  const pi = { ...fixtures.resources.payment_intent, id: intent, status: "succeeded", metadata: { settle_key: key } };
  const body = event("evt_e2e_1", "payment_intent.succeeded", pi);
  // Unsigned, stale and tampered: refused with the reason, nothing recorded.
  expect((await send(body, "")).status()).toBe(400);
  const stale = await send(body, stripeSignature(secret, now - 400, body));
  expect(stale.status()).toBe(400);
  expect(await stale.text()).toContain("s away from now");
  expect((await send(body.replace("succeeded", "canceled"), stripeSignature(secret, now, body))).status()).toBe(400);
  // Signed: received once (the payment was already approved), then a replay.
  const ok = await send(body, stripeSignature(secret, now, body));
  expect(ok.status()).toBe(200);
  expect(await ok.json()).toEqual({ received: true, outcome: "already" });
  expect(await (await send(body, stripeSignature(secret, now, body))).json()).toEqual({ received: true, outcome: "replayed" });

  // A dispute: kept on the payment and shown on its receipt.
  const dispute = {
    ...fixtures.resources.dispute,
    id: "dp_e2e_1",
    amount: 2500,
    reason: "fraudulent",
    status: "needs_response",
    payment_intent: intent,
    evidence_details: { ...fixtures.resources.dispute.evidence_details, due_by: now + 7 * 86400 },
  };
  const opened = event("evt_e2e_2", "charge.dispute.created", dispute);
  expect(await (await send(opened, stripeSignature(secret, now, opened))).json()).toEqual({ received: true, outcome: "recorded" });
  expect(sql("SELECT id, status FROM payment_disputes")).toEqual([["dp_e2e_1", "needs_response"]]);

  await signIn(page, CLERK, STAFF_HOME);
  await page.goto(`/ops/crm/companies/C1007/payments`);
  await waitForHydration(page);
  await page.getByRole("button", { name: `Receipt ${number}` }).click();
  const receipt = page.getByRole("dialog", { name: "Receipt" });
  await expect(receipt.getByTestId("dispute")).toContainText("Disputed $25.00 (fraudulent): needs response, evidence due");
  await checkScreen(page, "stripe-payment-disputed", testInfo);
});
