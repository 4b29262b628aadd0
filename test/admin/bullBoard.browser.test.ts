import { Browser, chromium } from 'playwright-core';
import { ADMIN_TOKEN, AdminHarness, startAdminHarness } from './adminHarness';

// A real headless Chromium: the bull-board page is a client-side app that must load its assets
// and call its API under /admin/queues, all behind the bearer token.
jest.setTimeout(60000);

let admin: AdminHarness;
let baseUrl: string;
let browser: Browser;

beforeAll(async () => {
  admin = await startAdminHarness();
  baseUrl = await admin.listen();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await admin?.stop();
});

describe('bull-board at /admin/queues', () => {
  it('loads with the bearer token and shows the events queue', async () => {
    const context = await browser.newContext({ extraHTTPHeaders: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    try {
      const page = await context.newPage();
      const failedRequests: string[] = [];
      page.on('response', (response) => {
        if (response.status() >= 400) failedRequests.push(`${response.status()} ${response.url()}`);
      });

      const response = await page.goto(`${baseUrl}/admin/queues`);

      expect(response?.status()).toBe(200);
      await page.getByText('upvest-events', { exact: false }).first().waitFor({ timeout: 30000 });
      expect(await page.title()).toMatch(/bull/i);
      expect(failedRequests).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('answers 401 without the token', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();

      const response = await page.goto(`${baseUrl}/admin/queues`);

      expect(response?.status()).toBe(401);
      expect(response?.headers()['www-authenticate']).toBe('Bearer');
      expect(await page.getByText('upvest-events').count()).toBe(0);
    } finally {
      await context.close();
    }
  });
});
