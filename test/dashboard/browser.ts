/** Headless Debian Chromium driven by playwright-core, kept on loopback; screenshots to .tmp/screenshots/. */
import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'

export const SCREENSHOTS = fileURLToPath(new URL('../../.tmp/screenshots/', import.meta.url))
export const CHROMIUM = process.env.GRYPHGEN_CHROMIUM ?? '/usr/bin/chromium'

export async function launch (): Promise<Browser> {
  await mkdir(SCREENSHOTS, { recursive: true })
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // As root Chromium needs --no-sandbox; nothing of it may reach beyond loopback.
    args: ['--no-sandbox', '--disable-background-networking', '--no-first-run', '--disable-sync', '--disable-extensions', '--disable-component-update', '--disable-default-apps', '--disable-dev-shm-usage'],
  })
}

export async function shoot (page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true })
}
