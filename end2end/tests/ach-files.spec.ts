// Browser test of the NACHA rail (this server runs with SETTLE_ACH_RAIL=nacha): a customer's ACH
// payment waits for the next file, an admin writes it from System → ACH Files, the file in the
// outbox folder is read whole by the independent parser (achkit), and the bank's return file
// (written by achkit) is read from the inbox: the payment is returned and an unknown trace is
// shown to staff.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ADMIN, test, expect, CUSTOMER, checkScreen, fillPortalBankAccount, signIn, sql, waitForHydration, STAFF_HOME } from "./helpers";

const python = join(__dirname, "../../.data/venv/bin/python");
const scripts = join(__dirname, "../../scripts");

function folder(name: "ACH_OUTBOX" | "ACH_INBOX"): string {
  const dir = process.env[name];
  if (!dir) throw new Error(`${name} is not set (scripts/e2e-server.sh sets it)`);
  return dir;
}

test("an ACH payment goes to the bank in a file and the bank's return comes back", async ({ page }, testInfo) => {
  // The customer saves a bank account, authorizing it in the portal, and pays with it.
  await signIn(page, CUSTOMER, /\/portal$/);
  const add = await fillPortalBankAccount(page, "000246813579");
  await add.getByRole("button", { name: "Add", exact: true }).click();
  await expect(page.getByTestId("methods-message")).toContainText("•••• 3579");
  // Settle keeps the last four and the rail's token; the number is sealed in the rail's vault.
  expect(sql("SELECT gateway_token LIKE 'nacha_ba_%', last4 FROM payment_methods WHERE last4 = '3579'")).toEqual([["t", "3579"]]);

  await page.goto("/portal");
  await waitForHydration(page);
  const [, invoice] = sql(
    "SELECT id, number FROM invoices WHERE company_id = (SELECT id FROM companies WHERE code = 'C1001') " +
      "AND balance > 0 ORDER BY due_date, number LIMIT 1",
  )[0];
  await page.getByLabel(`Select ${invoice}`).check();
  await page.getByRole("button", { name: "Make Payment" }).click();
  const dialog = page.getByRole("dialog", { name: "Make Payment" });
  await dialog.getByLabel(/checking •••• 3579/).check();
  await dialog.getByRole("button", { name: /Make Payment ·/ }).click();
  const receipt = page.getByRole("dialog", { name: "Payment received" });
  const number = (await receipt.getByTestId("payment-number").textContent())!.trim();
  await expect(receipt.getByTestId("receipt")).toContainText("Pending");
  await receipt.getByRole("button", { name: "Done" }).click();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);

  // The admin sees it waiting and writes the file now.
  await signIn(page, ADMIN, STAFF_HOME);
  await page.getByRole("link", { name: "ACH Files" }).click();
  await expect(page.getByRole("heading", { name: "ACH files" })).toBeVisible();
  await waitForHydration(page);
  await expect(page.getByTestId("ach-waiting")).toContainText(/[1-9]\d* debits? waiting/);
  await checkScreen(page, "ach-files-waiting", testInfo);
  await page.getByRole("button", { name: "Write a file now" }).click();
  await expect(page.getByTestId("ach-message")).toContainText(/File settle-\d{8}-\d{4}-[A-Z0-9]\.ach written/);
  await expect(page.getByTestId("ach-waiting")).toContainText("0 debits waiting");
  const [[trace, fileName]] = sql(
    "SELECT e.trace, f.name FROM ach_entries e JOIN ach_files f ON f.id = e.file_id " +
      `JOIN payments p ON p.gateway_key = e.gateway_key WHERE p.number = '${number}'`,
  );
  const row = page.getByTestId("ach-files").locator(`tr[data-file="${fileName}"]`);
  await expect(row).toBeVisible();

  // The file in the outbox folder, read whole by achkit.
  expect(readdirSync(folder("ACH_OUTBOX"))).toContain(fileName);
  const verdict = JSON.parse(execFileSync(python, [join(scripts, "nacha-check.py"), join(folder("ACH_OUTBOX"), fileName)], { encoding: "utf8" }));
  expect(verdict.ok).toBe(true);
  expect(verdict.traces).toContain(trace);

  await row.getByRole("link", { name: `Debits in ${fileName}` }).click();
  const entry = page.getByTestId("ach-entries").locator(`tr[data-trace="${trace}"]`);
  await expect(entry).toContainText(number);
  // A business account (the form's default holder type): CCD.
  await expect(entry).toContainText("CCD");
  await expect(entry).toContainText("…3579");
  await checkScreen(page, "ach-file-debits", testInfo);

  // The bank returns it (R01) and sends a trace Settle never sent.
  const spec = join(mkdtempSync(join(tmpdir(), "settle-ach-")), "spec.json");
  writeFileSync(
    spec,
    JSON.stringify({
      odfi: "021000021",
      notices: [
        { kind: "return", code: "R01", trace, routing: "110000000", account: "000246813579", cents: 1 },
        { kind: "return", code: "R03", trace: "021000029999999", routing: "110000000", account: "1", cents: 1 },
      ],
    }),
  );
  execFileSync(python, [join(scripts, "ach-returns.py"), spec, join(folder("ACH_INBOX"), "returns.ach")]);
  await page.locator(".breadcrumbs").getByRole("link", { name: "ACH files" }).click();
  const notices = page.getByTestId("ach-notices");
  await expect(async () => {
    await page.getByRole("button", { name: "Refresh" }).click();
    await expect(notices.locator(`tr[data-trace="${trace}"]`)).toContainText(number, { timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  await expect(notices.locator(`tr[data-trace="${trace}"]`)).toContainText("Insufficient funds");
  await expect(notices.locator('tr[data-trace="021000029999999"]')).toContainText("Unknown trace");
  await checkScreen(page, "ach-files-returns", testInfo);
  expect(sql(`SELECT status, failure_code FROM payments WHERE number = '${number}'`)).toEqual([["returned", "R01"]]);
});
