// Browser test of Reports → ACH authorizations: the list, a filter refused where it was typed,
// and the zip downloaded and read back by Python's zipfile and csv (independent readers): every
// authorization's file is there with the SHA-256 the index gives, and the export is audited.
import { execFileSync } from "node:child_process";
import { test, expect, CLERK, checkScreen, sql, waitForHydration, signedInPage, STAFF_HOME } from "./helpers";

test("staff list every ACH authorization and download them as one audited zip with an index", async ({ browser }, testInfo) => {
  test.setTimeout(60_000);
  const clerk = await signedInPage(browser, CLERK, STAFF_HOME);
  await clerk.getByRole("link", { name: "ACH authorizations" }).click();
  await expect(clerk).toHaveURL(/\/ops\/reports\/authorizations$/);
  await expect(clerk.getByRole("heading", { level: 1, name: "ACH authorizations" })).toBeVisible();
  const [[all]] = sql(
    "SELECT count(*) FROM payment_methods WHERE kind = 'ach' AND (deactivated_at IS NULL OR deactivated_at > now() - interval '730 days')",
  );
  await expect(clerk.getByTestId("authorizations-count")).toHaveText(`${all} authorizations match.`);
  await checkScreen(clerk, "authorizations", testInfo);

  // A day that is not one is refused at its field.
  await clerk.goto("/ops/reports/authorizations?from=2026-13-01");
  await waitForHydration(clerk);
  await expect(clerk.locator("#from-error")).toHaveText(/Enter the day as YYYY-MM-DD/);
  await expect(clerk.getByLabel("Given from")).toHaveAttribute("aria-invalid", "true");

  // One company's, downloaded.
  await clerk.goto("/ops/reports/authorizations");
  await waitForHydration(clerk);
  await clerk.getByLabel("Company ID").fill("C1002");
  await clerk.getByRole("button", { name: "Show" }).click();
  await expect(clerk).toHaveURL(/company=C1002/);
  const [[mine]] = sql(
    "SELECT count(*) FROM payment_methods WHERE kind = 'ach' AND company_id = (SELECT id FROM companies WHERE code = 'C1002') AND (deactivated_at IS NULL OR deactivated_at > now() - interval '730 days')",
  );
  await expect(clerk.getByTestId("authorizations-count")).toHaveText(`${mine} authorizations match.`);
  await expect(clerk.getByTestId("authorizations").locator("tbody tr")).toHaveCount(Number(mine));
  const [download] = await Promise.all([clerk.waitForEvent("download"), clerk.getByTestId("authorizations-zip").click()]);
  expect(download.suggestedFilename()).toMatch(/^ach-authorizations-\d{4}-\d{2}-\d{2}-C1002\.zip$/);
  const path = testInfo.outputPath("authorizations.zip");
  await download.saveAs(path);
  const read = JSON.parse(
    execFileSync(`${process.env.VENV ?? "../.data/venv"}/bin/python`, ["../scripts/zip-check.py", path], { encoding: "utf8" }),
  );
  expect(read.corrupt).toBeNull();
  expect(read.index).toHaveLength(Number(mine));
  expect(read.files).toContain("index.csv");
  for (const row of read.index) {
    expect(row.company_code).toBe("C1002");
    expect(row.in_zip, row.file).toBe(true);
    expect(row.file_sha256).toBe(row.sha256);
    const [[kept]] = sql(
      `SELECT encode(d.sha256, 'hex') FROM payment_methods m JOIN documents d ON d.id = m.authorization_document_id WHERE m.id = ${Number(row.method_id)}`,
    );
    expect(row.sha256).toBe(kept);
  }
  const [[audited, count]] = sql(
    "SELECT details->>'company', details->>'authorizations' FROM audit_events WHERE action = 'export.ach_authorizations' ORDER BY id DESC LIMIT 1",
  );
  expect([audited, count]).toEqual(["C1002", mine]);
});
