// Debian's chromium, headless, for the browser tests: one launcher with
// the flags this closed network needs (no background networking, no
// component updates), never a downloaded browser.
//
// Playwright refuses a --user-data-dir argument and makes a fresh profile
// folder under os.tmpdir() itself: TMPDIR points into a folder of this run
// while the browser lives, so the profile is new each time and is removed
// with the folder by close().
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export async function launchChromium() {
	const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zhiying-browser-'));
	const saved = process.env.TMPDIR;
	process.env.TMPDIR = tmp;
	let browser;
	try {
		browser = await chromium.launch({
			executablePath: CHROMIUM,
			headless: true,
			timeout: 30000,
			args: ['--no-sandbox', '--disable-gpu', '--disable-quic',
			    '--no-first-run', '--disable-background-networking',
			    '--disable-component-update', '--disable-sync'],
		});
	} catch (e) {
		fs.rmSync(tmp, { recursive: true, force: true });
		throw e;
	}
	return {
		browser,
		async close() {
			await browser.close();
			if (saved === undefined)
				delete process.env.TMPDIR;
			else
				process.env.TMPDIR = saved;
			fs.rmSync(tmp, { recursive: true, force: true });
		},
	};
}

// One browser for a test file: launched before its tests unless skip is
// set (and out, the screenshot folder, made), closed after them.  The
// returned object's browser is set once the tests run.
export function chromiumForFile(skip, out) {
	const c = { browser: null, chrome: null };
	before(async () => {
		if (skip)
			return;
		fs.mkdirSync(out, { recursive: true });
		c.chrome = await launchChromium();
		c.browser = c.chrome.browser;
	});
	after(async () => {
		if (c.chrome !== null)
			await c.chrome.close();
	});
	return c;
}

// Run action, which makes the page load another document (a link, a form
// posted and its redirect), wait until that document has loaded and check
// that it is pathname.  Waits for the navigation itself, so an action that
// leads back to the path already shown is seen too.
export async function go(page, pathname, action) {
	const moved = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame() });
	await Promise.all([moved, action()]);
	await page.waitForLoadState('load');
	assert.equal(new URL(page.url()).pathname, pathname, `landed on ${page.url()}`);
}

// 写报告 as a doctor opens it: the application's 写报告 page, then its
// 写报告 button (a form POST that takes the lock and redirects to the
// editor) when the page offers it.  Returns the last document's response.
export async function openReport(page, base, id) {
	let resp = await page.goto(`${base}/report?id=${id}`);
	if (resp.status() === 200 && await page.locator('#btn-take').count() > 0) {
		[resp] = await Promise.all([page.waitForNavigation(), page.click('#btn-take')]);
		await page.waitForLoadState('load');
	}
	return resp;
}

// A browser context of its own for a user, logged in through the login
// form at base: { login, context, page, errors }, errors collecting
// script errors and Content Security Policy violations.
export async function userSession(browser, base, login, password) {
	const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1366, height: 900 } });
	context.setDefaultTimeout(30000);
	context.setDefaultNavigationTimeout(30000);
	const page = await context.newPage();
	const s = { login, context, page, errors: [] };
	page.on('pageerror', (e) => s.errors.push(String(e)));
	page.on('console', (m) => {
		if (/Content Security Policy/.test(m.text()) ||
		    (m.type() === 'error' && !/Failed to load resource/.test(m.text())))
			s.errors.push(m.text());
	});
	await page.goto(`${base}/login`);
	await page.fill('#login', login);
	await page.fill('#password', password);
	await go(page, '/', () => page.click('#submit'));
	return s;
}
