// What the browser tests of the CT readers share: a chest CT application
// made by lw_apply (a grassroots hospital of 江南县医共体) for 上级诊断 by
// 江南县人民医院, filled in and submitted through the 申请 form; the study
// sent by DCMTK's storescu; the wait for its series matched and linked.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { go, userSession } from './chromium.mjs';
import { sql } from '../integration/helpers.mjs';

const run = promisify(execFile);
const PASSWORD = 'Zhiying2026';

// Today as the form's date fields take it, local time.
export function today() {
	const d = new Date();
	const p = (n) => String(n).padStart(2, '0');
	return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

// Send the *.dcm files under dir to the stack's receiver as LW_COLLECTOR.
export function storescu(dir) {
	return run('storescu', ['-aet', 'LW_COLLECTOR', '-aec', 'ZHIYING', '+sd', '+r', '+sp', '*.dcm',
	    '127.0.0.1', process.env.ZY_SCP_PORT, dir], { env: { ...process.env, TCP_NODELAY: '1' }, maxBuffer: 1 << 24 });
}

// 申请 from the navigation, as lw_apply in a browser context of its own
// (closed after), for the patient p: { name, sex ('男'/'女'), age, no,
// phone, complaint, illness, history, diagnosis, examDate (default
// today) }.  Returns { id, diag }: the application and its 诊断号, read
// from the page the submit lands on.  The applicant's pages must raise
// no script error or Content Security Policy violation.
export async function applyChestCt(browser, base, p) {
	const s = await userSession(browser, base, 'lw_apply', PASSWORD);
	try {
		const { page } = s;
		await go(page, '/apply', () => page.locator('nav.sidebar a', { hasText: '申请' }).first().click());
		await page.fill('#patient_name', p.name);
		await page.selectOption('#patient_sex', { label: p.sex });
		await page.fill('#patient_age', p.age);
		await page.fill('#patient_no', p.no);
		await page.fill('#patient_phone', p.phone);
		await page.fill('#chief_complaint', p.complaint);
		await page.fill('#present_illness', p.illness);
		await page.fill('#history', p.history);
		await page.fill('#clinical_diagnosis', p.diagnosis);
		await page.selectOption('#exam_type', { label: 'CT' });
		await page.fill('#body_part', '胸部');
		await page.fill('#exam_date', p.examDate ?? today());
		await page.getByLabel('普通', { exact: true }).check();
		await page.getByLabel('上级诊断', { exact: true }).check();
		await page.selectOption('#alliance', { label: '江南县医共体' });
		await page.selectOption('#target', { label: '江南县人民医院' });
		await go(page, '/application', () => page.click('#submit'));
		const id = Number(new URL(page.url()).searchParams.get('id'));
		assert.ok(id > 0, 'the application is created');
		await page.locator('#created').waitFor();
		const diag = (await page.textContent('#diag-no')).trim();
		assert.deepEqual(s.errors, [], 'no script errors or CSP violations on the applicant\'s pages');
		return { id, diag };
	} finally {
		await s.context.close();
	}
}

// Wait (up to ms) for the series seriesUid of study studyUid to be matched
// and its study linked to application id; returns [series id, instances].
export async function matchedSeries(id, studyUid, seriesUid, ms = 60000) {
	const end = Date.now() + ms;
	for (;;) {
		const r = sql(`SELECT se.id, se.instance_count FROM application_studies x
		    JOIN studies st ON st.id = x.study_id JOIN series se ON se.study_id = st.id
		    WHERE x.application_id = :'p1' AND st.study_uid = :'p2' AND se.series_uid = :'p3'
		      AND se.matched_at IS NOT NULL`, { params: [id, studyUid, seriesUid] });
		if (r.length)
			return r[0];
		if (Date.now() > end)
			assert.fail(`the study to be matched and linked to application ${id}: not within ${ms / 1000} s`);
		await new Promise((res) => setTimeout(res, 200));
	}
}
