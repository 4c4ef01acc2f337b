import { APIRequestContext } from "@playwright/test";
import { test, expect, CLERK, sql } from "../tests/helpers";

/**
 * Settle as it is deployed: two instances on one PostgreSQL behind HAProxy. Sessions and the
 * tokenizer's rate limit hold across instances, and killing an instance in the middle of a
 * payment load loses and doubles nothing.
 */

function pids(): number[] {
  return (process.env.CLUSTER_PIDS ?? "").split(",").filter(Boolean).map(Number);
}

/** Signs in as a client should: a 503 (too many password checks at once) is tried again after its Retry-After. */
async function signIn(request: APIRequestContext, who: { email: string; password: string }) {
  for (let attempt = 0; ; attempt++) {
    const res = await request.post("/api/login", {
      form: { email: who.email, password: who.password },
      headers: { Accept: "application/json" },
      maxRedirects: 0,
    });
    if (res.status() === 503 && attempt < 10) {
      await new Promise((r) => setTimeout(r, 1000 * Number(res.headers()["retry-after"] ?? "1")));
      continue;
    }
    expect(res.status()).toBeLessThan(400);
    return;
  }
}

test("a session and the tokenizer's limit hold across instances", async ({ playwright }) => {
  expect(pids().length).toBeGreaterThanOrEqual(2);
  const request = await playwright.request.newContext({ baseURL: test.info().project.use.baseURL });
  await signIn(request, { email: "admin@settle.example", password: "demo-admin-pass" });
  // Round robin: consecutive calls land on every instance, all signed in.
  for (let i = 0; i < 8; i++) {
    const res = await request.post("/api/current_user", { form: {}, headers: { Accept: "application/json" } });
    expect((await res.json()).email).toBe("admin@settle.example");
  }
  // The limit counts every instance's tokenizations together.
  const card = {
    type: "card", number: "4242 4242 4242 4242", exp_month: 12, exp_year: 2030,
    cvc: "123", postal_code: "94107", holder_name: "Dana Payer",
  };
  const statuses: number[] = [];
  for (let i = 0; i < 22; i++) {
    statuses.push((await request.post("/sandbox-gateway/v1/tokens", { data: card })).status());
  }
  expect(statuses.filter((s) => s === 200).length).toBe(20);
  expect(statuses.slice(20)).toEqual([429, 429]);
  await request.dispose();
});

test("killing an instance during a payment load loses and doubles nothing", async ({ playwright }) => {
  const baseURL = test.info().project.use.baseURL;
  // Open invoices with each company's Visa 4242, one invoice per payment.
  const work = sql(
    `SELECT c.code, i.id, m.id, i.balance::text FROM invoices i JOIN companies c ON c.id = i.company_id ` +
      `JOIN payment_methods m ON m.company_id = c.id AND m.last4 = '4242' WHERE i.balance > 0 ORDER BY i.id`,
  );
  const before = sql("SELECT sum(balance)::text FROM invoices")[0][0];
  const clients = 8;
  const answered = new Map<string, string>();
  let retried = 0;
  const killAt = Date.now() + 2_500;
  const stopAt = Date.now() + 8_000;
  let killed = false;
  const victim = pids()[0];

  const payer = async (n: number) => {
    const request = await playwright.request.newContext({ baseURL });
    await signIn(request, CLERK);
    for (let w = n; w < work.length && Date.now() < stopAt; w += clients) {
      const [code, invoice, method, balance] = work[w];
      const key = crypto.randomUUID();
      const body = { payment: {
        company: code, method_id: Number(method),
        lines: [{ invoice_id: Number(invoice), amount: { amount: balance, currency: "USD" }, short_pay_reason: "" }],
        consent_channel: "phone", consent_reference: "Load test", idempotency_key: key,
      } };
      if (!killed && Date.now() > killAt) {
        killed = true;
        process.kill(victim, "SIGKILL");
      }
      // As the dialog does: a lost answer is asked again with the same key.
      for (let attempt = 0; attempt < 20; attempt++) {
        let res;
        try {
          res = await request.post("/api/pay_invoices", { data: body, headers: { Accept: "application/json" } });
        } catch {
          retried++;
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        const text = await res.text();
        if (res.status() >= 500 || text.includes("still being processed")) {
          retried++;
          await new Promise((r) => setTimeout(r, 300));
          continue;
        }
        answered.set(key, `${res.status()} ${text.slice(0, 40)}`);
        break;
      }
    }
    await request.dispose();
  };
  await Promise.all(Array.from({ length: clients }, (_, n) => payer(n)));
  expect(killed, "an instance was killed during the load").toBe(true);
  const ok = [...answered.values()].filter((a) => a.startsWith("200")).length;
  console.log(`payments answered: ${answered.size} (${ok} paid), retried after the kill: ${retried}`);
  expect(ok).toBeGreaterThan(20);

  // The survivor's reconciler finishes whatever the dead instance left processing.
  await expect
    .poll(() => sql("SELECT count(*) FROM payments WHERE status = 'processing'")[0][0], { timeout: 60_000 })
    .toBe("0");
  // The ledger: what was paid is exactly what left the balances; every payment charged once.
  const [[paid, charges, approved, doubled]] = sql(
    `SELECT (SELECT COALESCE(sum(amount), 0)::text FROM payments WHERE idempotency_key IS NOT NULL AND status = 'approved'), ` +
      `(SELECT count(*) FROM sandbox_charges WHERE status = 'approved'), ` +
      `(SELECT count(*) FROM payments WHERE idempotency_key IS NOT NULL AND status = 'approved'), ` +
      `(SELECT count(*) FROM (SELECT idempotency_key FROM payments WHERE status <> 'failed' AND idempotency_key IS NOT NULL ` +
      `GROUP BY 1 HAVING count(*) > 1) d)`,
  );
  const after = sql("SELECT sum(balance)::text FROM invoices")[0][0];
  expect(Number(before) - Number(after)).toBeCloseTo(Number(paid), 2);
  expect(charges).toBe(approved);
  expect(doubled).toBe("0");
  // Each company's kept figures still add up to its open invoices.
  const [[figuresOff]] = sql(
    "SELECT count(*) FROM (SELECT company_id, sum(balance) AS b, count(*) AS n FROM invoices WHERE balance > 0 " +
      "GROUP BY company_id) x FULL JOIN company_balances c USING (company_id) " +
      "WHERE COALESCE(x.b, 0) <> COALESCE(c.open_balance, 0) OR COALESCE(x.n, 0) <> COALESCE(c.open_invoices, 0)",
  );
  expect(figuresOff).toBe("0");
  // Every key answered "paid" has exactly one approved payment.
  for (const [key, answer] of answered) {
    if (!answer.startsWith("200")) continue;
    expect(sql(`SELECT count(*) FROM payments WHERE idempotency_key = '${key}' AND status = 'approved'`)[0][0]).toBe("1");
  }
  // And the other instance kept serving.
  const check = await playwright.request.newContext({ baseURL });
  expect((await check.get("/login")).status()).toBe(200);
  await check.dispose();
});
