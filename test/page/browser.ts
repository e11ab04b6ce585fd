// Chromium driven by playwright-core (DESIGN §8): Debian's package when it is installed, else the
// binary the npm package @sparticuz/chromium ships in its tarball (so `npm ci` alone brings one).
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sparticuzChromium from '@sparticuz/chromium';
import { chromium, type Browser, type Page } from 'playwright-core';

export const DEBIAN_CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = fileURLToPath(new URL('../screenshots/', import.meta.url));

/** Debian's binary, else the npm one (extracted to the temp directory on first use, then reused). */
export async function chromiumExecutable(): Promise<string> {
  if (existsSync(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;
  return sparticuzChromium.executablePath();
}

/** The caller closes the browser (before the servers it talks to). */
export async function launchChromium(): Promise<Browser> {
  // Our own flags, not sparticuz's `chromium.args`: its `--single-process` makes playwright's newPage fail.
  const browser = await chromium.launch({
    executablePath: await chromiumExecutable(),
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
  return browser;
}

/** What a page did that a test must see nothing of: dialogs (alert), uncaught errors, CSP violations. */
export function watchPage(page: Page): { dialogs: string[]; errors: string[] } {
  const seen = { dialogs: [] as string[], errors: [] as string[] };
  page.on('dialog', (dialog) => {
    seen.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  page.on('pageerror', (err) => seen.errors.push(err.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) seen.errors.push(message.text());
  });
  return seen;
}
