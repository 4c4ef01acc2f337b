// Static files: hashed names, caching headers, compression, and what the pages name exists.
import { readFileSync } from "node:fs";
import { request as httpRequest, IncomingHttpHeaders } from "node:http";
import { join } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { test, expect, CLERK, CUSTOMER, signIn, waitForHydration, STAFF_HOME } from "./helpers";

/**
 * The release site's static files are served as a production site serves them: hashed names,
 * cached for a year, compressed at build time (the `.br` / `.gz` beside each file), and what
 * the browser decompresses is byte for byte the file the build wrote.
 */

const SITE_PKG = join(__dirname, "..", "..", "target", "site", "pkg");

/** A raw GET (no automatic decompression), so the bytes on the wire can be checked. */
function rawGet(path: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  const base = new URL(test.info().project.use.baseURL!);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: base.hostname, port: base.port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** The hashed names of the WASM, JS and CSS the login page refers to. */
async function assetPaths(): Promise<{ wasm: string; js: string; css: string }> {
  const page = await rawGet("/login", {});
  const html = page.body.toString("utf8");
  const find = (ext: string) => {
    const m = html.match(new RegExp(`/pkg/(settle\\.[A-Za-z0-9_-]+\\.${ext})`));
    expect(m, `a hashed .${ext} named in the page`).not.toBeNull();
    return m![1];
  };
  return { wasm: find("wasm"), js: find("js"), css: find("css") };
}

test("the WASM, JS and CSS carry a content hash, are cached for a year and go out precompressed", async () => {
  const assets = await assetPaths();
  for (const [kind, name] of Object.entries(assets)) {
    const onDisk = readFileSync(join(SITE_PKG, name));
    const br = await rawGet(`/pkg/${name}`, { "Accept-Encoding": "br, gzip" });
    expect(br.status, `${kind} status`).toBe(200);
    expect(br.headers["content-encoding"], `${kind} encoding`).toBe("br");
    expect(br.headers["cache-control"], `${kind} caching`).toBe("public, max-age=31536000, immutable");
    expect(br.headers["vary"] ?? "", `${kind} Vary`).toMatch(/accept-encoding/i);
    // The precompressed file itself, not a per-request compression of the original.
    expect(br.body.equals(readFileSync(join(SITE_PKG, `${name}.br`))), `${kind} is the .br the build wrote`).toBe(true);
    expect(brotliDecompressSync(br.body).equals(onDisk), `${kind} decompresses to the file`).toBe(true);

    const gz = await rawGet(`/pkg/${name}`, { "Accept-Encoding": "gzip" });
    expect(gz.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(gz.body).equals(onDisk)).toBe(true);

    const plain = await rawGet(`/pkg/${name}`, {});
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.body.equals(onDisk)).toBe(true);
  }
  const wasm = await rawGet(`/pkg/${assets.wasm}`, { "Accept-Encoding": "br" });
  expect(wasm.headers["content-type"]).toBe("application/wasm");
  console.log(
    `/pkg/${assets.wasm} with Accept-Encoding: br → ${wasm.status}\n` +
      Object.entries(wasm.headers)
        .map(([k, v]) => `  ${k}: ${v}`)
        .join("\n"),
  );
});

test("pages are never stored, and an unhashed or unknown file name is not found", async () => {
  const page = await rawGet("/login", { "Accept-Encoding": "br" });
  expect(page.status).toBe(200);
  expect(page.headers["cache-control"]).toBe("no-store");
  const unhashed = await rawGet("/pkg/settle.wasm", {});
  expect(unhashed.status).toBe(404);
  expect(unhashed.headers["cache-control"] ?? "").not.toMatch(/immutable/);
});

test("a customer never downloads the staff screens; staff load them when they go to one", async ({ page }) => {
  const wasm: string[] = [];
  page.on("request", (r) => {
    const path = new URL(r.url()).pathname;
    if (path.endsWith(".wasm")) wasm.push(path);
  });
  await signIn(page, CUSTOMER, /\/portal/);
  for (const path of ["/portal", "/portal/payments", "/portal/payment-methods"]) {
    await page.goto(path);
    await waitForHydration(page);
  }
  await page.getByRole("link", { name: "Invoices" }).first().click();
  await waitForHydration(page);
  expect(wasm.length).toBeGreaterThan(0);
  expect(wasm.filter((p) => p.includes("_screen_view")), "staff screens loaded by a customer").toEqual([]);

  // Staff: the dashboard's and then the Companies screen's own chunks arrive with them.
  wasm.length = 0;
  await page.context().clearCookies();
  await signIn(page, CLERK, STAFF_HOME);
  await waitForHydration(page);
  await expect(page.getByTestId("chart-aging")).toBeVisible();
  expect(wasm.some((p) => p.includes("dashboard_screen_view")), `chunks: ${wasm.join(", ")}`).toBe(true);
  await page.getByRole("link", { name: "Companies" }).click();
  await expect(page.locator("[data-testid=companies] tbody tr").first()).toBeVisible();
  expect(wasm.some((p) => p.includes("companies_screen_view")), `chunks: ${wasm.join(", ")}`).toBe(true);
});
