// Reading the mail catcher's inbox over its API, for the browser tests.
import { Page, TestInfo, expect } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";

/** The mail catcher the server sends to (MailDev, started by scripts/e2e-server.sh). */
const MAIL = process.env.MAIL_URL ?? "http://127.0.0.1:1180";

export interface Mail {
  id: string;
  subject: string;
  text: string;
  html: string;
  to: { address: string; name?: string }[];
  from: { address: string; name?: string }[];
  headers: Record<string, string>;
}

/** Every message the catcher holds, oldest first. */
export async function inbox(): Promise<Mail[]> {
  const res = await fetch(`${MAIL}/api/email`);
  if (!res.ok) throw new Error(`the mail catcher answered ${res.status}`);
  return (await res.json()) as Mail[];
}

/** The messages to `address` whose subject matches. */
export async function mailsTo(address: string, subject: RegExp): Promise<Mail[]> {
  return (await inbox()).filter((m) => m.to.some((t) => t.address === address) && subject.test(m.subject));
}

/** Waits for the first message to `address` whose subject matches. */
export async function waitForMail(address: string, subject: RegExp, timeout = 30_000): Promise<Mail> {
  let found: Mail | undefined;
  await expect
    .poll(async () => {
      found = (await mailsTo(address, subject))[0];
      return found !== undefined;
    }, { timeout, message: `an email to ${address} matching ${subject}` })
    .toBe(true);
  return found!;
}

/** The link to `path` (e.g. `/pay/`) in a message's plain-text body. */
export function linkIn(mail: Mail, path: string): string {
  const m = mail.text.match(new RegExp(`https?://[^\\s]+${path}[A-Za-z0-9._~-]+`));
  if (!m) throw new Error(`no ${path} link in: ${mail.text}`);
  return m[0];
}

/** Saves a screenshot of a message's HTML as a mail client shows it: `screenshots/email-<name>.png`. */
export async function showMail(page: Page, mail: Mail, name: string, _testInfo: TestInfo) {
  const view = await page.context().newPage();
  await view.setViewportSize({ width: 720, height: 900 });
  await view.goto(`${MAIL}/api/email/${mail.id}/html`);
  mkdirSync("screenshots", { recursive: true });
  await view.screenshot({ path: `screenshots/email-${name}.png`, fullPage: true });
  await view.close();
}

/** Stops or starts the mail catcher (the SMTP server the app sends to). */
export function mailCatcher(command: "stop" | "start") {
  const web = new URL(MAIL).port;
  const smtp = process.env.MAIL_SMTP_PORT ?? "1125";
  const args = command === "stop" ? ["stop", web] : ["start", smtp, web];
  execFileSync("../scripts/mail-catcher.sh", args, { stdio: "inherit" });
}
