// tests/browser/apply.test.mjs - 申请 with its images and records on the
// form itself (issue 18, item 1), through Debian's chromium (headless)
// with playwright-core: the applicant fills the form, chooses DICOM files
// and a PDF, submits once, watches the progress bar and lands on the new
// application with its study and attachment; a file that is not DICOM is
// refused with its reason and the application is still made; a form with
// an error comes back with it and makes nothing.  No browser is
// downloaded.
//
//   ZY_URL=http://127.0.0.1:PORT ZY_STATE=... ZY_PGPORT=... ZY_OUT=tests/out \
//       node --test --test-reporter=tap tests/browser/apply.test.mjs

import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromiumForFile, go } from './chromium.mjs';
import { sql } from '../integration/helpers.mjs';

const BASE = process.env.ZY_URL ? process.env.ZY_URL.replace(/\/+$/, '') : '';
const OUT = path.join(process.env.ZY_OUT || 'tests/out', 'browser');
const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const DATA = process.env.ZY_DATA || `${ROOT}/../shared/data`;
const CXR = `${DATA}/xray/chest/nih-cxr14_DX_1024x1024_8bit_via-nhsx-nccid.dcm`;
const PASSWORD = 'Zhiying2026';

const skip = BASE === '' ? 'ZY_URL is not set: start a stack first (tests/lib.sh stack_start)'
	: !fs.existsSync(CXR) ? `${CXR} not found` : false;
const chrome = chromiumForFile(skip, OUT);
const work = skip ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'zy-apply-'));
test.after(() => { if (work) fs.rmSync(work, { recursive: true, force: true }); });

// The chest radiograph as a study of its own, of patient pid.
function film(pid, name) {
	const file = path.join(work, name);
	fs.copyFileSync(CXR, file);
	execFileSync('dcmodify', ['-nb', '-gst', '-gse', '-gin', '-i', `(0010,0020)=${pid}`,
	    '-i', '(0010,0010)=', file], { stdio: 'ignore' });
	return file;
}

// A small valid PDF.
function pdf(name) {
	const file = path.join(work, name);
	fs.writeFileSync(file, '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n' +
	    '2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');
	return file;
}

async function session(login) {
	const context = await chrome.browser.newContext({ locale: 'zh-CN', viewport: { width: 1366, height: 900 } });
	context.setDefaultTimeout(30000);
	context.setDefaultNavigationTimeout(30000);
	const page = await context.newPage();
	const errors = [];
	page.on('pageerror', (e) => errors.push(String(e)));
	const resp = await page.goto(`${BASE}/login`);
	assert.equal(resp.status(), 200);
	await page.fill('#login', login);
	await page.fill('#password', PASSWORD);
	await Promise.all([page.waitForURL((u) => u.pathname === '/'), page.click('#submit')]);
	return { context, page, errors };
}

async function fill(page, p) {
	await page.goto(`${BASE}/apply`);
	await page.fill('#patient_name', p.name);
	await page.selectOption('#patient_sex', { label: '男' });
	await page.fill('#patient_age', '81岁');
	await page.fill('#patient_no', p.no);
	await page.fill('#patient_phone', '13800000009');
	await page.fill('#chief_complaint', '咳嗽两月');
	await page.fill('#present_illness', '午后低热，盗汗');
	await page.fill('#history', '无');
	await page.fill('#clinical_diagnosis', p.diagnosis ?? '肺结核待排');
	await page.selectOption('#exam_type', { label: 'DR' });
	await page.fill('#body_part', '胸部');
	await page.getByLabel('普通', { exact: true }).check();
	await page.getByLabel('自行诊断', { exact: true }).check();
}

test('申请 with a DICOM film and a PDF chosen on the form: one submit, a progress bar, the application with both',
    { skip }, async () => {
	const s = await session('qx_apply');
	try {
		const pid = `AP${process.pid}${Date.now() % 100000}`;
		await fill(s.page, { name: '冯国强', no: pid });
		await s.page.setInputFiles('#apply-dicom', [film(pid, 'chest.dcm')]);
		await s.page.setInputFiles('#apply-attachments', [pdf('record.pdf')]);
		await s.page.screenshot({ path: path.join(OUT, 'apply-files.png'), fullPage: true });
		const landed = s.page.waitForURL((u) => u.pathname === '/application' && u.searchParams.get('created') === '1',
		    { timeout: 60000 });
		// The bar may show and the page move on faster than a poll: the
		// page itself reports the moment the bar is shown.
		let barShown = false;
		await s.page.exposeFunction('zyBarShown', () => { barShown = true; });
		await s.page.evaluate(() => {
			const bar = document.getElementById('apply-progress');
			new MutationObserver(() => { if (!bar.hidden) window.zyBarShown(); })
			    .observe(bar, { attributes: true, attributeFilter: ['hidden'] });
		});
		await s.page.click('#submit');
		await landed;
		assert.ok(barShown, 'the progress bar was shown while the files went up');
		await s.page.locator('#created').waitFor();
		const id = new URL(s.page.url()).searchParams.get('id');
		// The film is linked (its patient is the application's) and
		// matched with the application: a DR 胸部 film fits 肺结核.
		const row = s.page.locator('#studies tr.series').first();
		await row.waitFor();
		assert.equal((await row.locator('td').nth(1).textContent()).trim(), 'DX');
		assert.match(await row.locator('td.match').textContent(), /适用：.*DR肺结核智能诊断/);
		assert.deepEqual(await s.page.locator('#attachments tbody td:first-child').allTextContents(), ['record.pdf']);
		assert.deepEqual(sql(`SELECT linked_by FROM application_studies WHERE application_id = ${Number(id)}`),
		    [['upload']]);
		assert.deepEqual(s.errors, []);
		await s.page.screenshot({ path: path.join(OUT, 'apply-files-done.png'), fullPage: true });
	} finally {
		await s.context.close();
	}
});

test('申请 with a file that is not DICOM: made, the refusal and its reason shown, then 查看申请单', { skip }, async () => {
	const s = await session('qx_apply');
	try {
		const pid = `AQ${process.pid}${Date.now() % 100000}`;
		await fill(s.page, { name: '冯国华', no: pid });
		const bogus = path.join(work, 'notes.dcm');
		fs.writeFileSync(bogus, 'not a DICOM file');
		await s.page.setInputFiles('#apply-dicom', [film(pid, 'chest2.dcm'), bogus]);
		await s.page.click('#submit');
		const open = s.page.locator('#apply-open');
		await open.waitFor({ timeout: 60000 });
		const results = await s.page.locator('#apply-results li').allTextContents();
		assert.equal(results.length, 2, results.join('\n'));
		assert.match(results.find((t) => t.startsWith('chest2.dcm')), /^chest2\.dcm：已上传：DX/);
		assert.match(results.find((t) => t.startsWith('notes.dcm')), /^notes\.dcm：不是有效的DICOM文件/);
		assert.match(await s.page.textContent('#apply-status'), /^申请已提交。文件成功 1 个，未通过 1 个。$/);
		assert.equal(new URL(s.page.url()).pathname, '/apply', 'the results stay in view');
		await go(s.page, '/application', () => open.click());
		await s.page.locator('#studies tr.series').first().waitFor();
		assert.deepEqual(s.errors, []);
	} finally {
		await s.context.close();
	}
});

test('申请 with files and a missing field: the form comes back with the error, nothing is made', { skip }, async () => {
	const s = await session('qx_apply');
	try {
		const pid = `AR${process.pid}${Date.now() % 100000}`;
		await fill(s.page, { name: '冯国民', no: pid, diagnosis: '' });
		await s.page.setInputFiles('#apply-dicom', [film(pid, 'chest3.dcm')]);
		await s.page.click('#submit');
		await s.page.locator('#err-clinical_diagnosis').waitFor();
		assert.equal((await s.page.textContent('#err-clinical_diagnosis')).trim(), '请填写临床诊断');
		assert.equal(await s.page.inputValue('#patient_no'), pid, 'the form comes back filled');
		assert.deepEqual(sql(`SELECT count(*) FROM applications WHERE patient_no = '${pid}'`), [['0']]);
		assert.deepEqual(sql(`SELECT count(*) FROM patients WHERE patient_id = '${pid}'`), [['0']]);
	} finally {
		await s.context.close();
	}
});
