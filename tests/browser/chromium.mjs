// Debian's chromium, headless, for the browser tests: one launcher with
// the flags this closed network needs (no background networking, no
// component updates), never a downloaded browser.
//
// Playwright refuses a --user-data-dir argument and makes a fresh profile
// folder under os.tmpdir() itself: TMPDIR points into a folder of this run
// while the browser lives, so the profile is new each time and is removed
// with the folder by close().
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
