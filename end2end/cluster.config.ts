// Playwright settings for the cluster tests: two instances behind HAProxy, Debian's Chromium.
import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

// Two release instances behind HAProxy (scripts/cluster.sh); `make test` runs these after the
// browser suite, against their own database.
export default defineConfig({ ...base, testDir: "./cluster", timeout: 180_000 });
