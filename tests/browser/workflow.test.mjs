// tests/browser/workflow.test.mjs - the superior-diagnosis story from the
// doctors' side, through Debian's chromium (headless) with playwright-core:
// 写报告 with autosave, the lock seen by a second doctor, 提交审核, 审核 否
// with a comment, the revision, 审核 是, and the applicant's 查看报告 and
// 打印 (rendered to an A4 PDF).  No browser is downloaded.
//
//   ZY_URL=http://127.0.0.1:PORT ZY_STATE=... ZY_PGPORT=... ZY_OUT=tests/out \
//       node --test --test-reporter=tap tests/browser/workflow.test.mjs
//
// The stack comes from tests/lib.sh stack_start (which sets those
// variables); without ZY_URL the test is skipped.  Screenshots and the PDF
// go to $ZY_OUT/browser/.

import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromiumForFile, openReport } from './chromium.mjs';
import { sql } from '../integration/helpers.mjs';

const BASE = process.env.ZY_URL ? process.env.ZY_URL.replace(/\/+$/, '') : '';
const OUT = path.join(process.env.ZY_OUT || 'tests/out', 'browser');
const PASSWORD = 'Zhiying2026';
const STALE = '报告已被修改，请刷新后再保存（您的内容未被覆盖）';

const skip = BASE === '' ? 'ZY_URL is not set: start a stack first (tests/lib.sh stack_start)' : false;
const chrome = chromiumForFile(skip, OUT);

// A browser context of its own for each user, logged in.
async function session(login) {
	const context = await chrome.browser.newContext({
		locale: 'zh-CN',
		viewport: { width: 1366, height: 900 },
	});
	context.setDefaultTimeout(30000);
	context.setDefaultNavigationTimeout(30000);
	const page = await context.newPage();
	const errors = [];
	page.on('pageerror', (e) => errors.push(String(e)));
	page.on('console', (m) => {
		if (m.type() === 'error' && !/series\/preview/.test(m.text()) &&
		    !/Failed to load resource/.test(m.text()))
			errors.push(m.text());
	});
	const resp = await page.goto(`${BASE}/login`);
	assert.equal(resp.status(), 200);
	await page.fill('#login', login);
	await page.fill('#password', PASSWORD);
	await Promise.all([page.waitForURL((u) => u.pathname === '/'), page.click('#submit')]);
	return { context, page, errors };
}

function appState(id) {
	const [[state, holder, versions]] = sql(`SELECT a.state, coalesce(u.login, ''),
	    (SELECT count(*) FROM report_versions v WHERE v.application_id = a.id)
	    FROM applications a LEFT JOIN users u ON u.id = a.locked_by WHERE a.id = :'p1'`,
	    { params: [id] });
	return { state, holder, versions: Number(versions) };
}

function pdfText(file) {
	try {
		return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
	} catch (e) {
		return null;	// poppler-utils not installed
	}
}

test('superior diagnosis: write, lock, review 否, revise, review 是, view and print', { skip }, async () => {
	const [[id, diag]] = sql(`INSERT INTO applications (diag_no, mode, applicant_id,
	    applicant_institution_id, alliance_id, target_institution_id, patient_name, patient_sex,
	    patient_age, patient_no, chief_complaint, present_illness, history, clinical_diagnosis,
	    exam_type, body_part, exam_date)
	  SELECT 'ZY' || to_char(now(), 'YYYYMMDD') || lpad(nextval('diag_no_seq')::text, 6, '0'),
	    'superior', u.id, u.institution_id, al.id, t.id, '陈秀英', 'F', '63岁', :'p1',
	    '胸闷气促一周', '一周前无明显诱因出现胸闷、活动后气促', '糖尿病史8年', '肺部感染待排',
	    'CT', '胸部', current_date
	  FROM users u, alliances al, institutions t
	  WHERE u.login = 'qx_apply' AND al.code = 'YB-YLT' AND t.code = 'YB-CH'
	  RETURNING id, diag_no`, { params: [`BRW${Date.now()}`] });
	const findings = '双肺纹理增多、紊乱，右肺下叶后基底段见斑片状高密度影，边缘模糊。';
	const conclusion = '右肺下叶炎症。';
	const comment = '请补充纵隔淋巴结及胸腔积液情况的描述。';
	const revised = findings + '纵隔内未见肿大淋巴结，双侧胸腔未见积液。';

	const res = await session('yb_resident');
	const att = await session('yb_attending');
	const qx = await session('qx_apply');
	try {
		// 写报告: the resident takes the lock and types; autosave.
		let resp = await openReport(res.page, BASE, id);
		assert.equal(resp.status(), 200);
		assert.equal((await res.page.textContent('#diag-no')).trim(), diag);
		assert.equal(await res.page.locator('#btn-final').count(), 0);
		await res.page.fill('#findings', findings);
		await res.page.fill('#conclusion', conclusion);
		// Leaving each text box saves it (findings alone first, then
		// both): wait for the version with the conclusion.
		await res.page.click('h1');
		await res.page.locator('#autosave-status', { hasText: '已自动保存' }).waitFor();
		let saved = 0;
		for (let i = 0; i < 50 && saved === 0; i++) {
			saved = Number(sql(`SELECT coalesce(max(version), 0) FROM report_versions
			    WHERE application_id = :'p1' AND conclusion = :'p2'`, { params: [id, conclusion] })[0][0]);
			if (saved === 0)
				await res.page.waitForTimeout(100);
		}
		assert.ok(saved >= 1, 'the autosave stored both texts');
		await res.page.waitForFunction((v) => document.getElementById('report-version').value === v,
		    String(saved));
		assert.match(await res.page.textContent('#autosave-status'), /^已自动保存 \d\d:\d\d:\d\d$/);
		assert.deepEqual(appState(id), { state: 'reporting', holder: 'yb_resident', versions: saved });
		await res.page.screenshot({ path: path.join(OUT, 'report-write.png'), fullPage: true });

		// A second doctor sees who holds the lock, and no editor.
		resp = await openReport(att.page, BASE, id);
		assert.equal(resp.status(), 200);
		assert.equal((await att.page.textContent('#lock-message')).trim(),
		    '当前申请单已被其他医生锁定（锁定医生：周子健）');
		assert.equal(await att.page.locator('#report-form').count(), 0);
		await att.page.screenshot({ path: path.join(OUT, 'report-locked.png'), fullPage: true });

		// Another version saved elsewhere meanwhile: the autosave is
		// refused and the editor keeps what the resident typed.
		sql(`INSERT INTO report_versions (application_id, version, author_id, findings, conclusion)
		    SELECT :'p1'::bigint, :'p2'::int, u.id, '另一窗口的内容', '' FROM users u
		    WHERE u.login = 'yb_resident'`, { params: [id, saved + 1] });
		await res.page.fill('#findings', findings + '（补充）');
		await res.page.click('h1');
		await res.page.locator('#autosave-status', { hasText: STALE }).waitFor();
		assert.equal(await res.page.inputValue('#findings'), findings + '（补充）');
		assert.equal(appState(id).versions, saved + 1);

		// Reload (the latest version), write again and 提交审核.
		await openReport(res.page, BASE, id);
		assert.equal(await res.page.inputValue('#findings'), '另一窗口的内容');
		await res.page.fill('#findings', findings);
		await res.page.fill('#conclusion', conclusion);
		await Promise.all([res.page.waitForURL((u) => u.pathname === '/worklist'),
		    res.page.click('#btn-review')]);
		assert.equal(appState(id).state, 'in_review');

		// 审核 否 with a comment.
		resp = await att.page.goto(`${BASE}/review/decide?id=${id}`);
		assert.equal(resp.status(), 200);
		assert.equal((await att.page.textContent('#report-findings')).trim(), findings);
		await att.page.check('#approve-no');
		await Promise.all([att.page.waitForURL(/\/review\/decide$/), att.page.click('#btn-decide')]);
		assert.equal((await att.page.textContent('#review-error')).trim(), '审核不通过时请填写审核意见');
		await att.page.check('#approve-no');
		await att.page.fill('#comment', comment);
		await att.page.screenshot({ path: path.join(OUT, 'review-reject.png'), fullPage: true });
		await Promise.all([att.page.waitForURL((u) => u.pathname === '/review'),
		    att.page.click('#btn-decide')]);
		const back = appState(id);
		assert.equal(back.state, 'reporting');
		assert.equal(back.holder, 'yb_resident');
		const [[kind, latest]] = sql(`SELECT kind, findings FROM report_versions WHERE application_id = :'p1'
		    ORDER BY version DESC LIMIT 1`, { params: [id] });
		assert.deepEqual([kind, latest], ['submitted', findings], 'the submitted version is the latest');

		// The resident sees the comment, revises, resubmits.
		await openReport(res.page, BASE, id);
		assert.match(await res.page.textContent('#review-comment'), new RegExp(comment));
		assert.equal(await res.page.inputValue('#findings'), findings);
		await res.page.screenshot({ path: path.join(OUT, 'report-returned.png'), fullPage: true });
		await res.page.fill('#findings', revised);
		await Promise.all([res.page.waitForURL((u) => u.pathname === '/worklist'),
		    res.page.click('#btn-review')]);
		assert.equal(appState(id).state, 'in_review');

		// 审核 是.
		await att.page.goto(`${BASE}/review/decide?id=${id}`);
		assert.equal((await att.page.textContent('#report-findings')).trim(), revised);
		await att.page.check('#approve-yes');
		await Promise.all([att.page.waitForURL((u) => u.pathname === '/review'),
		    att.page.click('#btn-decide')]);
		assert.equal(appState(id).state, 'reviewed');

		// The applicant: 查看报告, then 打印.
		resp = await qx.page.goto(`${BASE}/report/view?id=${id}`);
		assert.equal(resp.status(), 200);
		assert.equal((await qx.page.textContent('#report-findings')).trim(), revised);
		assert.equal((await qx.page.textContent('#report-state')).trim(), '已审核');
		assert.equal(await qx.page.locator('table.versions tbody tr').count(), appState(id).versions);
		await qx.page.screenshot({ path: path.join(OUT, 'report-view.png'), fullPage: true });
		const [[printsBefore]] = sql(`SELECT count(*) FROM audit_log WHERE action = 'report_printed'
		    AND object_id = :'p1'`, { params: [id] });
		await Promise.all([qx.page.waitForURL(/\/report\/print\?id=/), qx.page.click('#btn-print-view')]);
		assert.equal((await qx.page.textContent('#print-hospital')).trim(), '粤北市中心医院');
		assert.equal((await qx.page.textContent('#print-diag-no')).trim(), diag);
		const [[printsAfter]] = sql(`SELECT count(*) FROM audit_log WHERE action = 'report_printed'
		    AND object_id = :'p1'`, { params: [id] });
		assert.equal(Number(printsAfter), Number(printsBefore) + 1);
		// The 打印 button opens the browser's print dialog.
		await qx.page.evaluate(() => {
			window.printCalls = 0;
			window.print = () => { window.printCalls++; };
		});
		await qx.page.click('#btn-print');
		assert.equal(await qx.page.evaluate(() => window.printCalls), 1);
		await qx.page.screenshot({ path: path.join(OUT, 'report-print.png'), fullPage: true });
		const pdf = path.join(OUT, 'report.pdf');
		await qx.page.pdf({ path: pdf, format: 'A4', preferCSSPageSize: true, printBackground: true });
		assert.ok(fs.statSync(pdf).size > 1000);
		const text = pdfText(pdf);
		if (text !== null) {
			const flat = text.replace(/\s+/g, '');
			assert.ok(flat.includes(diag), '诊断号 in the PDF');
			assert.ok(flat.includes(revised.replace(/\s+/g, '')), 'findings in the PDF');
			assert.ok(flat.includes('远程影像诊断报告'));
			assert.ok(flat.includes('第1页/共1页'), 'page number in the margin box');
		} else {
			const html = await qx.page.content();
			assert.ok(html.includes(diag) && html.includes(revised));
		}
		for (const s of [res, att, qx])
			assert.deepEqual(s.errors, [], 'no script errors');
	} finally {
		for (const s of [res, att, qx])
			await s.context.close();
	}
});
