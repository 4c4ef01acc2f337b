// Benchmark: time to interactive of a company page, cold and warm (make bench-tti).
import { test, CLERK, signIn, waitForHydration } from "../tests/helpers";

/**
 * Time to interactive of a staff company page on the release build: from the start of the
 * navigation to the moment the WASM has hydrated the page (`__settle_hydrated_at`, taken by
 * the app itself). Five cold loads (a new browser context each time: no HTTP cache) and five
 * warm ones (the same context again). Prints the figures; asserts nothing about time.
 */

const RUNS = 5;
const PAGE = "/ops/crm/companies/C1001";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

test("time to interactive of the company page", async ({ browser }) => {
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, CLERK, /\/ops\/crm\/companies$/);
    // Signing in loaded the WASM once: clear the HTTP cache so this load is a first load.
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.clearBrowserCache");
    for (const into of [cold, warm]) {
      await page.goto(PAGE);
      await waitForHydration(page);
      into.push(await page.evaluate(() => (window as any).__settle_hydrated_at as number));
    }
    await context.close();
  }
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(", ");
  console.log(`TTI ${PAGE} (release build), cold cache: median ${median(cold).toFixed(0)} ms [${fmt(cold)}]`);
  console.log(`TTI ${PAGE} (release build), warm cache: median ${median(warm).toFixed(0)} ms [${fmt(warm)}]`);
});
