// tests/browser/layout.test.mjs - every page of every role at 1366x768
// (the grassroots hospitals' screens, the print view on screen included),
// in Debian's chromium (headless):
// no page wider than the window, no table header, cell, button, label or
// navigation item broken inside a word (患者姓/名, 待报/告), the 退回 and
// 取消 popovers of the lists inside the window with their reason box
// whole, and the error pages in the site's style with words that say what
// happened and what to do (nginx's own ones included).
//
//   ZY_URL=http://127.0.0.1:PORT ZY_STATE=... ZY_PGPORT=... ZY_OUT=tests/out \
//       node --test --test-reporter=tap tests/browser/layout.test.mjs
//
// The stack comes from tests/lib.sh stack_start; without ZY_URL the test
// is skipped.  The applications it makes carry long names and texts, and
// are removed again at the end.  Screenshots go to $ZY_OUT/browser/layout/.

import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromiumForFile, go, openReport } from './chromium.mjs';
import { sql } from '../integration/helpers.mjs';

const run = promisify(execFile);
const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const STATE = process.env.ZY_STATE;
const SCP_PORT = process.env.ZY_SCP_PORT;

const BASE = process.env.ZY_URL ? process.env.ZY_URL.replace(/\/+$/, '') : '';
const OUT = path.join(process.env.ZY_OUT || 'tests/out', 'browser', 'layout');
const PASSWORD = 'Zhiying2026';
const VIEWPORT = { width: 1366, height: 768 };
const TAG = `LAYOUT${Date.now()}`;

const skip = BASE === '' ? 'ZY_URL is not set: start a stack first (tests/lib.sh stack_start)' : false;
const chrome = chromiumForFile(skip, OUT);

// Long, realistic content: a four-character compound surname with a long
// given name, a long clinical diagnosis and history, a long reason.
const NAME = '欧阳司马诸葛慕容长孙宇文';
const CLINICAL = '右肺上叶尖后段占位性病变待查，考虑周围型肺癌可能，需与结核球及炎性假瘤鉴别；慢性阻塞性肺疾病急性加重期';
const HISTORY = '高血压病史十五年，规律服用氨氯地平；2型糖尿病史八年，胰岛素皮下注射控制；二十年前行阑尾切除术';
const REASON = '影像资料不完整：缺少增强扫描期相及薄层重建图像，请补充上传全部序列后重新提交，并补充既往胸部CT检查结果';

const apps = {};
let phantomDir = null;

// An application of qx_apply, read by 宜宾市第一人民医院 (superior mode),
// moved along allowed transitions only.
function makeApp(key, states, urgency = 'routine') {
	const [[id, diag]] = sql(`INSERT INTO applications (diag_no, mode, applicant_id,
	    applicant_institution_id, alliance_id, target_institution_id, patient_name, patient_sex,
	    patient_age, patient_no, chief_complaint, present_illness, history, clinical_diagnosis,
	    exam_type, body_part, urgency, exam_date)
	  SELECT 'ZY' || to_char(now(), 'YYYYMMDD') || lpad(nextval('diag_no_seq')::text, 6, '0'),
	    'superior', u.id, u.institution_id, al.id, t.id, :'p1', 'F', '63岁', :'p2',
	    '反复咳嗽咳痰伴活动后气促三月余，加重一周', '三月前无明显诱因出现咳嗽咳痰，痰白质黏，伴活动后气促', :'p3', :'p4',
	    'CT', '胸部', :'p5', current_date
	  FROM users u, alliances al, institutions t
	  WHERE u.login = 'qx_apply' AND al.code = 'YB-YLT' AND t.code = 'YB-CH'
	  RETURNING id, diag_no`, { params: [NAME, `${TAG}-${key}`, HISTORY, CLINICAL, urgency] });
	const by = (login) => `(SELECT id FROM users WHERE login = '${login}')`;
	for (const st of states) {
		if (st === 'reporting') {
			sql(`UPDATE applications SET state = 'reporting', locked_by = ${by('yb_resident')},
			    locked_at = now(), lock_seen_at = now() WHERE id = ${Number(id)}`);
		} else if (st === 'in_review') {
			sql(`INSERT INTO report_versions (application_id, version, author_id, findings, conclusion, kind)
			    VALUES (${Number(id)}, 1, ${by('yb_resident')}, :'p1', :'p2', 'submitted')`,
			{ params: ['双肺纹理增多、紊乱，右肺上叶尖后段见一不规则软组织密度结节，大小约23mm×18mm，边缘见分叶及毛刺，邻近胸膜牵拉凹陷。纵隔内未见明显肿大淋巴结，双侧胸腔未见积液。',
				'右肺上叶尖后段结节，考虑周围型肺癌可能大，建议增强扫描或穿刺活检进一步明确。'] });
			sql(`UPDATE applications SET state = 'in_review', report_author_id = locked_by,
			    locked_by = NULL, locked_at = NULL, lock_seen_at = NULL WHERE id = ${Number(id)}`);
		} else if (st === 'reported') {
			sql(`INSERT INTO report_versions (application_id, version, author_id, findings, conclusion, kind)
			    VALUES (${Number(id)}, 1, ${by('yb_resident')}, :'p1', :'p2', 'final')`,
			{ params: ['双肺纹理增多、紊乱，右肺上叶尖后段见一不规则软组织密度结节，大小约23mm×18mm，边缘见分叶及毛刺，邻近胸膜牵拉凹陷。',
				'右肺上叶尖后段结节，考虑周围型肺癌可能大。'] });
			sql(`UPDATE applications SET state = 'reported', report_author_id = locked_by,
			    reported_at = now(), locked_by = NULL, locked_at = NULL, lock_seen_at = NULL
			    WHERE id = ${Number(id)}`);
		} else if (st === 'returned') {
			sql(`UPDATE applications SET state = 'returned', return_reason = :'p1' WHERE id = ${Number(id)}`,
			{ params: [REASON] });
		}
	}
	apps[key] = { id: Number(id), diag };
}

before(() => {
	if (skip)
		return;
	// Enough waiting applications that the lists scroll: the last
	// row's popover opens at the bottom of the window.
	for (let i = 0; i < 10; i++)
		makeApp(`pending${i}`, [], i % 3 === 0 ? 'emergency' : 'routine');
	makeApp('write', []);
	makeApp('review', ['reporting', 'in_review']);
	makeApp('done', ['reporting', 'reported']);
	makeApp('returned', ['returned']);
});

after(() => {
	if (skip)
		return;
	const ids = `SELECT id FROM applications WHERE patient_no LIKE '${TAG}-%'`;
	sql(`DELETE FROM report_versions WHERE application_id IN (${ids});
	    DELETE FROM application_history WHERE application_id IN (${ids});
	    DELETE FROM application_studies WHERE application_id IN (${ids});
	    DELETE FROM study_link_holds WHERE application_id IN (${ids});
	    DELETE FROM applications WHERE id IN (${ids});`);
	if (phantomDir !== null)
		fs.rmSync(phantomDir, { recursive: true, force: true });
});

async function session(login) {
	const context = await chrome.browser.newContext({ locale: 'zh-CN', viewport: VIEWPORT });
	context.setDefaultTimeout(30000);
	context.setDefaultNavigationTimeout(30000);
	const page = await context.newPage();
	await page.goto(`${BASE}/login`);
	await page.fill('#login', login);
	await page.fill('#password', PASSWORD);
	await Promise.all([page.waitForURL((u) => u.pathname === '/'), page.click('#submit')]);
	return { context, page };
}

// In the page: how wide the document is, and every single word (no
// spaces; Chinese up to 8 characters, a code, or a short mix such as
// 63岁) in a header, cell, button, label or navigation item whose text
// lies on more than one line.
function measure() {
	const cjk = /[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]/u;
	const isWord = (t) => {
		if (t === '' || /\s/u.test(t))
			return false;
		const chars = [...t];
		const n = chars.filter((c) => cjk.test(c)).length;
		if (n === chars.length)
			return n <= 8;
		if (n === 0)
			return /^[\x21-\x7e]+$/u.test(t) && chars.length <= 40;
		return chars.length <= 12;
	};
	const lines = (rects) => {
		const tops = rects.filter((r) => r.width > 0.5 && r.height > 0.5)
		    .map((r) => ({ top: r.top, h: r.height })).sort((a, b) => a.top - b.top);
		let n = 0;
		let last = -Infinity;
		for (const r of tops) {
			if (r.top - last > r.h / 2) {
				n++;
				last = r.top;
			}
		}
		return n;
	};
	const seen = new Set();
	const breaks = [];
	for (const el of document.querySelectorAll('th, td, button, label, nav, summary, .who, dt')) {
		const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
		for (let node = walk.nextNode(); node !== null; node = walk.nextNode()) {
			if (seen.has(node))
				continue;
			seen.add(node);
			const raw = node.data;
			const t = raw.trim();
			if (!isWord(t))
				continue;
			const start = raw.indexOf(t);
			const range = document.createRange();
			range.setStart(node, start);
			range.setEnd(node, start + t.length);
			const n = lines([...range.getClientRects()]);
			if (n > 1) {
				const host = node.parentElement;
				breaks.push(`<${host.tagName.toLowerCase()}${host.id ? '#' + host.id : ''}> "${t}" on ${n} lines`);
			}
		}
	}
	// Controls left as the browser draws them: a button, a list or a
	// file picker's button in the browser's small font with square
	// corners instead of the site's font and rounded border.
	const font = getComputedStyle(document.body).fontFamily;
	const unstyled = [];
	const look = (el, cs, what) => {
		if (cs.fontFamily !== font || cs.borderTopLeftRadius === '0px')
			unstyled.push(`${what} "${(el.tagName === 'BUTTON' ? el.textContent : el.name || el.id).trim().slice(0, 20)}"`);
	};
	for (const el of document.querySelectorAll('button, select, input[type=submit], input[type=file]')) {
		if (el.getClientRects().length === 0)
			continue;
		if (el.type === 'file')
			look(el, getComputedStyle(el, '::file-selector-button'), `<input type=file#${el.id}>`);
		else
			look(el, getComputedStyle(el), `<${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}>`);
	}
	const d = document.documentElement;
	return { scrollWidth: d.scrollWidth, clientWidth: d.clientWidth, breaks, unstyled };
}

// What is wrong with the layout of the page shown, one line a fault;
// the same word broken in many rows is named once.
async function layoutFaults(page, name) {
	const m = await page.evaluate(measure);
	await page.screenshot({ path: path.join(OUT, `${name.replace(/[^A-Za-z0-9_-]+/g, '_')}.png`), fullPage: true });
	const faults = [];
	if (m.scrollWidth > m.clientWidth)
		faults.push(`${name}: the page is ${m.scrollWidth} px wide in a window of ${m.clientWidth} px`);
	for (const b of new Set(m.breaks))
		faults.push(`${name}: ${b}`);
	for (const u of new Set(m.unstyled))
		faults.push(`${name}: ${u} is not in the site's style`);
	return faults;
}

// Every page of a role is looked at before the test fails: the message
// names each page and each broken word.
async function checkLayout(page, name, faults) {
	faults.push(...await layoutFaults(page, name));
}

async function visit(s, name, url, faults) {
	const resp = await s.page.goto(`${BASE}${url}`);
	assert.equal(resp.status(), 200, `${name}: ${url} answered ${resp.status()}`);
	await checkLayout(s.page, name, faults);
}

// A list's popover (the details element), the first one on the page
// with the page at its top and the last one with the page scrolled to its
// end: opened, its box and its text box lie inside the window, the page
// grows no wider, and no word in it is broken.
async function checkPopovers(page, name, selector, faults) {
	const all = page.locator(selector);
	const count = await all.count();
	assert.ok(count >= 2, `${name}: ${count} popovers ${selector}`);
	for (const [which, pop, scroll] of [['first', all.first(), 'top'], ['last', all.last(), 'bottom']]) {
		await page.evaluate((to) => window.scrollTo(0, to === 'top' ? 0 : document.documentElement.scrollHeight), scroll);
		await pop.locator('summary').click();
		const form = pop.locator('form');
		await form.waitFor({ state: 'visible' });
		// Placed on the toggle: two frames later it stands where it
		// will stay.
		await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
		const box = await form.evaluate((f) => {
			const r = f.getBoundingClientRect();
			const field = f.querySelector('textarea') || f.querySelector('button[type=submit]');
			const fr = field.getBoundingClientRect();
			const d = document.documentElement;
			return {
				left: r.left, top: r.top, right: r.right, bottom: r.bottom,
				fLeft: fr.left, fTop: fr.top, fRight: fr.right, fBottom: fr.bottom,
				width: d.clientWidth, height: d.clientHeight, scrollWidth: d.scrollWidth,
			};
		});
		await page.screenshot({ path: path.join(OUT, `${name}-${which}-popover.png`) });
		const where = `${name}: the ${which} ${selector} popover at ` +
		    `(${Math.round(box.left)},${Math.round(box.top)})-(${Math.round(box.right)},${Math.round(box.bottom)}) ` +
		    `in a window of ${box.width}x${box.height}`;
		if (!(box.left >= 0 && box.top >= 0 && box.right <= box.width && box.bottom <= box.height))
			faults.push(`${where} is not inside the window`);
		if (!(box.fLeft >= 0 && box.fTop >= 0 && box.fRight <= box.width && box.fBottom <= box.height))
			faults.push(`${where}: its text box or button is cut off`);
		if (box.scrollWidth > box.width)
			faults.push(`${where}: the page became ${box.scrollWidth} px wide`);
		faults.push(...(await layoutFaults(page, `${name} with the ${which} popover open`))
		    .filter((f) => !/px wide/.test(f)));
		await pop.locator('summary').click();
		await form.waitFor({ state: 'hidden' });
	}
}

// An error page: the status, the words, the site's header, a link back
// to 首页, no bare "错误代码".
async function checkErrorPage(s, name, url, status, words, faults) {
	const resp = await s.page.goto(`${BASE}${url}`);
	assert.equal(resp.status(), status, `${name}: ${url} answered ${resp.status()}`);
	const main = (await s.page.textContent('main')).replace(/\s+/g, ' ').trim();
	for (const w of words) {
		if (!w.test(main))
			faults.push(`${name}: no ${w} in "${main}"`);
	}
	if (/错误代码/.test(main))
		faults.push(`${name}: a bare error code in "${main}"`);
	if (await s.page.locator('header.topbar .brand').count() !== 1)
		faults.push(`${name}: no site header`);
	if (await s.page.locator('main a[href="/"]').count() < 1)
		faults.push(`${name}: no link to 首页`);
	await checkLayout(s.page, name, faults);
}

test('applicant pages at 1366x768', { skip }, async () => {
	const s = await session('qx_apply');
	const faults = [];
	try {
		await visit(s, 'applicant-home', '/', faults);
		await visit(s, 'applicant-apply', '/apply', faults);
		await visit(s, 'applicant-applications', '/applications', faults);
		await checkPopovers(s.page, 'applicant-applications', 'details.act-cancel', faults);
		await visit(s, 'applicant-returned', `/applications?q=${encodeURIComponent(apps.returned.diag)}`, faults);
		assert.match(await s.page.textContent('#list'), /影像资料不完整/);
		await visit(s, 'applicant-worklist', '/worklist', faults);
		await visit(s, 'applicant-diagnosed', '/diagnosed', faults);
		await visit(s, 'applicant-print-list', '/print', faults);
		await visit(s, 'applicant-application', `/application?id=${apps.pending0.id}`, faults);
		await visit(s, 'applicant-application-returned', `/application?id=${apps.returned.id}`, faults);
		await visit(s, 'applicant-edit', `/application/edit?id=${apps.returned.id}`, faults);
		await visit(s, 'applicant-report-view', `/report/view?id=${apps.done.id}`, faults);
		// The print view on screen (the printed A4 is print.test.mjs's).
		await visit(s, 'applicant-report-print', `/report/print?id=${apps.done.id}`, faults);
		await checkErrorPage(s, 'applicant-403', '/stats', 403, [/您没有访问此页面的权限/, /系统管理员/], faults);
		await checkErrorPage(s, 'applicant-404', '/no-such-page', 404, [/您访问的页面不存在/, /地址/], faults);
		await checkErrorPage(s, 'applicant-404-application', '/application?id=999999999', 404, [/不存在/], faults);
	} finally {
		await s.context.close();
	}
	assert.deepEqual(faults, [], faults.join('\n'));
});

test('doctor pages at 1366x768', { skip }, async () => {
	const res = await session('yb_resident');
	const att = await session('yb_attending');
	const faults = [];
	try {
		await visit(res, 'doctor-home', '/', faults);
		await visit(res, 'doctor-worklist', '/worklist', faults);
		await checkPopovers(res.page, 'doctor-worklist', 'details.act-return', faults);
		// 退回 without a reason (the browser's own check taken off, as an
		// old browser would send it): the 退回 page says what is missing.
		const first = res.page.locator('details.act-return').first();
		await first.locator('summary').click();
		await first.locator('textarea').evaluate((t) => t.removeAttribute('required'));
		await Promise.all([res.page.waitForURL((u) => u.pathname === '/application/return'),
			first.locator('button[type=submit]').click()]);
		await res.page.waitForLoadState('load');
		assert.equal(await res.page.locator('#return-form').count(), 1, 'the 退回 page');
		await checkLayout(res.page, 'doctor-return-page', faults);
		await visit(res, 'doctor-assist', `/application/assist?id=${apps.pending2.id}`, faults);
		await visit(res, 'doctor-review-list', '/review', faults);
		await visit(res, 'doctor-reported', '/reported', faults);
		await visit(res, 'doctor-diagnosed', '/diagnosed', faults);
		await visit(res, 'doctor-application', `/application?id=${apps.pending1.id}`, faults);
		const resp = await openReport(res.page, BASE, apps.write.id);
		assert.equal(resp.status(), 200);
		assert.equal(await res.page.locator('#report-form').count(), 1, 'the report editor is open');
		await checkLayout(res.page, 'doctor-report-write', faults);
		await visit(res, 'doctor-report-view', `/report/view?id=${apps.done.id}`, faults);
		await visit(res, 'doctor-report-print', `/report/print?id=${apps.done.id}`, faults);
		await visit(att, 'doctor-review-decide', `/review/decide?id=${apps.review.id}`, faults);
		await checkErrorPage(res, 'doctor-403', '/apply', 403, [/您没有访问此页面的权限/], faults);
		await checkErrorPage(res, 'doctor-404', '/no-such-page', 404, [/您访问的页面不存在/], faults);
	} finally {
		await res.context.close();
		await att.context.close();
	}
	assert.deepEqual(faults, [], faults.join('\n'));
});

test('statistics and administrator pages at 1366x768', { skip }, async () => {
	const st = await session('gd_stats');
	const ad = await session('admin');
	const faults = [];
	try {
		await visit(st, 'stats-home', '/', faults);
		await visit(st, 'stats', '/stats', faults);
		await visit(ad, 'admin-home', '/', faults);
		await visit(ad, 'admin-users', '/admin/users', faults);
		await checkErrorPage(ad, 'admin-403', '/worklist', 403, [/您没有访问此页面的权限/], faults);
	} finally {
		await st.context.close();
		await ad.context.close();
	}
	assert.deepEqual(faults, [], faults.join('\n'));
});

test('the server\'s own error pages are in Chinese and in the site\'s style', { skip }, async () => {
	const context = await chrome.browser.newContext({ locale: 'zh-CN', viewport: VIEWPORT });
	try {
		const page = await context.newPage();
		// Not logged in: the page that does not exist still has the
		// site's header and a way on (前往登录).
		const resp = await page.goto(`${BASE}/no-such-page`);
		assert.equal(resp.status(), 404);
		assert.match(await page.textContent('main'), /您访问的页面不存在/);
		assert.equal(await page.locator('header.topbar .brand').count(), 1);
		assert.ok(await page.locator('main a[href="/login"]').count() >= 1);
		assert.deepEqual(await layoutFaults(page, 'anonymous-404'), []);

		// A body larger than nginx takes on the pages (2 MiB): nginx
		// answers 413 itself, with the platform's page.
		const big = await context.request.post(`${BASE}/login`, {
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
			data: 'x='.padEnd(3 * 1024 * 1024, 'a'),
			failOnStatusCode: false,
		});
		assert.equal(big.status(), 413);
		const html = await big.text();
		assert.match(html, /提交的内容过大/, html.slice(0, 400));
		assert.match(html, /class="topbar"/);
		assert.doesNotMatch(html, /nginx|Request Entity/i);
	} finally {
		await context.close();
	}
});

// 写报告 with the AI cards, and the AI result page: 龙湾镇卫生院 applies
// for a chest CT that its collector then sends (a synthetic one, as in
// cac.test.mjs); the stack's daemon reads it; 江南县人民医院's doctor opens
// both pages.
test('写报告 with AI cards and the AI result page at 1366x768',
    { skip: skip || (!STATE || !SCP_PORT ? 'ZY_STATE or ZY_SCP_PORT is not set' : false), timeout: 300000 }, async () => {
	const pid = `${TAG}-ai`;
	phantomDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zhiying-layout-'));
	await run(`${ROOT}/src/tools/zhiying-phantom`, ['-t', '1.25', '-k', '120', '-P', pid, '-N', 'LIN^SHUFEN',
	    '-o', phantomDir]);
	const [[id]] = sql(`INSERT INTO applications (diag_no, mode, applicant_id,
	    applicant_institution_id, alliance_id, target_institution_id, patient_name, patient_sex,
	    patient_age, patient_no, chief_complaint, present_illness, history, clinical_diagnosis,
	    exam_type, body_part, exam_date)
	  SELECT 'ZY' || to_char(now(), 'YYYYMMDD') || lpad(nextval('diag_no_seq')::text, 6, '0'),
	    'superior', u.id, u.institution_id, al.id, t.id, '林淑芬', 'F', '64岁', :'p1',
	    '活动后胸闷一月', '一月来快走及上楼时胸闷，休息数分钟缓解，无胸痛放射', :'p2', '冠心病待查；' || :'p3',
	    'CT', '胸部', current_date
	  FROM users u, alliances al, institutions t
	  WHERE u.login = 'lw_apply' AND al.code = 'JN-YGT' AND t.code = 'JN-PH'
	  RETURNING id`, { params: [pid, HISTORY, CLINICAL] });
	await run('storescu', ['-aet', 'LW_COLLECTOR', '-aec', 'ZHIYING', '+sd', '+r', '+sp', '*.dcm',
	    '127.0.0.1', SCP_PORT, phantomDir], { env: { ...process.env, TCP_NODELAY: '1' }, maxBuffer: 1 << 24 });
	// The study linked and every reader's job ended (polled: the daemon
	// runs on its own; two minutes is far more than it takes).
	const jobs = `SELECT j.id, j.reader, j.state FROM application_studies x
	    JOIN series se ON se.study_id = x.study_id JOIN ai_jobs j ON j.series_id = se.id
	    WHERE x.application_id = ${Number(id)}`;
	const t0 = Date.now();
	let rows = [];
	for (;;) {
		rows = sql(jobs);
		if (rows.some((r) => r[1] === 'ct_coronary_calcium') && rows.every((r) => !['queued', 'running'].includes(r[2])))
			break;
		assert.ok(Date.now() - t0 < 120000, `the AI jobs did not end: ${JSON.stringify(rows)}`);
		await new Promise((r) => setTimeout(r, 200));
	}
	const cac = rows.find((r) => r[1] === 'ct_coronary_calcium');
	assert.equal(cac[2], 'done', JSON.stringify(rows));

	const doc = await session('jn_attending');
	const faults = [];
	try {
		const resp = await openReport(doc.page, BASE, id);
		assert.equal(resp.status(), 200);
		const card = doc.page.locator(`#ai-row li.ai-card.done[data-job="${cac[0]}"]`);
		// The card says which series it read: number and description.
		assert.match((await card.locator('.series-of').textContent()).trim(), /^序列 \d+ \S/);
		await checkLayout(doc.page, 'doctor-report-ai', faults);
		await go(doc.page, '/ai/result', () => card.locator('a.ai-open').click());
		await checkLayout(doc.page, 'doctor-ai-result', faults);
		// 查看影像图片: the viewer fills the window, its slider above the
		// fold; with MPR and 三维 too.
		await visit(doc, 'doctor-viewer', `/viewer?id=${Number(id)}`, faults);
		for (const mode of ['axial', 'mpr', '3d']) {
			if (mode === 'mpr')
				await doc.page.click('#zv-mpr');
			if (mode === '3d') {
				await doc.page.click('#zv-3d');
				// Polled (the pages' CSP forbids the eval of
				// waitForFunction).
				for (const t0 = Date.now(); await doc.page.getAttribute('#zv-v3d', 'data-full') !== '1';) {
					assert.ok(Date.now() - t0 < 120000, 'the 3-D view did not come');
					await new Promise((r) => setTimeout(r, 100));
				}
				const v = await doc.page.locator('#zv-v3d').boundingBox();
				if (v.y + v.height > VIEWPORT.height)
					faults.push(`doctor-viewer (3d): the view ends at ${Math.round(v.y + v.height)} px, below the fold`);
			}
			const bar = await doc.page.locator('#zv-slider').boundingBox();
			if (bar.y + bar.height > VIEWPORT.height)
				faults.push(`doctor-viewer (${mode}): the slider ends at ${Math.round(bar.y + bar.height)} px, below the fold`);
			await checkLayout(doc.page, `doctor-viewer-${mode}`, faults);
		}
	} finally {
		await doc.context.close();
	}
	assert.deepEqual(faults, [], faults.join('\n'));
});
