// Browser tests of the integration screens (API keys, webhooks, imports) with a real webhook receiver.
import { spawn, ChildProcess } from "node:child_process";
import { ADMIN, test, expect, signIn, checkScreen, waitForHydration, sql, STAFF_HOME } from "./helpers";


test("an admin makes an API key, the ERP uses it, and revoking it locks it out", async ({ page, request }, testInfo) => {
  const name = `NetSuite sync ${Date.now()}`;
  await signIn(page, ADMIN, STAFF_HOME);
  await page.getByRole("link", { name: "API Keys" }).click();
  await expect(page.getByRole("heading", { name: "API Keys" })).toBeVisible();
  await waitForHydration(page);
  await page.getByRole("button", { name: "Create a key" }).click();
  const dialog = page.getByRole("dialog", { name: "Create an API key" });
  await dialog.getByRole("button", { name: "Create key" }).click();
  await expect(dialog.getByText("Name the key after what uses it")).toBeVisible();
  await dialog.getByLabel("Name (what uses it)").fill(name);
  await checkScreen(page, "api-key-create", testInfo);
  await dialog.getByRole("button", { name: "Create key" }).click();
  const secret = (await dialog.getByTestId("api-key-secret").textContent())!.trim();
  expect(secret).toMatch(/^sk_settle_[A-Za-z0-9_-]{40,}$/);
  await checkScreen(page, "api-key-secret", testInfo);
  await dialog.getByRole("button", { name: "Done" }).click();
  const row = page.locator(`tr[data-key="${name}"]`);
  await expect(row.getByTestId("last-used")).toHaveText("Never");
  expect(sql(`SELECT count(*) FROM api_keys WHERE prefix = '${secret}' OR name = '${secret}'`)[0][0]).toBe("0");

  // The ERP calls with it: a company in, read back.
  const auth = { Authorization: `Bearer ${secret}` };
  const made = await request.post("/api/v1/companies", { headers: auth, data: { id: "E2E-API", name: "API Made Co" } });
  expect([200, 201]).toContain(made.status());
  expect((await request.get("/api/v1/companies/E2E-API", { headers: auth })).status()).toBe(200);
  await page.reload();
  await expect(row.getByTestId("last-used")).toHaveText(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);

  // Revoked: the next call is refused.
  await waitForHydration(page);
  await row.getByRole("button", { name: `Revoke ${name}` }).click();
  await page.getByRole("dialog", { name: "Revoke this key?" }).getByRole("button", { name: "Revoke" }).click();
  await expect(page.getByTestId("keys-message")).toContainText("revoked");
  await expect(row).toContainText("Revoked");
  const refused = await request.get("/api/v1/payments", { headers: auth });
  expect(refused.status()).toBe(401);
  expect(refused.headers()["content-type"]).toBe("application/problem+json");
  await checkScreen(page, "api-keys", testInfo);
});

test("an admin imports invoices from CSV: preview with errors by line, all or nothing, then the valid rows", async ({ page }, testInfo) => {
  const stamp = Date.now();
  await signIn(page, ADMIN, STAFF_HOME);
  await page.goto("/ops/system/import");
  await waitForHydration(page);
  await page.getByLabel("The file holds").selectOption("invoices");

  // A file that is not comma-separated: one clear message, nothing previewed.
  await page.getByLabel("CSV file").setInputFiles({
    name: "semicolons.csv",
    mimeType: "text/csv",
    buffer: Buffer.from("company_id;number;issue_date;due_date;total\nC1003;X-1;2026-10-01;2026-11-01;10.00\n"),
  });
  await expect(page.locator("#import-file-error")).toContainText("separated by semicolons");
  await checkScreen(page, "import-bad-file", testInfo);

  const csv = [
    "Company ID,Invoice Number,PO,Issue Date,Due Date,Total",
    `C1003,IMP-${stamp}-1,PO-9,2026-10-01,2026-11-01,1250.00`,
    `C1003,IMP-${stamp}-2,,2026-10-01,2026-11-01,12.345`,
    `C1003,IMP-${stamp}-3,,10/01/2026,2026-11-01,10.00`,
    `NOPE,IMP-${stamp}-4,,2026-10-01,2026-11-01,10.00`,
    `C1003,IMP-${stamp}-1,PO-9,2026-10-01,2026-11-01,1250.00`,
    `C1003,IMP-${stamp}-5,,2026-10-01,2026-12-01,80.50`,
  ].join("\n");
  await page.getByLabel("CSV file").setInputFiles({ name: "erp-invoices.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  const preview = page.getByTestId("import-preview");
  await expect(preview).toContainText("erp-invoices.csv");
  await expect(page.getByTestId("import-counts")).toContainText("6Rows");
  await expect(page.getByTestId("import-counts")).toContainText("2To create");
  await expect(page.getByTestId("import-counts")).toContainText("4With errors");
  const errors = page.getByTestId("import-errors").locator("tbody tr");
  await expect(errors).toHaveCount(4);
  await expect(errors.nth(0)).toContainText("3total");
  await expect(errors.nth(0)).toContainText("more than 2 decimals");
  await expect(errors.nth(1)).toContainText("4issue_date");
  await expect(errors.nth(2)).toContainText("There is no company NOPE");
  await expect(errors.nth(3)).toContainText("Duplicate row: the same company and invoice number as line 2");
  expect(sql(`SELECT count(*) FROM invoices WHERE number LIKE 'IMP-${stamp}-%'`)[0][0]).toBe("0");
  await checkScreen(page, "import-preview", testInfo);

  // All or nothing: refused, nothing written.
  await page.getByLabel(/All or nothing/).check();
  await page.getByRole("button", { name: "Commit import" }).click();
  await expect(page.locator(".banner-error")).toContainText("Nothing was imported: 4 rows have errors");
  expect(sql(`SELECT count(*) FROM invoices WHERE number LIKE 'IMP-${stamp}-%'`)[0][0]).toBe("0");

  // The valid rows only.
  await page.getByLabel(/Only the valid rows/).check();
  await page.getByRole("button", { name: "Commit import" }).click();
  await expect(page.getByTestId("import-done")).toBeVisible();
  await expect(page.getByTestId("import-result")).toContainText("2Created");
  expect(sql(`SELECT number, total, balance FROM invoices WHERE number LIKE 'IMP-${stamp}-%' ORDER BY number`)).toEqual([
    [`IMP-${stamp}-1`, "1250.00", "1250.00"],
    [`IMP-${stamp}-5`, "80.50", "80.50"],
  ]);
  await checkScreen(page, "import-committed", testInfo);
});

/** Starts the project's webhook receiver; resolves with its base URL. */
async function startReceiver(): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn("node", ["tools/webhook-receiver.mjs", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout!.on("data", (d) => {
      const m = /listening on (\d+)/.exec(String(d));
      if (m) resolve(Number(m[1]));
    });
    proc.on("exit", (code) => reject(new Error(`the receiver exited (${code})`)));
  });
  return { url: `http://127.0.0.1:${port}`, proc };
}

test("a signed webhook reaches a receiver that fails twice, with the attempts in the delivery log", async ({ page, request }, testInfo) => {
  test.setTimeout(90_000);
  const receiver = await startReceiver();
  try {
    await signIn(page, ADMIN, STAFF_HOME);
    await page.goto("/ops/system/webhooks");
    await waitForHydration(page);
    await expect(page.getByText("No webhook endpoints")).toBeVisible();
    await page.getByRole("button", { name: "Add an endpoint" }).click();
    const dialog = page.getByRole("dialog", { name: "Add a webhook endpoint" });
    await dialog.getByLabel("Endpoint URL").fill("ftp://nowhere");
    await dialog.getByRole("button", { name: "Add endpoint" }).click();
    await expect(dialog.locator("#url-error")).toContainText("https://");
    await dialog.getByLabel("Endpoint URL").fill(`${receiver.url}/hook`);
    await dialog.getByLabel("Description (optional)").fill("ERP cash application");
    await checkScreen(page, "webhook-add", testInfo);
    await dialog.getByRole("button", { name: "Add endpoint" }).click();
    await expect(page).toHaveURL(/\/ops\/system\/webhooks\/\d+$/);
    const endpointUrl = page.url();
    const secret = (await page.getByTestId("webhook-secret").textContent())!.trim();
    expect(secret).toMatch(/^whsec_/);
    await request.post(`${receiver.url}/config`, { data: { secret, failFirst: 2 } });

    // An event: the saved card of C1025 (a company no other test pays) is deactivated.
    const [method] = sql("SELECT m.id FROM payment_methods m JOIN companies c ON c.id = m.company_id WHERE c.code = 'C1025' AND m.active ORDER BY m.id LIMIT 1")[0];
    await page.goto(`/ops/system/payment-methods/${method}`);
    await waitForHydration(page);
    await page.getByLabel("Activate").selectOption("inactive");
    await page.getByRole("dialog", { name: "Deactivate this payment method?" }).getByRole("button", { name: "Deactivate" }).click();
    await expect(page.getByTestId("method-status")).toHaveText("Inactive");

    // The receiver failed twice on purpose; the third attempt is accepted and verified.
    await expect
      .poll(async () => (await (await request.get(`${receiver.url}/received`)).json()).events.length, { timeout: 30_000 })
      .toBeGreaterThan(0);
    const got = await (await request.get(`${receiver.url}/received`)).json();
    expect(got.rejected).toBe(0);
    const ev = got.events[0];
    expect(ev.type).toBe("method.deactivated");
    expect(ev.attempt).toBe(3);
    expect(ev.id).toBe(ev.headerId);
    expect(ev.data.company.id).toBe("C1025");
    expect(ev.data.active).toBe(false);
    expect(JSON.stringify(ev.data)).not.toContain("tok_");

    await page.goto(endpointUrl);
    await waitForHydration(page);
    const row = page.locator(`tr[data-event="${ev.id}"]`);
    await expect(row.getByTestId("delivery-status")).toHaveText("Delivered");
    await expect(row.getByTestId("delivery-attempts")).toHaveText("3");
    await checkScreen(page, "webhook-delivery-log", testInfo);

    // A manual retry delivers the same event again; the receiver sees it as a duplicate.
    await row.getByRole("button", { name: `Retry ${ev.id}` }).click();
    await expect
      .poll(async () => (await (await request.get(`${receiver.url}/received`)).json()).events.length, { timeout: 30_000 })
      .toBe(2);
    const again = (await (await request.get(`${receiver.url}/received`)).json()).events[1];
    expect([again.id, again.duplicate]).toEqual([ev.id, true]);

    // Tidy up: the card active again, the endpoint off.
    await page.goto(`/ops/system/payment-methods/${method}`);
    await waitForHydration(page);
    await page.getByLabel("Activate").selectOption("active");
    await page.getByRole("dialog", { name: "Activate this payment method?" }).getByRole("button", { name: "Activate" }).click();
    await expect(page.getByTestId("method-status")).toHaveText("Active");
    await page.goto(endpointUrl);
    await waitForHydration(page);
    await page.getByRole("button", { name: "Turn off" }).click();
    await expect(page.getByRole("button", { name: "Turn on" })).toBeVisible();
  } finally {
    receiver.proc.kill();
  }
});

test("staff see every company's payments, filter them and export the same rows as CSV", async ({ page }, testInfo) => {
  await signIn(page, { email: "clerk@settle.example", password: "demo-clerk-pass" }, STAFF_HOME);
  await expect(page.getByRole("link", { name: "API Keys" })).toHaveCount(0);
  await page.getByRole("link", { name: "All Payments" }).click();
  await expect(page.getByRole("heading", { name: "All payments" })).toBeVisible();
  await waitForHydration(page);
  const total = Number(sql("SELECT count(*) FROM payments")[0][0]);
  await expect(page.locator(".pager-range")).toContainText(`of ${total.toLocaleString("en-US")}`);
  await checkScreen(page, "payments-all", testInfo);

  await page.getByLabel("Status").selectOption("settled");
  await page.getByLabel("Method").selectOption("ach");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/status=settled/);
  const expected = sql(
    "SELECT p.number FROM payments p JOIN payment_methods m ON m.id = p.method_id WHERE p.status = 'settled' AND m.kind = 'ach' ORDER BY p.created_at DESC, p.id DESC",
  ).map((r) => r[0]);
  const rows = page.getByTestId("all-payments").locator("tbody tr");
  await expect(rows).toHaveCount(Math.min(expected.length, 50));
  if (expected.length > 0) await expect(rows.first()).toHaveAttribute("data-payment", expected[0]);

  // The export: the same rows and the screen's columns.
  const href = await page.getByTestId("export-csv").getAttribute("href");
  expect(href).toContain("status=settled");
  const csv = await page.request.get(href!);
  expect(csv.status()).toBe(200);
  expect(csv.headers()["content-type"]).toContain("text/csv");
  const lines = (await csv.text()).trim().split("\n");
  expect(lines[0]).toBe("Payment,Date (UTC),Status,Company ID,Company,Method,Invoices,Short-pay reasons,Amount,Card surcharge,On account,Currency,Taken by,Authorization,Refunded,Refunds,Dispute");
  expect(lines.slice(1).map((l) => l.split(",")[0])).toEqual(expected);

  // A wrong range is named at its field.
  await page.goto("/ops/payments?from=2026-11-30&to=2026-11-01");
  await expect(page.locator("#to-error")).toContainText("before the first day");
  await checkScreen(page, "payments-filter-error", testInfo);
});
