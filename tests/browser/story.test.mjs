// tests/browser/story.test.mjs - the user manual's stories end to end,
// every step clicked in Debian's chromium (headless) with playwright-core,
// one browser context per user:
//
//   1. 上级诊断 with real DICOM: 申请 from the navigation, the upload of five
//      consecutive LIDC slices with the progress bar, the thumbnail and the
//      AI readers; 待诊断 → 写报告, the lock seen by a second doctor,
//      提交审核, 审核 否 with a comment, the revision, 审核 是, and the
//      applicant's 申请列表 → 查看报告 → 打印, rendered to an A4 PDF.
//   2. 自行诊断: the applicant's own attending writes and finalises the
//      report (提交报告); 申请列表 and 已诊断 show it 已报告.
//   3. 取消 of a 待报告 application, and 退回 by the upper hospital, then
//      修改并重新提交 back into 待诊断.
//
//   ZY_URL=http://127.0.0.1:PORT ZY_OUT=tests/out \
//       node --test --test-reporter=tap tests/browser/story.test.mjs
//
// ZY_URL is a running stack (tests/lib.sh stack_start); without it every
// test is skipped, and without the LIDC data the first one is.  A stack
// may end idle sessions early (ZHIYING_SESSION_IDLE): each step of a user
// starts by making sure that user is still logged in, and logs in again
// (through the login form) when the session has lapsed.  Screenshots and
// the PDF go to $ZY_OUT/browser/story-*.

import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromiumForFile, go } from './chromium.mjs';
import { slicesByZ } from '../integration/helpers.mjs';

const BASE = process.env.ZY_URL ? process.env.ZY_URL.replace(/\/+$/, '') : '';
const OUT = path.join(process.env.ZY_OUT || 'tests/out', 'browser');
const PASSWORD = 'Zhiying2026';
const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const DATA = process.env.ZY_DATA || `${ROOT}/../shared/data`;
const LIDC = `${DATA}/ct/LIDC-IDRI-0002`;

// Display names of the demo users, as the pages show them.
const NAME = {
	qx_apply: '张晓明',
	qx_doctor: '李建国',
	yb_resident: '周子健',
	yb_attending: '黄文静',
};

const skip = BASE === '' ? 'ZY_URL is not set: start a stack first (tests/lib.sh stack_start)' : false;
const skipDicom = skip || (fs.existsSync(LIDC) ? false :
    `${LIDC} not found: skipping the story with the DICOM upload`);

const chrome = chromiumForFile(skip, OUT);

// ---------------------------------------------------------------------
// Users

// Log the user of s in through the login form and land on the home page.
async function loginForm(s) {
	const resp = await s.page.goto(`${BASE}/login`);
	assert.equal(resp.status(), 200, `GET /login for ${s.login}`);
	await s.page.fill('#login', s.login);
	await s.page.fill('#password', PASSWORD);
	await go(s.page, '/', () => s.page.click('#submit'));
	assert.equal((await s.page.textContent('#current-user')).trim(), NAME[s.login]);
}

// A browser context of its own for a user, logged in.  Script errors and
// JavaScript dialogs are collected; a dialog is accepted, as a user who
// confirms would.
async function session(login) {
	const context = await chrome.browser.newContext({
		locale: 'zh-CN',
		viewport: { width: 1366, height: 900 },
	});
	context.setDefaultTimeout(30000);
	context.setDefaultNavigationTimeout(30000);
	const page = await context.newPage();
	const s = { login, context, page, errors: [], dialogs: [] };
	page.on('pageerror', (e) => s.errors.push(String(e)));
	page.on('console', (m) => {
		if (m.type() === 'error' && !/Failed to load resource/.test(m.text()))
			s.errors.push(m.text());
	});
	page.on('dialog', (d) => {
		s.dialogs.push(`${d.type()}: ${d.message()}`);
		d.accept().catch(() => {});
	});
	await loginForm(s);
	return s;
}

// The start of a user's step: the home page, logging in again if the
// session has ended while the others worked.
async function awake(s) {
	await s.page.goto(`${BASE}/`);
	if (new URL(s.page.url()).pathname === '/login')
		await loginForm(s);
	assert.equal(new URL(s.page.url()).pathname, '/');
}

// Click an item of the left navigation and wait for its page.
async function nav(s, label, pathname) {
	const link = s.page.locator('nav.sidebar a', { hasText: label }).first();
	await go(s.page, pathname, () => link.click());
	assert.equal((await s.page.locator('nav.sidebar a.active').textContent()).trim(), label);
}

// Open a list from the navigation and search it for one 诊断号 (精确), as
// a user finds an application among many.  Returns the row's locator.
async function listRow(s, label, pathname, diag) {
	await awake(s);
	await nav(s, label, pathname);
	await s.page.fill('#f-q', diag);
	await s.page.selectOption('#f-match', 'exact');
	await go(s.page, pathname, () => s.page.click('#f-submit'));
	assert.equal(new URL(s.page.url()).searchParams.get('q'), diag);
	return s.page.locator(`#list tbody tr[data-diag="${diag}"]`);
}

async function shot(s, name) {
	await s.page.screenshot({ path: path.join(OUT, `story-${name}.png`), fullPage: true });
}

async function closeAll(...ss) {
	for (const s of ss)
		if (s)
			await s.context.close();
}

function noScriptErrors(...ss) {
	for (const s of ss)
		assert.deepEqual(s.errors, [], `no script errors for ${s.login}`);
}

// ---------------------------------------------------------------------
// 申请

let serial = 0;

// An application's fields, distinct for each one made here.
function patient(extra = {}) {
	serial++;
	return {
		name: `林淑芬${serial}`,
		sexLabel: '女',
		age: '61岁',
		no: `STORY-${Date.now()}-${serial}`,
		phone: '13912345678',
		complaint: '咳嗽、咳痰三周，偶有痰中带血',
		illness: '三周前受凉后出现咳嗽，伴少量白痰，近一周痰中带血丝，无发热',
		history: '吸烟史30年，每日20支',
		diagnosis: '右肺占位待查',
		bodyPart: '胸部',
		...extra,
	};
}

// Fill the 申请 form the way a user does: every required field, and the
// diagnosis mode with its alliance and upper hospital.
async function fillApply(page, p, mode) {
	await page.fill('#patient_name', p.name);
	await page.selectOption('#patient_sex', { label: p.sexLabel });
	await page.fill('#patient_age', p.age);
	await page.fill('#patient_no', p.no);
	await page.fill('#patient_phone', p.phone);
	await page.fill('#chief_complaint', p.complaint);
	await page.fill('#present_illness', p.illness);
	await page.fill('#history', p.history);
	await page.fill('#clinical_diagnosis', p.diagnosis);
	await page.selectOption('#exam_type', { label: 'CT' });
	await page.fill('#body_part', p.bodyPart);
	await page.getByLabel('普通', { exact: true }).check();
	if (mode === 'superior') {
		await page.getByLabel('上级诊断', { exact: true }).check();
		await page.selectOption('#alliance', { label: '粤北医联体' });
		await page.selectOption('#target', { label: '粤北市中心医院' });
	} else {
		await page.getByLabel('自行诊断', { exact: true }).check();
	}
}

// qx_apply: 申请 from the navigation, filled and submitted.  Returns the
// application's id and 诊断号, read from the page it lands on.
async function apply(s, p, mode, shotName) {
	await awake(s);
	await nav(s, '申请', '/apply');
	assert.ok(await s.page.locator('#apply-form .req').count() >= 10,
	    'the required fields carry a red star');
	await fillApply(s.page, p, mode);
	if (shotName)
		await shot(s, shotName);
	await go(s.page, '/application', () => s.page.click('#submit'));
	const id = new URL(s.page.url()).searchParams.get('id');
	assert.match(id, /^\d+$/);
	await s.page.locator('#created').waitFor();
	const diag = (await s.page.textContent('#diag-no')).trim();
	assert.match(diag, /^ZY\d{8}\d{6}$/);
	assert.match(await s.page.textContent('#created'), new RegExp(`申请已提交，诊断号 ${diag}`));
	assert.equal((await s.page.textContent('#app-state')).trim(), '待报告');
	assert.equal((await s.page.textContent('#patient-name')).trim(), p.name);
	assert.equal((await s.page.textContent('#app-mode')).trim(),
	    mode === 'superior' ? '上级诊断' : '自行诊断');
	if (mode === 'superior')
		assert.equal((await s.page.textContent('#app-target')).trim(), '粤北市中心医院');
	return { id, diag };
}

// ---------------------------------------------------------------------
// DICOM

// Five neighbouring slices of the LIDC series (by position, not file
// name: the names are not in slice order), from the middle of the chest,
// with the series' regular spacing between them.
function fiveSlices() {
	const slices = slicesByZ(LIDC);
	assert.ok(slices.length >= 5, `slices with a position under ${LIDC}`);
	const gap = (k) => Math.abs(slices[k + 1].z - slices[k].z);
	for (let start = Math.floor(slices.length / 2) - 2; start + 5 <= slices.length; start++) {
		const run = slices.slice(start, start + 5);
		const gaps = [0, 1, 2, 3].map((k) => gap(start + k));
		if (gaps.every((g) => Math.abs(g - gaps[0]) < 0.01 && g > 0))
			return { files: run.map((x) => x.file), spacing: gaps[0] };
	}
	assert.fail('no five evenly spaced slices in the series');
}

function pdfText(file) {
	return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
}

// ---------------------------------------------------------------------
// 1. 上级诊断

test('上级诊断 with real DICOM: 申请, upload, 写报告, lock, 审核 否 and 是, 查看报告 and PDF',
    { skip: skipDicom }, async () => {
	const { files, spacing } = fiveSlices();
	assert.equal(spacing, 1.25, 'consecutive LIDC slices are 1.25 mm apart');
	const p = patient();
	const findings = '右肺上叶尖段见一枚实性结节，直径约8mm，边缘可见分叶及短毛刺，邻近胸膜牵拉。';
	const conclusion = '右肺上叶实性结节，建议3个月后复查胸部CT。';
	const comment = '请补充纵隔淋巴结情况及结节的CT值。';
	const revised = findings + '纵隔内未见肿大淋巴结，结节平均CT值约35HU。';

	let qx = null, res = null, att = null;
	try {
		// The applicant: 申请 → 上级诊断 to 粤北市中心医院.
		qx = await session('qx_apply');
		const { id, diag } = await apply(qx, p, 'superior', 'apply-superior');
		await shot(qx, 'application-created');

		// Five slices in one go through the file input, with the
		// progress bar, then the result list.
		const form = qx.page.locator('#upload-dicom form.upload-form');
		await qx.page.setInputFiles('#dicom-files', files);
		const reloaded = qx.page.waitForEvent('load', { timeout: 30000 });
		reloaded.catch(() => {});	// awaited below; not left unhandled if a check fails first
		await form.locator('button[type=submit]').click();
		await form.locator('.upload-progress:not([hidden])').waitFor();
		const results = qx.page.locator('#upload-dicom .upload-results li');
		await results.nth(4).waitFor({ timeout: 30000 });
		assert.equal(await qx.page.locator('#upload-dicom .upload-results li.ok').count(), 5,
		    (await results.allTextContents()).join('\n'));
		// Stored now, or stored before by another channel of this
		// stack (the DICOM receiver tests send the same series).
		// The images are of patient LIDC-IDRI-0002, not of this
		// application's patient number: stored, but not linked.
		for (const t of await results.allTextContents())
			assert.match(t, /^\d+\.dcm：(已上传：CT|该影像此前已上传，未重复保存).*；影像的患者信息与申请单不一致，尚未关联/, t);
		assert.deepEqual((await results.locator('.fname').allTextContents()).sort(),
		    files.map((f) => path.basename(f)).sort());
		assert.match(await form.locator('.upload-status').textContent(),
		    /^成功 5 个，未通过 0 个，其中 5 个的患者信息与申请单不一致，待核对，页面将刷新$/);
		assert.equal(await form.locator('.upload-progress').evaluate((b) => b.value), 100);
		await shot(qx, 'upload-done');

		// The page reloads by itself and shows the study held, both
		// sides of the patient number; the applicant checks, gives the
		// reason and links it.
		await reloaded;
		const held = qx.page.locator('#held-studies .held-study');
		await held.waitFor();
		assert.match(await held.locator('.held-diff').textContent(), /^患者号/);
		const idRow = held.locator('table.identity tr.differs').first();
		assert.deepEqual((await idRow.locator('td').allTextContents()).slice(0, 3),
		    ['身份证号/病历号（患者号）', p.no, 'LIDC-IDRI-0002']);
		assert.equal(await qx.page.locator('#no-studies').count(), 1, 'nothing linked yet');
		await shot(qx, 'upload-held');
		await held.locator('textarea.confirm-reason').fill('PACS以影像号登记，已与放射科核对为同一患者');
		await go(qx.page, '/application', () => held.locator('button.confirm-link').click());
		assert.equal(await qx.page.locator('#held-studies').count(), 0);
		assert.match(await qx.page.locator('.confirmed-mismatch').textContent(),
		    /患者信息与申请单不一致（患者号.*），由 .+ 确认关联，原因：PACS以影像号登记，已与放射科核对为同一患者$/);

		// The series is listed: a thumbnail that loads, and the AI
		// readers that fit or why none does.
		const row = qx.page.locator('#studies tr.series').first();
		await row.waitFor();
		assert.equal(await qx.page.locator('#no-studies').count(), 0);
		const cells = await row.locator('td').allTextContents();
		assert.equal(cells[1], 'CT');
		assert.ok(Number(cells[4]) >= 5, `层数 ${cells[4]}`);
		assert.equal(Number(cells[5]), 1.25, '层厚');
		const thumb = row.locator('img.thumb');
		await thumb.scrollIntoViewIfNeeded();
		// Polled from here: the pages' Content-Security-Policy forbids
		// the eval that page.waitForFunction needs.
		let width = 0;
		for (let i = 0; i < 150 && width === 0; i++) {
			width = await thumb.evaluate((img) => (img.complete ? img.naturalWidth : 0));
			if (width === 0)
				await qx.page.waitForTimeout(100);
		}
		assert.ok(width > 0, 'the thumbnail has loaded');
		const match = (await row.locator('td.match').textContent()).trim();
		const fits = await row.locator('td.match .fits').count();
		if (fits > 0)
			assert.match(match, /^适用：.*(肺结节|肺炎|骨折|骨密度|钙化)/, match);
		else
			assert.ok(match.length > 0, 'a reason why no AI reader fits');
		await row.scrollIntoViewIfNeeded();
		await shot(qx, 'application-series');

		// 待诊断 at the upper hospital: 待报告, then 写报告.
		res = await session('yb_resident');
		let r = await listRow(res, '待诊断', '/worklist', diag);
		assert.equal(await r.count(), 1, `${diag} in 待诊断`);
		assert.equal((await r.locator('td.state').textContent()).trim(), '待报告');
		assert.equal((await r.locator('td.name').textContent()).trim(), p.name);
		assert.equal((await r.locator('td.hospital').textContent()).trim(), '清溪县人民医院');
		await shot(res, 'worklist');
		// The link shows the application and takes nothing; its 写报告
		// button (a POST) takes the lock and opens the editor.
		await go(res.page, '/report', () => r.locator('a.act-write').click());
		assert.equal(await res.page.locator('#report-form').count(), 0, 'no editor before the button');
		await shot(res, 'report-offer');
		await go(res.page, '/report', () => res.page.click('#btn-take'));
		assert.equal((await res.page.textContent('#diag-no')).trim(), diag);
		assert.equal((await res.page.textContent('#patient-name')).trim(), p.name);
		assert.ok(await res.page.locator('#series-row li.series-card').count() >= 1,
		    'the editor shows the uploaded series');
		assert.equal(await res.page.locator('#btn-final').count(), 0, 'a resident cannot finalise');

		// A second doctor: the list names the holder, 写报告 is refused.
		att = await session('yb_attending');
		r = await listRow(att, '待诊断', '/worklist', diag);
		assert.equal((await r.locator('td.state').textContent()).trim(), '报告中');
		assert.equal((await r.locator('td.lock').textContent()).trim(), NAME.yb_resident);
		await go(att.page, '/report', () => r.locator('a.act-write').click());
		await go(att.page, '/report', () => att.page.click('#btn-take'));
		const lock = (await att.page.textContent('#lock-message')).trim();
		assert.match(lock, /当前申请单已被其他医生锁定/);
		assert.match(lock, new RegExp(NAME.yb_resident));
		assert.equal(await att.page.locator('#report-form').count(), 0, 'no editor for the second doctor');
		await shot(att, 'report-locked');

		// The resident writes and 提交审核 (back through 待诊断: the
		// lock is the resident's, the editor opens again).
		r = await listRow(res, '待诊断', '/worklist', diag);
		await go(res.page, '/report', () => r.locator('a.act-write').click());
		await res.page.fill('#findings', findings);
		await res.page.fill('#conclusion', conclusion);
		await shot(res, 'report-write');
		await go(res.page, '/worklist', () => res.page.click('#btn-review'));

		// 待审核 → 审核 → 否 with a comment.
		r = await listRow(att, '待审核', '/review', diag);
		assert.equal(await r.count(), 1, `${diag} in 待审核`);
		await go(att.page, '/review/decide', () => r.locator('a.act-review').click());
		assert.equal((await att.page.textContent('#report-findings')).trim(), findings);
		assert.equal((await att.page.textContent('#report-conclusion')).trim(), conclusion);
		assert.match((await att.page.textContent('#report-author')).trim(), new RegExp(`^${NAME.yb_resident}`));
		await att.page.check('#approve-no');
		await att.page.fill('#comment', comment);
		await shot(att, 'review-reject');
		await go(att.page, '/review', () => att.page.click('#btn-decide'));
		r = att.page.locator(`#list tbody tr[data-diag="${diag}"]`);
		assert.equal(await r.count(), 0, 'no longer in 待审核');

		// The resident sees the comment on 写报告, revises, resubmits.
		r = await listRow(res, '待诊断', '/worklist', diag);
		assert.equal((await r.locator('td.state').textContent()).trim(), '报告中');
		await go(res.page, '/report', () => r.locator('a.act-write').click());
		const back = res.page.locator('#review-comment');
		assert.match(await back.textContent(), new RegExp(comment));
		assert.match(await back.locator('.by').textContent(), new RegExp(NAME.yb_attending));
		assert.equal((await res.page.inputValue('#findings')).trim(), findings);
		await shot(res, 'report-returned');
		await res.page.fill('#findings', revised);
		await go(res.page, '/worklist', () => res.page.click('#btn-review'));

		// 审核 是.
		r = await listRow(att, '待审核', '/review', diag);
		await go(att.page, '/review/decide', () => r.locator('a.act-review').click());
		assert.equal((await att.page.textContent('#report-findings')).trim(), revised);
		await att.page.check('#approve-yes');
		await go(att.page, '/review', () => att.page.click('#btn-decide'));

		// The applicant: 申请列表 shows 已审核; 查看报告; 打印; PDF.
		r = await listRow(qx, '申请列表', '/applications', diag);
		assert.equal((await r.locator('td.state').textContent()).trim(), '已审核');
		await shot(qx, 'applications-reviewed');
		await go(qx.page, '/report/view', () => r.locator('a.act-report').click());
		assert.equal(new URL(qx.page.url()).searchParams.get('id'), id);
		assert.equal((await qx.page.textContent('#report-state')).trim(), '已审核');
		assert.equal((await qx.page.textContent('#report-findings')).trim(), revised);
		assert.match((await qx.page.textContent('#report-author')).trim(), new RegExp(`^${NAME.yb_resident}`));
		assert.match((await qx.page.textContent('#report-reviewer')).trim(), new RegExp(`^${NAME.yb_attending}`));
		await shot(qx, 'report-view');
		await go(qx.page, '/report/print', () => qx.page.click('#btn-print-view'));
		assert.equal((await qx.page.textContent('#print-diag-no')).trim(), diag);
		assert.equal((await qx.page.textContent('#print-patient')).trim(), p.name);
		await shot(qx, 'report-print');
		const pdf = path.join(OUT, 'story-report.pdf');
		await qx.page.pdf({ path: pdf, format: 'A4', printBackground: true });
		const flat = pdfText(pdf).replace(/\s+/g, '');
		assert.ok(flat.includes(diag), `诊断号 ${diag} in the PDF`);
		assert.ok(flat.includes(p.name), 'patient name in the PDF');
		assert.ok(flat.includes(revised.replace(/\s+/g, '')), 'findings in the PDF');
		assert.ok(flat.includes(conclusion), 'conclusion in the PDF');
		assert.ok(flat.includes(NAME.yb_attending), "the reviewer's name in the PDF");
		assert.ok(flat.includes('粤北市中心医院'), 'the reading hospital in the PDF');

		noScriptErrors(qx, res, att);
		assert.deepEqual([...qx.dialogs, ...res.dialogs, ...att.dialogs], []);
	} finally {
		await closeAll(qx, res, att);
	}
});

// ---------------------------------------------------------------------
// 2. 自行诊断

test('自行诊断: qx_doctor writes and 提交报告; 申请列表, 查看报告 and 已诊断 for the applicant',
    { skip }, async () => {
	const p = patient({ name: '陈国强', sexLabel: '男', age: '58岁', diagnosis: '慢性支气管炎' });
	const findings = '双肺纹理增粗，双下肺见少许索条影，余肺野清晰，气管支气管通畅。';
	const conclusion = '慢性支气管炎改变，双下肺少许纤维灶。';
	let qx = null, doc = null;
	try {
		qx = await session('qx_apply');
		const { id, diag } = await apply(qx, p, 'self', 'apply-self');

		// The hospital's own attending: 待诊断 → 写报告 → 提交报告.
		doc = await session('qx_doctor');
		let r = await listRow(doc, '待诊断', '/worklist', diag);
		assert.equal(await r.count(), 1, `${diag} in 待诊断`);
		assert.equal((await r.locator('td.state').textContent()).trim(), '待报告影像未到', 'no image linked: 影像未到');
		assert.equal(await r.locator('a.act-return').count(), 0, 'no 退回 of the own hospital\'s application');
		await go(doc.page, '/report', () => r.locator('a.act-write').click());
		await go(doc.page, '/report', () => doc.page.click('#btn-take'));
		assert.equal((await doc.page.textContent('#diag-no')).trim(), diag);
		await doc.page.fill('#findings', findings);
		await doc.page.fill('#conclusion', conclusion);
		await shot(doc, 'self-report-write');
		await go(doc.page, '/report/view', () => doc.page.click('#btn-final'));
		assert.equal((await doc.page.textContent('#report-state')).trim(), '已报告');
		assert.match((await doc.page.textContent('#report-author')).trim(), new RegExp(`^${NAME.qx_doctor}`));

		// The applicant: 申请列表 → 已报告 → 查看报告.
		r = await listRow(qx, '申请列表', '/applications', diag);
		assert.equal((await r.locator('td.state').textContent()).trim(), '已报告');
		assert.equal(await r.locator('a.act-cancel, details.act-cancel').count(), 0, 'no 取消 once reported');
		await go(qx.page, '/report/view', () => r.locator('a.act-report').click());
		assert.equal(new URL(qx.page.url()).searchParams.get('id'), id);
		assert.equal((await qx.page.textContent('#report-state')).trim(), '已报告');
		assert.equal((await qx.page.textContent('#report-findings')).trim(), findings);
		assert.equal((await qx.page.textContent('#report-conclusion')).trim(), conclusion);
		assert.equal(await qx.page.locator('#report-reviewer').count(), 0, 'no reviewer on a final report');
		await shot(qx, 'self-report-view');

		// 已诊断 lists it for the applicant.
		r = await listRow(qx, '已诊断', '/diagnosed', diag);
		assert.equal(await r.count(), 1, `${diag} in 已诊断`);
		assert.equal((await r.locator('td.state').textContent()).trim(), '已报告');
		assert.equal((await r.locator('td.reader').textContent()).trim(), '清溪县人民医院');
		await shot(qx, 'self-diagnosed');

		noScriptErrors(qx, doc);
	} finally {
		await closeAll(qx, doc);
	}
});

// ---------------------------------------------------------------------
// 3. 取消, 退回, 修改并重新提交

test('取消 of a 待报告 application; 退回 with a reason, 修改并重新提交, back in 待诊断',
    { skip }, async () => {
	const reason = '影像资料不完整，请补充增强CT序列及既往检查报告。';
	let qx = null, res = null;
	try {
		qx = await session('qx_apply');

		// 取消 from 申请列表, confirmed.
		const c = await apply(qx, patient({ name: '何美玲' }), 'superior');
		let r = await listRow(qx, '申请列表', '/applications', c.diag);
		assert.equal((await r.locator('td.state').textContent()).trim(), '待报告影像未到', 'no image linked: 影像未到');
		await r.locator('details.act-cancel summary').click();
		assert.match(await r.locator('details.act-cancel').textContent(), /确定取消该申请？/);
		await shot(qx, 'cancel-confirm');
		// The form carries next=, the list it was posted from: the user
		// is back on 申请列表, where the row now reads 已取消.
		await go(qx.page, '/applications', () => r.locator('details.act-cancel button[type=submit]').click());
		r = qx.page.locator('tr', { hasText: c.diag });
		assert.equal((await r.locator('td.state').textContent()).trim(), '已取消');
		await go(qx.page, '/application', () => qx.page.goto(`${BASE}/application?id=${c.id}`));
		assert.equal((await qx.page.textContent('#app-state')).trim(), '已取消');
		assert.equal(await qx.page.locator('#cancel').count(), 0, 'no 取消申请 once cancelled');
		r = await listRow(qx, '申请列表', '/applications', c.diag);
		assert.equal((await r.locator('td.state').textContent()).trim(), '已取消');
		assert.equal(await r.locator('a.act-detail').count(), 1, '已取消 offers 详情');
		assert.equal(await r.locator('details.act-cancel').count(), 0);
		await shot(qx, 'cancelled');

		// Another one, returned by the upper hospital with a reason.
		const p = patient({ name: '吴志明', sexLabel: '男' });
		const b = await apply(qx, p, 'superior');
		res = await session('yb_resident');
		r = await listRow(res, '待诊断', '/worklist', b.diag);
		assert.equal((await r.locator('td.state').textContent()).trim(), '待报告影像未到', 'no image linked: 影像未到');
		await r.locator('details.act-return summary').click();
		await r.locator('details.act-return textarea[name=reason]').fill(reason);
		await shot(res, 'return-reason');
		await go(res.page, '/worklist', () => r.locator('details.act-return button[type=submit]').click());
		assert.equal(await res.page.locator(`#list tbody tr[data-diag="${b.diag}"]`).count(), 0,
		    'a returned application leaves 待诊断');

		// The applicant sees 已退回 and the reason, edits, resubmits.
		r = await listRow(qx, '申请列表', '/applications', b.diag);
		assert.equal((await r.locator('td.state').textContent()).trim(), `已退回影像未到退回原因：${reason}`);
		await shot(qx, 'returned');
		await go(qx.page, '/application', () => r.locator('a.act-view').click());
		assert.equal((await qx.page.textContent('#app-state')).trim(), '已退回');
		assert.equal((await qx.page.textContent('#return-reason')).trim(), `退回原因：${reason}`);
		await go(qx.page, '/application/edit', () => qx.page.click('#edit'));
		assert.match(await qx.page.textContent('h1'), new RegExp(`诊断号 ${b.diag}`));
		assert.equal(await qx.page.inputValue('#patient_name'), p.name, 'the form comes back filled');
		assert.equal(await qx.page.inputValue('#patient_no'), p.no);
		const more = p.illness + '；已补充增强CT检查。';
		await qx.page.fill('#present_illness', more);
		await shot(qx, 'resubmit-form');
		await go(qx.page, '/application', () => qx.page.click('#submit'));
		assert.equal(new URL(qx.page.url()).searchParams.get('id'), b.id);
		assert.equal((await qx.page.textContent('#app-state')).trim(), '待报告');
		assert.equal(await qx.page.locator('#return-reason').count(), 0);
		assert.match(await qx.page.textContent('main'), new RegExp(more));

		// Back in 待诊断 at the upper hospital.
		r = await listRow(res, '待诊断', '/worklist', b.diag);
		assert.equal(await r.count(), 1, `${b.diag} in 待诊断 again`);
		assert.equal((await r.locator('td.state').textContent()).trim(), '待报告影像未到', 'no image linked: 影像未到');
		await shot(res, 'worklist-resubmitted');

		noScriptErrors(qx, res);
		assert.deepEqual([...qx.dialogs, ...res.dialogs], [], 'the pages confirm without dialogs');
	} finally {
		await closeAll(qx, res);
	}
});
