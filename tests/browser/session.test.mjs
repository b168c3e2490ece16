// tests/browser/session.test.mjs - a session that lapses while a doctor
// writes a report loses nothing: the login returns to the same report
// (/report?id=N, not /report), and the text typed since the last save,
// kept in the browser, is offered back.  Debian's chromium, headless.
//
//   ZY_URL=http://127.0.0.1:PORT ZY_STATE=... ZY_PGPORT=... ZY_OUT=tests/out \
//       node --test --test-reporter=tap tests/browser/session.test.mjs
//
// The session lapses because the test makes it old in the database (its
// last activity a day back), as the idle limit would after that time: the
// test does not wait for the stack's ZHIYING_SESSION_IDLE.

import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { chromiumForFile, openReport, userSession } from './chromium.mjs';
import { sql } from '../integration/helpers.mjs';

const BASE = process.env.ZY_URL ? process.env.ZY_URL.replace(/\/+$/, '') : '';
const OUT = path.join(process.env.ZY_OUT || 'tests/out', 'browser');
const PASSWORD = 'Zhiying2026';

const skip = BASE === '' ? 'ZY_URL is not set: start a stack first (tests/lib.sh stack_start)' : false;
const chrome = chromiumForFile(skip, OUT);

// A superior-mode application from 清溪县人民医院 to 粤北市中心医院.
function newApplication() {
	return sql(`INSERT INTO applications (diag_no, mode, applicant_id,
	    applicant_institution_id, alliance_id, target_institution_id, patient_name, patient_sex,
	    patient_age, patient_no, chief_complaint, exam_type, body_part, exam_date)
	  SELECT 'ZY' || to_char(now(), 'YYYYMMDD') || lpad(nextval('diag_no_seq')::text, 6, '0'),
	    'superior', u.id, u.institution_id, al.id, t.id, '黄丽萍', 'F', '52岁', :'p1',
	    '咳嗽两周', 'CT', '胸部', current_date
	  FROM users u, alliances al, institutions t
	  WHERE u.login = 'qx_apply' AND al.code = 'YB-YLT' AND t.code = 'YB-CH'
	  RETURNING id`, { params: [`SES${Date.now()}`] })[0][0];
}

// The user's sessions, idle for a day: the next request finds them lapsed.
function age(login) {
	sql(`UPDATE sessions SET last_seen = now() - interval '1 day'
	    WHERE user_id = (SELECT id FROM users WHERE login = :'p1')`, { params: [login] });
}

function latest(id) {
	const rows = sql(`SELECT findings, conclusion FROM report_versions
	    WHERE application_id = :'p1' ORDER BY version DESC LIMIT 1`, { params: [id] });
	return rows.length ? { findings: rows[0][0], conclusion: rows[0][1] } : null;
}

async function login(page, who) {
	await page.fill('#login', who);
	await page.fill('#password', PASSWORD);
	await Promise.all([page.waitForNavigation(), page.click('#submit')]);
	await page.waitForLoadState('load');
}

test('a lapsed session: back to the same report, the unsaved text offered back', { skip }, async () => {
	const id = newApplication();
	const first = '右肺上叶尖段见一磨玻璃结节，直径约6mm。';
	const more = '纵隔内未见肿大淋巴结。';
	const conclusion = '右肺上叶磨玻璃结节，建议随访。';
	const s = await userSession(chrome.browser, BASE, 'yb_assoc', PASSWORD);
	try {
		const { page } = s;
		assert.equal((await openReport(page, BASE, id)).status(), 200);
		await page.fill('#findings', first);
		await page.click('#btn-save');
		await page.locator('#autosave-status', { hasText: '已保存' }).waitFor();
		assert.deepEqual(latest(id), { findings: first, conclusion: '' });

		// The doctor leaves the page open; the session lapses; back at
		// it, the doctor types on (leaving a text box saves, refused).
		age('yb_assoc');
		await page.fill('#findings', first + more);
		await page.fill('#conclusion', conclusion);
		await page.click('#btn-save');
		const relogin = page.locator('#autosave-relogin');
		await relogin.waitFor();
		assert.match(await page.textContent('#autosave-status'), /登录已超时.*已暂存在本机/);
		assert.deepEqual(latest(id), { findings: first, conclusion: '' }, 'nothing stored without a session');
		await page.screenshot({ path: path.join(OUT, 'session-lapsed.png'), fullPage: true });

		// 重新登录后继续: the login page says why, and the login returns
		// to this report, not to /report.
		await Promise.all([page.waitForNavigation(), relogin.click()]);
		assert.equal(new URL(page.url()).pathname, '/login');
		assert.match(await page.textContent('.notice'), /登录已超时，请重新登录/);
		await login(page, 'yb_assoc');
		let at = new URL(page.url());
		assert.equal(at.pathname + at.search, `/report?id=${id}`);

		// The editor shows the server's text and offers the local copy.
		assert.equal(await page.inputValue('#findings'), first);
		await page.locator('#draft-offer').waitFor({ state: 'visible' });
		assert.match(await page.textContent('#draft-offer'), /尚未保存到服务器的报告内容/);
		await page.screenshot({ path: path.join(OUT, 'session-offer.png'), fullPage: true });
		await page.click('#btn-draft-restore');
		assert.equal(await page.inputValue('#findings'), first + more);
		assert.equal(await page.inputValue('#conclusion'), conclusion);
		assert.ok(await page.locator('#draft-offer').isHidden());
		await page.locator('#autosave-status', { hasText: '已恢复并保存' }).waitFor();
		assert.deepEqual(latest(id), { findings: first + more, conclusion });

		// Saved: nothing is offered again.
		await page.reload();
		assert.equal(await page.inputValue('#findings'), first + more);
		assert.ok(await page.locator('#draft-offer').isHidden());
		assert.equal(await page.evaluate(() => Object.keys(localStorage)
		    .filter((k) => k.startsWith('zhiying.draft.')).length), 0);

		// A lapse noticed by opening the page again (a reload, a link):
		// the login still returns to the report with its id, and the
		// text typed before it is offered.
		await page.fill('#conclusion', conclusion + '另见少许纤维灶。');
		age('yb_assoc');
		const resp = await page.goto(`${BASE}/report?id=${id}`);
		assert.equal(resp.status(), 200);
		assert.equal(new URL(page.url()).pathname, '/login');
		assert.equal(new URL(page.url()).searchParams.get('next'), `/report?id=${id}`);
		await login(page, 'yb_assoc');
		at = new URL(page.url());
		assert.equal(at.pathname + at.search, `/report?id=${id}`);
		await page.locator('#draft-offer').waitFor({ state: 'visible' });
		// 放弃: the server's text stays, the copy goes.
		await page.click('#btn-draft-discard');
		assert.equal(await page.inputValue('#conclusion'), conclusion);
		await page.reload();
		assert.ok(await page.locator('#draft-offer').isHidden());

		assert.deepEqual(s.errors, []);
	} finally {
		await s.context.close();
	}
});

test('the local copy belongs to its user: another doctor is not offered it', { skip }, async () => {
	const id = newApplication();
	const s = await userSession(chrome.browser, BASE, 'yb_assoc', PASSWORD);
	try {
		const { page } = s;
		assert.equal((await openReport(page, BASE, id)).status(), 200);
		await page.fill('#findings', '未保存的内容');
		age('yb_assoc');
		// The lock lapses too (lock_idle); another doctor of the same
		// institution opens the report in the same browser.
		sql(`UPDATE applications SET locked_at = now() - interval '1 day', lock_seen_at = now() - interval '1 day' WHERE id = :'p1'`, { params: [id] });
		await page.goto(`${BASE}/report?id=${id}`);
		await login(page, 'yb_attending');
		assert.equal(new URL(page.url()).pathname, '/report');
		if (await page.locator('#btn-take').count() > 0)
			await Promise.all([page.waitForNavigation(), page.click('#btn-take')]);
		await page.locator('#findings').waitFor();
		assert.ok(await page.locator('#draft-offer').isHidden());
		assert.equal(await page.inputValue('#findings'), '');
		assert.equal(await page.evaluate(() => Object.keys(localStorage)
		    .filter((k) => k.startsWith('zhiying.draft.yb_assoc.')).length), 1);
	} finally {
		await s.context.close();
	}
});

test('安全退出 on 写报告: what was typed is saved to the server first, and no copy of it stays in the browser',
    { skip }, async () => {
	const id = newApplication();
	const s = await userSession(chrome.browser, BASE, 'yb_assoc', PASSWORD);
	try {
		const { page } = s;
		assert.equal((await openReport(page, BASE, id)).status(), 200);
		const typed = `退出前输入的内容 ${Date.now()}`;
		// Typed, not yet autosaved: the local copy holds it.
		await page.fill('#findings', typed);
		await page.fill('#conclusion', '结论草稿');
		await page.waitForFunction(() => Object.keys(localStorage)
		    .some((k) => k.startsWith('zhiying.draft.yb_assoc.')));
		// Another user's copy in the same browser goes too: the
		// computer is left clean.
		await page.evaluate(() => localStorage.setItem('zhiying.draft.yb_attending.1',
		    JSON.stringify({ t: Date.now(), findings: '别人的草稿', conclusion: '' })));
		await Promise.all([page.waitForURL((u) => u.pathname === '/login'), page.click('#logout')]);
		assert.equal(new URL(page.url()).searchParams.get('bye'), '1');
		assert.deepEqual(latest(id), { findings: typed, conclusion: '结论草稿' });
		assert.deepEqual(await page.evaluate(() => Object.keys(localStorage)
		    .filter((k) => k.startsWith('zhiying.draft.'))), []);
		assert.deepEqual(s.errors, []);
	} finally {
		await s.context.close();
	}
});
