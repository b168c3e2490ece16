// tests/browser/stats.test.mjs - 统计 in Debian's chromium (headless) with
// playwright-core: gd_stats (the province) opens the page, the bars are
// drawn by the stylesheet (the CSP allows no inline styles, so a width
// proves that stats.css applied), a change of 时间粒度 resubmits the
// filter (stats.js), and 导出Excel starts a download.  The screenshot
// goes to $ZY_OUT/browser/stats.png.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromiumForFile } from './chromium.mjs';

const BASE = process.env.ZY_URL ? process.env.ZY_URL.replace(/\/+$/, '') : '';
const OUT = path.join(process.env.ZY_OUT || 'tests/out', 'browser');
const skip = BASE === '' ? 'ZY_URL is not set: start a stack first (tests/lib.sh stack_start)' : false;
const chrome = chromiumForFile(skip, OUT);

test('统计 renders its figures and exports', { skip }, async () => {
	const context = await chrome.browser.newContext({ locale: 'zh-CN',
	    viewport: { width: 1280, height: 900 }, acceptDownloads: true });
	context.setDefaultTimeout(30000);
	const page = await context.newPage();
	const violations = [];
	page.on('console', (m) => { if (/Content Security Policy/.test(m.text())) violations.push(m.text()); });
	await page.goto(`${BASE}/login`);
	await page.fill('#login', 'gd_stats');
	await page.fill('#password', 'Zhiying2026');
	await Promise.all([page.waitForURL(/\/$|\/\?/), page.click('#submit')]);
	const resp = await page.goto(`${BASE}/stats`);
	assert.equal(resp.status(), 200);
	assert.equal((await page.locator('h1').first().textContent()).trim(), '统计');
	for (const key of ['inst', 'time', 'turn', 'rate', 'doctor', 'ai'])
		assert.equal(await page.locator(`#g-${key}`).count(), 1, key);
	const total = Number(await page.locator('#stats-total').textContent());
	if (total > 0) {
		const w = await page.locator('#g-inst .bar').first().evaluate((e) => e.getBoundingClientRect().width);
		assert.ok(w > 0, 'the largest bar has a width from stats.css');
	}
	await Promise.all([page.waitForURL(/grain=month/), page.selectOption('#s-grain', 'month')]);
	await page.screenshot({ path: path.join(OUT, 'stats.png'), fullPage: true });
	const [download] = await Promise.all([page.waitForEvent('download'), page.click('#s-export')]);
	assert.match(download.suggestedFilename(), /^统计-\d{8}\.xlsx$/);
	const file = path.join(OUT, 'stats.xlsx');
	await download.saveAs(file);
	assert.equal(fs.readFileSync(file).subarray(0, 2).toString(), 'PK');
	assert.deepEqual(violations, []);
	await context.close();
});
