// Playwright settings for the browser benchmarks (bench/): the release server, one worker, Debian's Chromium.
import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

// Browser benchmarks (`make bench-tti`): they print figures and assert nothing about time.
export default defineConfig({ ...base, testDir: "./bench", timeout: 120_000 });
