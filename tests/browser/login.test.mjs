// tests/browser/login.test.mjs - logging in, the navigation of each role,
// 安全退出 and the access check, driven through Debian's chromium (headless)
// with playwright-core.  No browser is downloaded.
//
//   ZY_URL=http://127.0.0.1:PORT ZY_OUT=tests/out \
//       node --test --test-reporter=tap tests/browser/
//
// ZY_URL is a running stack (tests/lib.sh stack_start); without it every
// test here is skipped.  Screenshots go to $ZY_OUT/browser/<login>-<page>.png.

import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromiumForFile } from './chromium.mjs';

const BASE = process.env.ZY_URL ? process.env.ZY_URL.replace(/\/+$/, '') : '';
const OUT = path.join(process.env.ZY_OUT || 'tests/out', 'browser');
const PASSWORD = 'Zhiying2026';
const DISCLAIMER = '仅供医疗相关人员参考';

// The left navigation of each role, in the order of the manual, with the
// path of each item and the name its screenshot gets.
const NAV = {
	apply: ['申请', '/apply', 'apply'],
	applications: ['申请列表', '/applications', 'applications'],
	worklist: ['待诊断', '/worklist', 'worklist'],
	review: ['待审核', '/review', 'review'],
	reported: ['已报告', '/reported', 'reported'],
	diagnosed: ['已诊断', '/diagnosed', 'diagnosed'],
	print: ['打印报告', '/print', 'print'],
	stats: ['统计', '/stats', 'stats'],
	users: ['机构用户', '/admin/users', 'admin-users'],
};

const ROLES = [
	{ role: '邀请方人员', login: 'qx_apply', name: '张晓明',
	    nav: [NAV.apply, NAV.applications, NAV.worklist, NAV.diagnosed, NAV.print] },
	{ role: '受邀方人员', login: 'yb_resident', name: '周子健',
	    nav: [NAV.worklist, NAV.review, NAV.reported, NAV.diagnosed] },
	{ role: '统计', login: 'gd_stats', name: '林统计', nav: [NAV.stats] },
	{ role: '管理员', login: 'admin', name: '系统管理员', nav: [NAV.users] },
];

// One browser for the file (chromium.mjs); every user gets a browser
// context of its own.

const skip = BASE === '' ? 'ZY_URL is not set: start a stack first (tests/lib.sh stack_start)' : false;
const chrome = chromiumForFile(skip, OUT);

async function newPage() {
	const context = await chrome.browser.newContext({
		locale: 'zh-CN',
		viewport: { width: 1280, height: 800 },
	});
	context.setDefaultTimeout(30000);
	context.setDefaultNavigationTimeout(30000);
	const page = await context.newPage();
	return { context, page };
}

// The text of the page's <h1> without the <small> it may carry.
async function heading(page) {
	return page.locator('h1').first().evaluate((h) => {
		const c = h.cloneNode(true);
		c.querySelectorAll('small').forEach((s) => s.remove());
		return c.textContent.trim();
	});
}

async function shot(page, login, name) {
	await page.screenshot({ path: path.join(OUT, `${login}-${name}.png`), fullPage: true });
}

// Run fn (which makes the browser navigate) and return the response of the
// top-level document it loads.
async function navigation(page, fn) {
	const [resp] = await Promise.all([
		page.waitForEvent('response', (r) => r.request().isNavigationRequest() &&
		    r.request().frame() === page.mainFrame() && r.status() < 300),
		fn(),
	]);
	await page.waitForLoadState('load');
	return resp;
}

async function login(page, user, password) {
	const resp = await page.goto(`${BASE}/login`);
	assert.equal(resp.status(), 200, 'GET /login');
	await page.fill('#login', user);
	await page.fill('#password', password);
	return navigation(page, () => page.click('#submit'));
}

test('a wrong password shows 用户名或密码错误 and keeps the login', { skip }, async () => {
	const { context, page } = await newPage();
	try {
		const resp = await login(page, 'lw_apply', 'not-the-password');
		assert.equal(resp.status(), 200);
		assert.equal(new URL(page.url()).pathname, '/login');
		const err = page.locator('#login-error');
		await err.waitFor();
		assert.match(await err.textContent(), /用户名或密码错误/);
		assert.equal(await page.inputValue('#login'), 'lw_apply');
		assert.equal(await page.inputValue('#password'), '', 'the password is not sent back');
		assert.equal(await page.locator('#current-user').count(), 0, 'nobody is logged in');
		await shot(page, 'lw_apply', 'login-error');
	} finally {
		await context.close();
	}
});

for (const r of ROLES) {
	test(`${r.role} (${r.login}): navigation, every page, 安全退出`, { skip }, async () => {
		const { context, page } = await newPage();
		try {
			const resp = await login(page, r.login, PASSWORD);
			assert.equal(resp.status(), 200);
			assert.equal(new URL(page.url()).pathname, '/');
			assert.equal((await page.textContent('#current-user')).trim(), r.name);
			assert.equal(await heading(page), `欢迎，${r.name}`);
			assert.match(await page.textContent('footer'), new RegExp(DISCLAIMER));

			// Exactly this role's items, in order, each to its page.
			const links = page.locator('nav.sidebar a');
			assert.deepEqual(await links.allTextContents(), r.nav.map((n) => n[0]));
			assert.deepEqual(await links.evaluateAll((as) => as.map((a) => a.getAttribute('href'))),
			    r.nav.map((n) => n[1]));
			await shot(page, r.login, 'home');

			for (const [label, href, name] of r.nav) {
				const res = await navigation(page,
				    () => page.locator('nav.sidebar a', { hasText: label }).first().click());
				assert.equal(res.status(), 200, `${href} status`);
				assert.equal(new URL(page.url()).pathname, href);
				assert.equal(await heading(page), label, `${href} heading`);
				const active = page.locator('nav.sidebar a.active');
				assert.deepEqual(await active.allTextContents(), [label], `${href} marks itself in the navigation`);
				await shot(page, r.login, name);
			}

			const bye = await navigation(page, () => page.click('#logout'));
			assert.equal(bye.status(), 200);
			assert.equal(new URL(page.url()).pathname, '/login');
			assert.match(await page.textContent('main'), /您已安全退出/);
			assert.equal(await page.locator('#current-user').count(), 0);
			await shot(page, r.login, 'logout');

			// The session is gone: the home page asks for a login again.
			await page.goto(`${BASE}/`);
			assert.equal(new URL(page.url()).pathname, '/login');
		} finally {
			await context.close();
		}
	});
}

test('an applicant opening /review by its URL is refused', { skip }, async () => {
	const { context, page } = await newPage();
	try {
		await login(page, 'lw_apply', PASSWORD);
		assert.equal(new URL(page.url()).pathname, '/');
		const links = await page.locator('nav.sidebar a').allTextContents();
		assert.ok(!links.includes('待审核'), 'no 待审核 in the navigation');
		const resp = await page.goto(`${BASE}/review`);
		assert.equal(resp.status(), 403);
		assert.match(await page.textContent('main'), /您没有访问此页面的权限/);
		assert.equal(await heading(page), '您没有访问此页面的权限');
		await shot(page, 'lw_apply', 'review-refused');
		// Still logged in: the refusal ends nothing.
		assert.equal((await page.textContent('#current-user')).trim(), '邓志伟');
	} finally {
		await context.close();
	}
});

test('the footer carries the disclaimer', { skip }, async () => {
	const { context, page } = await newPage();
	try {
		const resp = await page.goto(`${BASE}/login`);
		assert.equal(resp.status(), 200);
		const foot = page.locator('footer');
		assert.equal(await foot.count(), 1);
		assert.ok(await foot.isVisible(), 'the footer is visible');
		assert.match(await foot.textContent(), new RegExp(DISCLAIMER));
		await shot(page, 'anonymous', 'login');
	} finally {
		await context.close();
	}
});
