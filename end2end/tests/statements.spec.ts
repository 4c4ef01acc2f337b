// Browser tests of customer statements: staff download a company's PDF from its page (read back
// by poppler's pdftotext, its first page rendered by pdftoppm as the screenshot), its pay link
// opens the company's invoices without an account; a customer downloads their own from the
// portal; an admin schedules the monthly email and last month's statement arrives at the mail
// catcher with the PDF attached.
import { Page, TestInfo } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { ADMIN, CLERK, CUSTOMER, checkScreen, expect, signedInPage, sql, test, waitForHydration, STAFF_HOME } from "./helpers";
import { showMail, waitForMail } from "./mail";

const CODE = "C1007";
const MAIL = process.env.MAIL_URL ?? "http://127.0.0.1:1180";

/** The PDF's text as pdftotext lays it out. */
function pdfText(path: string): string {
  return execFileSync("pdftotext", ["-layout", path, "-"], { encoding: "utf8" });
}

/** Downloads the statement the page's form gives for `month` (empty: this month). */
async function download(page: Page, month: string, testInfo: TestInfo, name: string): Promise<string> {
  if (month) await page.getByLabel("Statement for").fill(month);
  const [file] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download PDF" }).click()]);
  const path = testInfo.outputPath(name);
  await file.saveAs(path);
  expect(file.suggestedFilename()).toMatch(/^statement-C\d+-\d{4}-\d{2}\.pdf$/);
  return path;
}

test("staff download a statement with a pay link, customers their own, and the schedule emails last month's", async ({ browser }, testInfo) => {
  test.setTimeout(120_000);
  const [[name, month]] = sql(`SELECT name, to_char(seller_today(), 'YYYY-MM') FROM companies WHERE code = '${CODE}'`);

  // Staff: the company's page, this month's statement.
  const clerk = await signedInPage(browser, CLERK, STAFF_HOME);
  await clerk.goto(`/ops/crm/companies/${CODE}`);
  await waitForHydration(clerk);
  await checkScreen(clerk, "company-statement-form", testInfo);
  const path = await download(clerk, month, testInfo, "statement.pdf");
  const text = pdfText(path);
  expect(text).toContain(name);
  expect(text).toContain(`Company ID ${CODE}`);
  const [[open, invoices]] = sql(
    `SELECT count(*), string_agg(number, ' ') FROM invoices WHERE company_id = (SELECT id FROM companies WHERE code = '${CODE}') AND status = 'open' AND balance > 0`,
  );
  expect(text).toContain(`Open invoices (${open})`);
  for (const n of invoices.split(" ")) expect(text).toContain(n);
  // Its first page as a reader shows it: the screenshot.
  const png = testInfo.outputPath("statement");
  execFileSync("pdftoppm", ["-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile", path, png]);
  mkdirSync("screenshots", { recursive: true });
  copyFileSync(`${png}.png`, "screenshots/statement.png");

  // Its pay link opens the company's open invoices, no account needed.
  const link = text.match(/https?:\/\/\S+\/pay\/[A-Za-z0-9_-]+/)?.[0];
  expect(link, "a pay link in the statement").toBeTruthy();
  const anon = await (await browser.newContext()).newPage();
  await anon.goto(new URL(link!).pathname);
  await waitForHydration(anon);
  await expect(anon.getByRole("heading", { name: `Pay ${name}'s invoices` })).toBeVisible();
  await expect(anon.getByTestId("selection-summary")).toContainText(`${open} selected`);

  // A month to come is refused.
  const refused = await clerk.request.get(`/ops/crm/companies/${CODE}/statement.pdf?month=2999-01`);
  expect(refused.status()).toBe(422);

  // A customer: their own company's, pointing to the portal.
  const customer = await signedInPage(browser, CUSTOMER, /\/portal$/);
  const own = pdfText(await download(customer, "", testInfo, "own.pdf"));
  expect(own).toContain("Company ID C1001");
  expect(own).toMatch(/https?:\/\/\S+\/portal/);
  expect(own).not.toContain(CODE);
  // Another company's, by the staff address: refused.
  expect((await customer.request.get(`/ops/crm/companies/${CODE}/statement.pdf`)).status()).toBe(403);

  // An admin schedules the monthly email (day 1: due at once) with remittance details.
  const admin = await signedInPage(browser, ADMIN, STAFF_HOME);
  await admin.getByRole("link", { name: "Statements" }).click();
  await expect(admin).toHaveURL(/\/ops\/system\/statements$/);
  await waitForHydration(admin);
  await admin.getByLabel("Remittance details").fill("Mail checks to: Northwind Supply, PO Box 4410, Dayton OH 45401");
  await admin.getByLabel("Email statements each month on day").selectOption("1");
  await admin.getByRole("button", { name: "Save" }).click();
  await expect(admin.getByRole("status")).toHaveText("Saved.");
  await checkScreen(admin, "statements-schedule", testInfo);
  try {
    const [[to, last]] = sql(
      `SELECT (SELECT email FROM company_mail_contacts((SELECT id FROM companies WHERE code = '${CODE}')) LIMIT 1),
              to_char(date_trunc('month', seller_today()) - interval '1 month', 'FMMonth YYYY')`,
    );
    const mail = await waitForMail(to, new RegExp(`^Statement for ${last}: .* due from `), 60_000);
    // MailDev's view of the message's attachments (mailparser's names).
    const attached = (mail as unknown as { attachments?: { filename: string; generatedFileName: string; contentType: string }[] }).attachments ?? [];
    expect(attached.map((a) => [a.filename, a.contentType])).toEqual([[expect.stringMatching(new RegExp(`^statement-${CODE}-\\d{4}-\\d{2}\\.pdf$`)), "application/pdf"]]);
    const res = await fetch(`${MAIL}/api/email/${mail.id}/attachment/${encodeURIComponent(attached[0].generatedFileName)}`);
    expect(res.ok, `the attachment: ${res.status}`).toBe(true);
    const saved = testInfo.outputPath("emailed.pdf");
    writeFileSync(saved, Buffer.from(await res.arrayBuffer()));
    const emailed = pdfText(saved);
    expect(emailed).toContain(`Company ID ${CODE}`);
    expect(emailed).toContain(last);
    expect(emailed).toContain("Mail checks to: Northwind Supply, PO Box 4410, Dayton OH 45401");
    await showMail(admin, mail, "statement", testInfo);
    // Once per company and month, and the page says what went out.
    const [[kept, companies]] = sql(
      `SELECT (SELECT count(*) FROM statements WHERE company_id = (SELECT id FROM companies WHERE code = '${CODE}')),
              (SELECT count(*) FROM statements WHERE month = date_trunc('month', seller_today()) - interval '1 month')`,
    );
    expect(kept).toBe("1");
    await admin.reload();
    await waitForHydration(admin);
    await expect(admin.getByTestId("statements-last")).toContainText(`${companies} compan`);
  } finally {
    sql("UPDATE seller_settings SET statement_day = NULL");
  }
});

