// A burst of failed sign-ins from one client while a clerk works: the clerk's pages stay fast.
import { spawn } from "node:child_process";
import { test, expect, CLERK } from "./helpers";

/**
 * A stranger's burst of sign-ins must not slow down the people working: 200 sign-ins for
 * addresses without an account, from one client (named by the trusted proxy's
 * X-Forwarded-For, so the rest of the suite's own client is not limited), 32 at a time, while
 * a signed-in clerk loads a company page every 100 ms. Argon2 runs behind its gate with no
 * connection held; past the gate the answer is a fast 503, past the client's failures a 429.
 * Prints the clerk's latency and the most database connections the app held at once.
 */
test("200 sign-ins for unknown addresses from one client leave a clerk's pages fast and the pool never dry", async () => {
  test.setTimeout(120_000);
  const base = process.env.BASE_URL!;
  const poolSize = 10;

  // The clerk's session.
  const login = await fetch(`${base}/api/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams({ email: CLERK.email, password: CLERK.password }),
  });
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0];
  expect(cookie).toMatch(/^settle_session=./);

  // Every 50 ms: how many of the app's database connections are busy.
  const sampler = spawn("psql", ["-X", "-tA", process.env.E2E_DATABASE_URL!], { stdio: ["pipe", "pipe", "inherit"] });
  let sampled = "";
  sampler.stdout.on("data", (d) => (sampled += String(d)));
  sampler.stdin.write(
    "SELECT count(*) FILTER (WHERE state <> 'idle') FROM pg_stat_activity " +
      "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend' \\watch 0.05\n",
  );

  // The clerk at work (a first load, not counted, as the clerk had the page open before).
  await (await fetch(`${base}/ops/crm/companies/C1001`, { headers: { cookie } })).text();
  const clerk: { status: number; ms: number }[] = [];
  let bursting = true;
  const working = (async () => {
    while (bursting || clerk.length < 30) {
      const started = performance.now();
      const res = await fetch(`${base}/ops/crm/companies/C1001`, { headers: { cookie } });
      await res.text();
      clerk.push({ status: res.status, ms: performance.now() - started });
      await new Promise((r) => setTimeout(r, 100));
    }
  })();

  // The stranger: 200 sign-ins, 32 at a time.
  const answers: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < 200) {
        const i = next++;
        const res = await fetch(`${base}/api/login`, {
          method: "POST",
          redirect: "manual",
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            accept: "application/json",
            "x-forwarded-for": "198.51.100.77",
          },
          body: new URLSearchParams({ email: `nobody-${i}@burst.example`, password: "not the password" }),
        });
        await res.text();
        answers.push(res.status);
      }
    }),
  );
  const burstMs = performance.now() - started;
  bursting = false;
  await working;
  sampler.stdin.end();
  sampler.kill();

  const busy = sampled
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => /^\d+$/.test(l))
    .map(Number);
  const maxBusy = Math.max(...busy);
  const ms = clerk.map((c) => c.ms).sort((a, b) => a - b);
  const pct = (p: number) => ms[Math.min(ms.length - 1, Math.ceil(p * ms.length) - 1)];
  const tally = answers.reduce<Record<number, number>>((t, s) => ({ ...t, [s]: (t[s] ?? 0) + 1 }), {});
  console.log(
    `sign-in burst: 200 sign-ins in ${(burstMs / 1000).toFixed(1)} s, answers ${JSON.stringify(tally)}; ` +
      `clerk page ${clerk.length} loads, p50 ${pct(0.5).toFixed(0)} ms, p99 ${pct(0.99).toFixed(0)} ms, ` +
      `max ${ms[ms.length - 1].toFixed(0)} ms; busy database connections at most ${maxBusy} of ${poolSize} ` +
      `(${busy.length} samples)`,
  );

  expect(answers).toHaveLength(200);
  // Refused every time: a wrong password (422), the client's limit (429), the gate (503).
  for (const s of answers) expect([422, 429, 503]).toContain(s);
  expect(clerk.filter((c) => c.status !== 200), "every clerk page answers").toEqual([]);
  expect(busy.length, "the pool was sampled").toBeGreaterThan(5);
  expect(maxBusy, "the pool never runs dry").toBeLessThan(poolSize);
});
