// tests/browser/ai.test.mjs - the “粤医智影” result page (AI辅助功能页面),
// reached from row 2 of 写报告, in Debian's chromium (headless) with
// playwright-core, on a real uploaded CT:
//
//   1. 龙湾镇卫生院 (lw_apply) applies for 上级诊断 at 江南县人民医院 and
//      uploads six consecutive LIDC slices; a finished 肺结节 job with its
//      result and three lesions is written by SQL (slice_uids from the
//      series' instances by Instance Number, nx/ny from the images), first
//      as 分析中.  The doctor (jn_attending) opens 写报告, types a draft,
//      sees the card turn 完成 by itself (report.js polls /ai/jobs),
//      follows it, sees the disclaimer and, in the viewer beside the
//      lesion table, the slice with the boxes of its lesions where their
//      voxels are (zoomed and panned too), pages through the slices
//      (wheel, keys, a lesion row clicked or Enter on it), changes the
//      window, opens MPR and 三维, sorts the lesion table, unchecks
//      one lesion and presses 上传影像结论: the report editor then holds the
//      draft, the result's text and the checked lesions' text, not the
//      unchecked one's, saved as a version with ai_used.
//   2. Over plain HTTP: doctors of another alliance get 404 on every AI
//      endpoint of that job and change nothing; a job that is not of the
//      application is 404 too; the page works without scripts (z in the
//      URL); a stale version or a lost lock refuses 上传影像结论 and
//      stores nothing.
//
//   ZY_URL=... ZY_STATE=... ZY_PGPORT=... ZY_OUT=tests/out \
//       node --test --test-reporter=spec tests/browser/ai.test.mjs
//
// The stack comes from tests/lib.sh stack_start; without ZY_URL the tests
// are skipped, and without ../shared/data (the LIDC series) too.
// Screenshots go to $ZY_OUT/browser/ai-*.png.

import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromiumForFile, go, openReport, userSession } from './chromium.mjs';
import { AXIAL, assertAt, imageRect, preset, shownBoxes, until, voxelRect, waitSlice, wheel } from './aiview.mjs';
import { Client, hiddenCsrf, unescapeHtml, sql, slicesByZ } from '../integration/helpers.mjs';

const BASE = process.env.ZY_URL ? process.env.ZY_URL.replace(/\/+$/, '') : '';
const OUT = path.join(process.env.ZY_OUT || 'tests/out', 'browser');
const PASSWORD = 'Zhiying2026';
const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const DATA = process.env.ZY_DATA || `${ROOT}/../shared/data`;
const LIDC = `${DATA}/ct/LIDC-IDRI-0002`;
const DISCLAIMER = '人工智能辅助阅片结果仅供参考，不得直接用于诊疗。';

const skip = BASE === '' ? 'ZY_URL is not set: start a stack first (tests/lib.sh stack_start)' :
    !fs.existsSync(LIDC) ? `${LIDC} not found: skipping the AI result page tests` : false;

const chrome = chromiumForFile(skip, OUT);

// ---------------------------------------------------------------------
// The study and the AI result

// Six neighbouring slices from the middle of the LIDC chest CT.
function sixSlices() {
	const slices = slicesByZ(LIDC);
	assert.ok(slices.length >= 6, `slices with a position under ${LIDC}`);
	const mid = Math.floor(slices.length / 2) - 3;
	return slices.slice(mid, mid + 6).map((x) => x.file);
}

// An application of lw_apply for 上级诊断 at 江南县人民医院, for the patient
// of the LIDC slices it gets (a study whose patient differs from the
// application's is held, not linked).
function newApplication() {
	const [[id, diag]] = sql(`INSERT INTO applications (diag_no, mode, applicant_id,
	    applicant_institution_id, alliance_id, target_institution_id, patient_name, patient_sex,
	    patient_age, patient_no, chief_complaint, present_illness, history, clinical_diagnosis,
	    exam_type, body_part, exam_date)
	  SELECT 'ZY' || to_char(now(), 'YYYYMMDD') || lpad(nextval('diag_no_seq')::text, 6, '0'),
	    'superior', u.id, u.institution_id, al.id, t.id, '邓秀兰', 'F', '58岁', 'LIDC-IDRI-0002',
	    '体检发现肺部结节', '体检胸部CT提示肺结节，无咳嗽咳痰', '无', '肺结节待查',
	    'CT', '胸部', current_date
	  FROM users u, alliances al, institutions t
	  WHERE u.login = 'lw_apply' AND al.code = 'JN-YGT' AND t.code = 'JN-PH'
	  RETURNING id, diag_no`);
	return { id: Number(id), diag };
}

async function login(login) {
	const c = new Client();
	const r = await c.login(login);
	assert.equal(r.status, 303, `login ${login}`);
	c.token = await c.csrf();
	return c;
}

// Upload the files to application id as a browser's form does; returns
// the id of the series they make.
async function upload(id, files) {
	const c = await login('lw_apply');
	const fd = new FormData();
	for (const f of files)
		fd.append('files', new Blob([fs.readFileSync(f)], { type: 'application/dicom' }), path.basename(f));
	const r = await c.request('POST', `/upload/dicom?id=${id}&csrf=${encodeURIComponent(c.token)}`,
	    { body: fd, headers: { accept: 'application/json' } });
	assert.equal(r.status, 200, r.text);
	const res = JSON.parse(r.text);
	assert.deepEqual(res.files.map((f) => f.ok), files.map(() => true), r.text);
	const rows = sql(`SELECT DISTINCT se.id FROM application_studies x
	    JOIN series se ON se.study_id = x.study_id WHERE x.application_id = :'p1'`, { params: [id] });
	assert.equal(rows.length, 1, 'one series linked');
	return Number(rows[0][0]);
}

const RESULT = {
	findings: '双肺纹理清晰，肺野内见多发结节影，详见下述。',
	conclusion: 'AI提示双肺多发结节。',
	method: '测试用结果（由测试写入数据库）；长径、短径按Fleischner学会2017年指南测量。',
};

// Lesion 3 has no 影像结论 of its own.
const LESIONS = [
	{ idx: 1, type: '实性结节', location: '右肺上叶', slice: 2, box: [300, 150, 330, 176], confidence: 0.93,
	  measurements: [{ name: '长径', value: 8.2, unit: 'mm' }, { name: '短径', value: 6.1, unit: 'mm' },
	      { name: 'CT值', value: 35, unit: 'HU' }],
	  findings: '右肺上叶尖段见一实性结节，长径约8.2mm，边缘分叶。',
	  conclusion: '右肺上叶实性结节，建议3个月后复查。' },
	{ idx: 2, type: '磨玻璃结节', location: '左肺下叶', slice: 4, box: [120, 260, 160, 300], confidence: 0.61,
	  measurements: [{ name: '长径', value: 12.5, unit: 'mm' }, { name: '短径', value: 9, unit: 'mm' }],
	  findings: '左肺下叶背段见磨玻璃结节，长径约12.5mm。',
	  conclusion: '左肺下叶磨玻璃结节，建议随访。' },
	{ idx: 3, type: '钙化结节', location: '右肺中叶', slice: 2, box: [360, 300, 372, 311], confidence: 0.78,
	  measurements: [{ name: '长径', value: 3.4, unit: 'mm' }],
	  findings: '右肺中叶外侧段见一钙化结节，长径约3.4mm。',
	  conclusion: '' },
];

// A 肺结节 job on the series in state, with its result and lesions
// (LESIONS unless told) and histograms.  Returns { job, n, nx, ny }.
function writeResult(series, state, { lesions = LESIONS, histograms = [] } = {}) {
	const inst = sql(`SELECT sop_instance_uid, cols, rows FROM instances WHERE series_id = :'p1'
	    ORDER BY instance_number, id`, { params: [series] });
	const uids = inst.map((r) => r[0]);
	const nx = Number(inst[0][1]), ny = Number(inst[0][2]);
	const [[job]] = sql(`INSERT INTO ai_jobs (series_id, reader, state, slices, leased_by, lease_until,
	    finished_at)
	  VALUES (:'p1', 'ct_lung_nodule', :'p2', :'p3', 'ai-test', now() + interval '1 hour',
	    CASE WHEN :'p2' = 'done' THEN now() END)
	  ON CONFLICT (series_id, reader) DO UPDATE SET state = EXCLUDED.state, error = '',
	    leased_by = EXCLUDED.leased_by, lease_until = EXCLUDED.lease_until,
	    finished_at = EXCLUDED.finished_at, updated_at = now()
	  RETURNING id`, { params: [series, state, uids.length] });
	const summary = [{ name: '结节数', value: 3, unit: '个' }, { name: '最大长径', value: 12.5, unit: 'mm' },
	    { name: '检出置信度阈值', value: 0.5, unit: '' }];
	const keys = [{ slice: 2, window_center: -600, window_width: 1500, caption: '右肺上叶实性结节' }];
	const [[result]] = sql(`INSERT INTO ai_results (job_id, series_id, reader, backend, summary, key_images,
	    findings_text, conclusion_text, slice_uids, nx, ny, method, histograms)
	  VALUES (:'p1', :'p2', 'ct_lung_nodule', 'cpu', :'p3'::jsonb, :'p4'::jsonb, :'p5', :'p6',
	    string_to_array(:'p7', ','), :'p8', :'p9', :'p10', :'p11'::jsonb)
	  ON CONFLICT (series_id, reader) DO UPDATE SET job_id = EXCLUDED.job_id,
	    summary = EXCLUDED.summary, key_images = EXCLUDED.key_images,
	    findings_text = EXCLUDED.findings_text, conclusion_text = EXCLUDED.conclusion_text,
	    slice_uids = EXCLUDED.slice_uids, nx = EXCLUDED.nx, ny = EXCLUDED.ny,
	    method = EXCLUDED.method, histograms = EXCLUDED.histograms, updated_at = now()
	  RETURNING id`, { params: [job, series, JSON.stringify(summary), JSON.stringify(keys),
	    RESULT.findings, RESULT.conclusion, uids.join(','), nx, ny, RESULT.method,
	    JSON.stringify(histograms)] });
	sql(`DELETE FROM ai_lesions WHERE result_id = :'p1'`, { params: [result] });
	for (const l of lesions)
		sql(`INSERT INTO ai_lesions (result_id, idx, type, location, measurements, slice, x0, y0, x1, y1,
		    confidence, findings_text, conclusion_text)
		  VALUES (:'p1', :'p2', :'p3', :'p4', :'p5'::jsonb, :'p6', :'p7', :'p8', :'p9', :'p10', :'p11',
		    :'p12', :'p13')`, { params: [result, l.idx, l.type, l.location, JSON.stringify(l.measurements),
		    l.slice, ...l.box, l.confidence, l.findings, l.conclusion] });
	return { job: Number(job), n: uids.length, nx, ny };
}

function setJobState(job, state) {
	sql(`UPDATE ai_jobs SET state = :'p2', finished_at = CASE WHEN :'p2' = 'done' THEN now() END,
	    updated_at = now() WHERE id = :'p1'`, { params: [job, state] });
}

// The report versions of application id: [version, findings, conclusion,
// ai_used ('t' or 'f')], oldest first.  Through JSON, which keeps the
// line ends of the texts.
function versions(id) {
	return sql(`SELECT json_build_array(version::text, findings, conclusion,
	    CASE WHEN ai_used THEN 't' ELSE 'f' END) FROM report_versions
	    WHERE application_id = :'p1' ORDER BY version`, { params: [id] }).map((r) => JSON.parse(r[0]));
}

// ---------------------------------------------------------------------
// The browser

async function session(login) {
	return userSession(chrome.browser, BASE, login, PASSWORD);
}

async function tableOrder(page) {
	return page.locator('#lesion-table tbody tr').evaluateAll((trs) => trs.map((t) => Number(t.dataset.idx)));
}

async function sortBy(page, name) {
	await page.locator('#lesion-table thead th', { hasText: name }).click();
}

// The card of job turns 完成 without a reload.  When it does not, the
// failure says what the row showed and how /ai/jobs answered.
async function waitDone(page, job, timeout) {
	const done = page.locator(`#ai-row li.ai-card.done[data-job="${job}"]`);
	try {
		await done.waitFor({ timeout });
	} catch (e) {
		const row = await page.locator('#ai-row').evaluate((e) => e.outerHTML).catch(() => '?');
		const log = process.env.ZY_STATE ? `${process.env.ZY_STATE}/log/nginx-access.log` : '';
		const polls = log && fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n')
		    .filter((l) => l.includes('/ai/jobs')).slice(-6).join('\n') : '';
		assert.fail(`the card of job ${job} did not turn 完成: ${e.message}\nrow: ${row}\npolls:\n${polls}`);
	}
	return done;
}

test('写报告 → “粤医智影” page → 上传影像结论 into the editor', { skip }, async () => {
	const app = newApplication();
	const series = await upload(app.id, sixSlices());
	const { job, n, nx, ny } = writeResult(series, 'running');
	assert.equal(n, 6);
	const draftF = '医生初步意见：双肺可见结节。';
	const draftC = '双肺结节，待AI核对。';
	const doc = await session('jn_attending');
	const { page } = doc;
	try {
		// 写报告: the card says 分析中, then 完成 without a reload.
		let resp = await openReport(page, BASE, app.id);
		assert.equal(resp.status(), 200);
		const card = page.locator(`#ai-row li.ai-card[data-job="${job}"]`);
		assert.equal((await card.locator('.job-state').textContent()).trim(), '分析中');
		assert.equal(await card.locator('a.ai-open').count(), 0);
		await page.fill('#findings', draftF);
		await page.fill('#conclusion', draftC);
		setJobState(job, 'done');
		const done = await waitDone(page, job, 30000);
		assert.equal((await done.locator('.job-state').textContent()).trim(), '完成');
		assert.equal((await done.locator('.reader').textContent()).trim(), 'CT肺结节智能诊断');
		await page.screenshot({ path: path.join(OUT, 'ai-report-row.png'), fullPage: true });

		// Following it saves the draft first.
		await go(page, '/ai/result', () => done.locator('a.ai-open').click());
		const u = new URL(page.url());
		assert.equal(u.searchParams.get('id'), String(app.id));
		assert.equal(u.searchParams.get('job'), String(job));
		assert.deepEqual(versions(app.id).at(-1).slice(1), [draftF, draftC, 'f']);
		assert.equal((await page.textContent('#ai-disclaimer')).trim(), DISCLAIMER);
		assert.ok(await page.locator('#ai-disclaimer').isVisible());
		assert.equal((await page.textContent('#ai-reader')).trim(), 'CT肺结节智能诊断');
		assert.equal((await page.textContent('#ai-state')).trim(), '完成');
		assert.match(await page.textContent('#ai-method'), /Fleischner学会2017年指南/);
		assert.match(await page.textContent('#ai-series'), /^序列 /);

		// The first key image's slice, in the window nearest to its own,
		// in the viewer of 查看影像图片 beside the lesion table, on a
		// screen of 1366x768.
		await page.setViewportSize({ width: 1366, height: 768 });
		assert.equal((await page.textContent('#slice-no')).trim(), '第 3 / 6 层');
		await waitSlice(page, 2, 'lung');
		assert.equal(await page.getAttribute('#zv-presets button.on', 'data-preset'), 'lung');
		assert.equal(await page.getAttribute('#zv', 'data-series'), String(series), 'the series of the result');
		assert.deepEqual((await shownBoxes(page)).sort(), [1, 3]);
		// The viewer's image of each of the result's slices (by their
		// SOP Instance UIDs: the result lists them by Instance Number).
		const { zk } = JSON.parse(await page.getAttribute('#zv', 'data-annot'));
		assert.deepEqual([...zk].sort(), [0, 1, 2, 3, 4, 5]);
		const down = zk[3] > zk[2] ? 1 : -1;	// the wheel's way from slice 3 to 4
		// Side by side at 1366x768, the viewer and the table above the fold.
		const zvBox = await page.locator('#zv').boundingBox();
		const tableBox = await page.locator('#lesion-table').boundingBox();
		assert.ok(tableBox.x >= zvBox.x + zvBox.width, `the table beside the viewer: ${JSON.stringify([zvBox, tableBox])}`);
		const keyBox = await page.locator('#btn-key-set').boundingBox();
		assert.ok(zvBox.y + zvBox.height <= 768 && keyBox.y + keyBox.height <= 768 && tableBox.y < 768 - 100,
		    `above the fold: ${JSON.stringify([zvBox, keyBox, tableBox])}`);
		// The box of lesion 1 sits where its voxels are, numbered; it
		// follows zoom and pan.
		const box1 = () => page.locator('#zv .zv-box[data-idx="1"]').boundingBox();
		const img = await imageRect(page);
		assertAt(await box1(), voxelRect(img, nx, ny, LESIONS[0].box), 'box 1');
		assert.equal(await page.textContent('#zv .zv-box[data-idx="1"] span'), '1');
		await page.locator(AXIAL).focus();
		await page.keyboard.press('=');
		await page.keyboard.press('=');
		const zoomed = await imageRect(page);
		assert.ok(zoomed.width > img.width * 1.5, `zoomed: ${zoomed.width} vs ${img.width}`);
		assertAt(await box1(), voxelRect(zoomed, nx, ny, LESIONS[0].box), 'box 1 zoomed');
		await page.keyboard.press('Shift+ArrowLeft');
		const panned = await imageRect(page);
		assert.ok(panned.x < zoomed.x - 5, 'panned');
		assertAt(await box1(), voxelRect(panned, nx, ny, LESIONS[0].box), 'box 1 panned');
		await page.screenshot({ path: path.join(OUT, 'ai-result-zoomed.png') });
		await page.keyboard.press('r');
		assertAt(await box1(), voxelRect(img, nx, ny, LESIONS[0].box), 'box 1 again');
		await page.screenshot({ path: path.join(OUT, 'ai-result.png'), fullPage: true });

		// The wheel: the next slice, no lesion there; the one after,
		// lesion 2; the keys step too.
		await wheel(page, 120 * down);
		await waitSlice(page, 3);
		assert.equal((await page.textContent('#slice-no')).trim(), '第 4 / 6 层');
		assert.deepEqual(await shownBoxes(page), []);
		assert.equal(new URL(page.url()).searchParams.get('z'), '3');
		await wheel(page, 120 * down);
		await waitSlice(page, 4);
		assert.equal((await page.textContent('#slice-no')).trim(), '第 5 / 6 层');
		assert.deepEqual(await shownBoxes(page), [2]);
		const up = down > 0 ? 'ArrowUp' : 'ArrowDown';
		await page.keyboard.press(up);
		await page.keyboard.press(up);
		await waitSlice(page, 2);
		assert.equal((await page.textContent('#slice-no')).trim(), '第 3 / 6 层');
		assert.equal(await page.inputValue('#zv-slider'), String(zk[2] + 1));
		await page.keyboard.press(down > 0 ? 'Home' : 'End');
		await waitSlice(page, 0);
		assert.equal((await page.textContent('#slice-no')).trim(), '第 1 / 6 层');
		await page.keyboard.press(down > 0 ? 'End' : 'Home');
		await waitSlice(page, 5);
		assert.equal((await page.textContent('#slice-no')).trim(), '第 6 / 6 层');
		// A lesion row: its slice, its box marked; Enter on a row too.
		await page.locator('#lesion-table tbody tr[data-idx="2"] td.type').click();
		await waitSlice(page, 4);
		assert.equal((await page.textContent('#slice-no')).trim(), '第 5 / 6 层');
		assert.deepEqual(await shownBoxes(page), [2]);
		assert.deepEqual(await page.locator('#zv .zv-box.pick').evaluateAll((es) => es.map((e) => e.dataset.idx)), ['2']);
		assert.equal(await page.locator('#lesion-table tbody tr.here').getAttribute('data-idx'), '2');
		await page.locator('#lesion-table tbody tr[data-idx="3"]').focus();
		await page.keyboard.press('Enter');
		await waitSlice(page, 2);
		assert.deepEqual(await page.locator('#zv .zv-box.pick').evaluateAll((es) => es.map((e) => e.dataset.idx)), ['3']);
		assert.deepEqual((await shownBoxes(page)).sort(), [1, 3]);
		// 骨窗 then 纵隔窗.
		await preset(page, 'bone');
		await waitSlice(page, 2, 'bone');
		await preset(page, 'mediastinum');
		await waitSlice(page, 2, 'mediastinum');
		assert.equal(new URL(page.url()).searchParams.get('window'), 'mediastinum');
		// MPR and 三维 from here: the boxes stay on the axial image.
		await page.click('#zv-mpr');
		assert.equal(await page.getAttribute('#zv', 'data-mpr'), '1');
		assert.ok(await page.locator('#zv .zv-view[data-plane="coronal"]').isVisible());
		assert.equal(await page.locator('#zv .zv-view[data-plane="coronal"] .zv-box').count(), 0);
		assert.deepEqual((await shownBoxes(page)).sort(), [1, 3]);
		await page.click('#zv-mpr');
		await page.click('#zv-3d');
		assert.equal(await page.getAttribute('#zv', 'data-3d'), '1');
		await page.locator('#zv-v3d[data-full="1"]').waitFor();
		await page.locator('#lesion-table tbody tr[data-idx="2"] td.type').click();
		assert.equal(await page.getAttribute('#zv', 'data-3d'), '0', 'a lesion row leaves 三维 for its slice');
		await waitSlice(page, 4, 'mediastinum');
		assert.deepEqual(await shownBoxes(page), [2]);

		// The table: columns from the measurements; sorted by a click.
		const heads = (await page.locator('#lesion-table thead th').allTextContents()).map((t) => t.trim());
		assert.deepEqual(heads, ['选择', '序号', '类型', '位置', '长径', '短径', 'CT值', '置信度', '层面']);
		const row1 = (await page.locator('#lesion-table tbody tr[data-idx="1"] td').allTextContents())
		    .map((t) => t.trim());
		assert.deepEqual(row1, ['', '1', '实性结节', '右肺上叶', '8.2 mm', '6.1 mm', '35 HU', '93.0%', '第 3 层']);
		assert.equal((await page.locator('#lesion-table tbody tr[data-idx="3"] td').nth(5).textContent()).trim(), '—');
		await sortBy(page, '置信度');
		assert.deepEqual(await tableOrder(page), [2, 3, 1]);
		await sortBy(page, '置信度');
		assert.deepEqual(await tableOrder(page), [1, 3, 2]);
		await sortBy(page, '长径');
		assert.deepEqual(await tableOrder(page), [3, 1, 2]);
		await sortBy(page, '短径');
		assert.deepEqual(await tableOrder(page), [1, 2, 3], 'no value sorts last');
		await sortBy(page, '类型');
		assert.equal((await tableOrder(page)).length, 3);
		await sortBy(page, '序号');
		assert.deepEqual(await tableOrder(page), [1, 2, 3]);

		// The figures and the text.
		const figures = await page.locator('#summary-table tbody tr').evaluateAll((trs) =>
		    trs.map((t) => [...t.cells].map((c) => c.textContent.trim())));
		assert.deepEqual(figures, [['结节数', '3', '个'], ['最大长径', '12.5', 'mm'], ['检出置信度阈值', '0.5', '']]);
		assert.equal((await page.textContent('#ai-findings')).trim(), RESULT.findings);
		assert.equal((await page.textContent('#ai-conclusion')).trim(), RESULT.conclusion);

		// Lesion 2 left out; 上传影像结论.
		assert.ok(await page.isChecked('#lesion-1') && await page.isChecked('#lesion-2') &&
		    await page.isChecked('#lesion-3'), 'checked by default');
		await page.uncheck('#lesion-2');
		await page.screenshot({ path: path.join(OUT, 'ai-result-sorted.png'), fullPage: true });
		const before_ = versions(app.id).length;
		await go(page, '/report', () => page.click('#btn-upload'));
		assert.equal(new URL(page.url()).searchParams.get('id'), String(app.id));
		assert.equal((await page.textContent('#report-notice')).trim(),
		    '已将AI辅助阅片意见加入报告，请核对修改后再提交');
		const findings = await page.inputValue('#findings');
		const conclusion = await page.inputValue('#conclusion');
		assert.equal(findings, [draftF, '', RESULT.findings, LESIONS[0].findings, LESIONS[2].findings].join('\n'));
		assert.equal(conclusion, [draftC, '', RESULT.conclusion, LESIONS[0].conclusion].join('\n'));
		assert.ok(!findings.includes(LESIONS[1].findings) && !conclusion.includes(LESIONS[1].conclusion),
		    'the unchecked lesion is left out');
		const vs = versions(app.id);
		assert.equal(vs.length, before_ + 1);
		assert.deepEqual(vs.at(-1).slice(1), [findings, conclusion, 't']);
		assert.equal(await page.inputValue('#report-version'), vs.at(-1)[0]);
		assert.equal(await page.inputValue('#report-ai-used'), '1');
		const [[audited]] = sql(`SELECT count(*) FROM audit_log WHERE action = 'report_saved'
		    AND object_type = 'application' AND object_id = :'p1'`, { params: [app.id] });
		assert.equal(Number(audited), vs.length);
		await page.screenshot({ path: path.join(OUT, 'ai-report-after-upload.png'), fullPage: true });
		assert.deepEqual(doc.errors, [], 'no script errors or CSP violations');
	} finally {
		await doc.context.close();
	}
});

// ---------------------------------------------------------------------
// Access and refusals over HTTP

test('other alliances see nothing; no scripts needed; stale or unlocked uploads store nothing', { skip }, async () => {
	const app = newApplication();
	const series = await upload(app.id, sixSlices());
	const { job } = writeResult(series, 'done');
	const other = newApplication();	// no study: the job is not its
	const result = `/ai/result?id=${app.id}&job=${job}`;
	const slice = `/ai/slice?job=${job}&z=2&window=lung`;

	// Outsiders: 粤北医联体's doctors, and an applicant of the same
	// alliance who is no doctor.
	for (const who of ['yb_attending', 'gd_chief', 'qx_doctor']) {
		const c = await login(who);
		for (const url of [result, slice, `/ai/jobs?id=${app.id}`, `/ai/result?id=${other.id}&job=${job}`]) {
			const r = await c.get(url);
			assert.equal(r.status, 404, `${who} ${url}`);
			assert.ok(!r.text.includes('邓秀兰') && !r.headers.get('content-type').startsWith('image/'),
			    `${who} ${url}`);
		}
		const n = versions(app.id).length;
		const r = await c.post('/ai/upload', { csrf: c.token, id: String(app.id), job: String(job),
		    version: '0', stamp: '1', lesion: '1' });
		assert.equal(r.status, 404, `${who} upload`);
		assert.equal(versions(app.id).length, n);
	}
	const bs = await login('bs_apply');
	assert.equal((await bs.get(result)).status, 403, 'an applicant has no AI page');
	assert.equal((await bs.get(slice)).status, 403);

	// The reading doctors: the page, the slice as PNG, the row as JSON.
	const jn = await login('jn_attending');
	const chief = await login('jn_chief');
	let r = await chief.get(slice);
	assert.equal(r.status, 200);
	assert.equal(r.headers.get('content-type'), 'image/png');
	assert.equal((await jn.get(`/ai/result?id=${other.id}&job=${job}`)).status, 404, 'not a job of that application');
	assert.equal((await jn.get(`/ai/slice?job=${job}&z=6`)).status, 404, 'past the last slice');
	r = await jn.get(`/ai/jobs?id=${app.id}`);
	assert.equal(r.status, 200);
	const card = JSON.parse(r.text).cards.find((x) => x.job === String(job));
	assert.deepEqual([card.state, card.cls, card.href], ['完成', 'done', `/ai/result?id=${app.id}&job=${job}`]);

	// Without scripts: z and window in the URL, the boxes of that slice.
	r = await jn.get(`${result}&z=4&window=bone`);
	assert.equal(r.status, 200);
	const html = unescapeHtml(r.text);
	const has = (re, what) => assert.ok(re.test(html), what);
	has(/id="slice-no"[^>]*>第 5 \/ 6 层</, '第 5 / 6 层');
	has(/<g class="box" data-slice="4" data-idx="2">/, 'the box of lesion 2 shown');
	has(/<g class="box off" data-slice="2" data-idx="1">/, 'the box of lesion 1 hidden');
	has(new RegExp(`src="/ai/slice\\?job=${job}&z=4&window=bone"`), 'the slice image');
	has(new RegExp(`id="slice-next"[^>]*href="/ai/result\\?id=${app.id}&job=${job}&z=5&window=bone"`), '下一层');
	has(new RegExp(`id="slice-prev"[^>]*href="/ai/result\\?id=${app.id}&job=${job}&z=3&window=bone"`), '上一层');
	has(/<a class="win on" [^>]*data-window="bone">骨窗</, '骨窗 chosen');
	// The same in a browser without scripts: the still slice and its
	// links, no viewer.
	{
		const context = await chrome.browser.newContext({ locale: 'zh-CN', javaScriptEnabled: false,
		    viewport: { width: 1366, height: 768 } });
		try {
			const page = await context.newPage();
			await page.goto(`${BASE}/login`);
			await page.fill('#login', 'jn_attending');
			await page.fill('#password', PASSWORD);
			await go(page, '/', () => page.click('#submit'));
			await page.goto(`${BASE}${result}&z=4&window=bone`);
			assert.equal(await page.locator('#zv').isVisible(), false, 'no viewer without scripts');
			assert.ok(await page.locator('#slice-img').isVisible());
			assert.equal(await page.getAttribute('#slice-img', 'src'), `/ai/slice?job=${job}&z=4&window=bone`);
			assert.deepEqual(await page.locator('#boxes g.box').evaluateAll((gs) => gs
			    .filter((g) => getComputedStyle(g).display !== 'none').map((g) => g.dataset.idx)), ['2']);
			await go(page, '/ai/result', () => page.click('#slice-next'));
			assert.equal((await page.textContent('#slice-no')).trim(), '第 6 / 6 层');
			await page.screenshot({ path: path.join(OUT, 'ai-result-noscript.png'), fullPage: true });
		} finally {
			await context.close();
		}
	}
	assert.ok(html.includes(DISCLAIMER));
	// Lesions without 体积 or 恶性概率: the reader's order and 按层面 only;
	// no histogram.
	assert.deepEqual([...html.matchAll(/<a class="order[^"]*"[^>]*>([^<]*)</g)].map((m) => m[1]), ['默认顺序', '按层面']);
	assert.ok(!html.includes('id="ai-hists"'), 'no histogram section');

	// 上传影像结论 needs the lock of 写报告.
	let page = await jn.get(result);
	const form = (html) => ({
		csrf: hiddenCsrf(html), id: String(app.id), job: String(job),
		version: unescapeHtml(html.match(/name="version" value="([^"]*)"/)[1]),
		stamp: unescapeHtml(html.match(/name="stamp" value="([^"]*)"/)[1]),
	});
	assert.ok(page.text.includes('id="upload-lock-hint"'), 'the lock hint');
	r = await jn.post('/ai/upload', { ...form(page.text), lesion: '1' });
	assert.equal(r.status, 409);
	assert.ok(/id="ai-error"[^>]*>您已不再锁定该申请单/.test(r.text), 'lock lost');
	assert.equal(versions(app.id).length, 0);

	// Locked; another version saved meanwhile (写报告 in another tab):
	// stale, nothing stored, the choice kept.
	assert.equal((await jn.write(app.id)).status, 200);
	page = await jn.get(result);
	assert.ok(!page.text.includes('id="upload-lock-hint"'), 'no lock hint');
	const stale = form(page.text);
	r = await jn.post('/report/save', { csrf: jn.token, id: String(app.id), version: stale.version,
	    findings: '另一窗口的内容', conclusion: '', ai_used: '0' });
	assert.equal(r.status, 303);
	const body = new URLSearchParams({ ...stale });
	body.append('lesion', '3');
	r = await jn.request('POST', '/ai/upload', { body: body.toString(),
	    headers: { 'content-type': 'application/x-www-form-urlencoded' } });
	assert.equal(r.status, 409);
	assert.ok(r.text.includes('报告已在写报告页面被修改，影像结论未上传'), 'stale');
	assert.ok(/id="lesion-3"[^>]* checked/.test(r.text), 'lesion 3 still checked');
	assert.ok(!/id="lesion-1"[^>]* checked/.test(r.text), 'lesion 1 still unchecked');
	assert.deepEqual(versions(app.id).map((v) => v[1]), ['另一窗口的内容']);

	// A result written again meanwhile: refused, to be looked at first.
	page = await jn.get(result);
	const fresh = form(page.text);
	sql(`UPDATE ai_results SET updated_at = now() + interval '1 second' WHERE job_id = :'p1'`, { params: [job] });
	r = await jn.post('/ai/upload', { ...fresh, lesion: '1' });
	assert.equal(r.status, 409);
	assert.ok(r.text.includes('AI阅片结果已更新'), 'result changed');
	assert.equal(versions(app.id).length, 1);

	// No lesion checked: the result's own text only.
	page = await jn.get(result);
	r = await jn.post('/ai/upload', form(page.text));
	assert.equal(r.status, 303);
	assert.equal(r.location, `/report?id=${app.id}&ai=1`);
	assert.deepEqual(versions(app.id).at(-1).slice(1),
	    [`另一窗口的内容\n\n${RESULT.findings}`, RESULT.conclusion, 't']);
	await jn.post('/report/unlock', { csrf: jn.token, id: String(app.id) });
});

// ---------------------------------------------------------------------
// The AI row of 写报告 while the network or the session fails

test('the AI row outlasts a failed request, and says so when the session has ended', { skip }, async () => {
	const app = newApplication();
	const series = await upload(app.id, sixSlices());
	const { job } = writeResult(series, 'running');
	const doc = await session('jn_attending');
	const { page } = doc;
	try {
		// The first poll is lost on the way (a dropped connection):
		// the row asks again later and still turns 完成.
		let asked = 0;
		await page.route('**/ai/jobs?*', (route) => (++asked === 1 ? route.abort('connectionreset') :
		    route.continue()));
		assert.equal((await openReport(page, BASE, app.id)).status(), 200);
		const card = page.locator(`#ai-row li.ai-card[data-job="${job}"]`);
		assert.equal((await card.locator('.job-state').textContent()).trim(), '分析中');
		setJobState(job, 'done');
		const done = await waitDone(page, job, 40000);
		assert.ok(asked >= 2, `asked ${asked} times`);
		assert.equal(await done.locator('a.ai-open').count(), 1);
		assert.equal(await page.locator('#ai-row .ai-stopped').count(), 0);
		await page.unroute('**/ai/jobs?*');

		// The job runs again; the session ends (timed out, or logged
		// out elsewhere) while the page is open: the row says so
		// instead of standing still, and nothing is drawn from the
		// login page.
		setJobState(job, 'running');
		await page.reload();
		assert.equal((await card.locator('.job-state').textContent()).trim(), '分析中');
		sql(`DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE login = 'jn_attending')`);
		const note = page.locator('#ai-row li.ai-stopped');
		await note.waitFor({ timeout: 20000 });
		assert.equal((await note.textContent()).trim(), '登录已失效，请重新登录后刷新本页查看AI阅片状态');
		assert.equal((await card.locator('.job-state').textContent()).trim(), '分析中');
		await page.screenshot({ path: path.join(OUT, 'ai-report-session-ended.png'), fullPage: true });
		assert.deepEqual(doc.errors, [], 'no script errors or CSP violations');
	} finally {
		await doc.context.close();
	}
});

// ---------------------------------------------------------------------
// 肺结节: the orders of the lesion table and the lungs' histograms

// Four nodules: 3 has no 恶性概率, 4 no 体积; 1 and 3 share a slice, 3
// higher up in the image.
const NODULES = [
	{ idx: 1, type: '实性结节', location: '右肺上叶', slice: 3, box: [300, 200, 320, 220], confidence: 0.9,
	  measurements: [{ name: '体积', value: 120, unit: 'mm³' }, { name: '恶性概率', value: 12, unit: '%' }],
	  findings: '结节一。', conclusion: '结节一结论。' },
	{ idx: 2, type: '部分实性结节', location: '右肺下叶', slice: 1, box: [100, 300, 130, 330], confidence: 0.8,
	  measurements: [{ name: '体积', value: 850.5, unit: 'mm³' }, { name: '恶性概率', value: 64, unit: '%' }],
	  findings: '结节二。', conclusion: '结节二结论。' },
	{ idx: 3, type: '磨玻璃结节', location: '左肺上叶', slice: 3, box: [150, 100, 170, 120], confidence: 0.7,
	  measurements: [{ name: '体积', value: 40, unit: 'mm³' }],
	  findings: '结节三。', conclusion: '' },
	{ idx: 4, type: '实性结节', location: '左肺下叶', slice: 5, box: [200, 250, 230, 280], confidence: 0.95,
	  measurements: [{ name: '恶性概率', value: 88, unit: '%' }],
	  findings: '结节四。', conclusion: '结节四结论。' },
];
const ORDERS = {
	'': [1, 2, 3, 4],
	volume: [2, 1, 3, 4],		// largest first, 4 (none) last
	malignancy: [4, 2, 1, 3],	// likeliest first, 3 (none) last
	slice: [2, 3, 1, 4],		// slice 2, then slice 4 from the top, then slice 6
};

// The lungs' CT-number histograms, 100 bins of 10 HU from -1000 HU: a
// peak at -875 HU (the middle of a bin) on the right; the left with a
// name that must come out escaped.
function lungHist(name, peak, measures) {
	const counts = Array.from({ length: 100 }, (_, i) => (i >= 90 ? 0 : Math.round(5000 * Math.exp(-(((-995 + 10 * i) - peak) ** 2) / 5000))));
	return { name, lo: -1000, width: 10, counts, measures };
}
const HISTS = [
	lungHist('右肺', -875, [{ name: '容积', value: 2710.4, unit: 'ml' }, { name: '平均CT值', value: -856.2, unit: 'HU' },
	    { name: 'LAA-950', value: 12.3, unit: '%' }]),
	lungHist('左肺<b>', -885, [{ name: '容积', value: 2400, unit: 'ml' }]),
];

// The lesion numbers of the table, in the order of the page's HTML.
const rowsOf = (html) => [...html.matchAll(/<tr class="lesion[^"]*" data-idx="(\d+)"/g)].map((m) => Number(m[1]));

test('设为关键图像 with another series of the application shown: off, saying why, and back on with the result\'s series', { skip }, async () => {
	// The six slices, and six more sent again as a second series of the
	// same patient (new Series and SOP Instance UIDs).
	const app = newApplication();
	const series = await upload(app.id, sixSlices());
	const work = fs.mkdtempSync(path.join(os.tmpdir(), 'zy-ai-second-'));
	try {
		const files = sixSlices().map((f, i) => {
			const to = path.join(work, `s2-${i}.dcm`);
			fs.copyFileSync(f, to);
			return to;
		});
		// One new study and series for the six (dcmodify's -gst/-gse
		// would give each file its own), so that the LIDC study the
		// other tests upload keeps its one series.
		const uid = () => `2.25.${BigInt.asUintN(64, BigInt(Date.now()) * 1000003n + BigInt(Math.floor(Math.random() * 1e9)))}${Math.floor(Math.random() * 1e6)}`;
		execFileSync('dcmodify', ['-nb', '-gin', '-m', `(0020,000d)=${uid()}`, '-m', `(0020,000e)=${uid()}`,
		    '-m', '(0020,0011)=902', ...files], { stdio: 'ignore' });
		const c = await login('lw_apply');
		const fd = new FormData();
		for (const f of files)
			fd.append('files', new Blob([fs.readFileSync(f)], { type: 'application/dicom' }), path.basename(f));
		const r = await c.request('POST', `/upload/dicom?id=${app.id}&csrf=${encodeURIComponent(c.token)}`,
		    { body: fd, headers: { accept: 'application/json' } });
		assert.equal(r.status, 200, r.text);
	} finally {
		fs.rmSync(work, { recursive: true, force: true });
	}
	const both = sql(`SELECT se.id FROM application_studies x JOIN series se ON se.study_id = x.study_id
	    WHERE x.application_id = :'p1' ORDER BY se.id`, { params: [app.id] }).map((row) => Number(row[0]));
	assert.equal(both.length, 2, 'two series linked');
	const { job } = writeResult(series, 'done');
	const doc = await session('jn_attending');
	const { page } = doc;
	try {
		assert.equal((await openReport(page, BASE, app.id)).status(), 200);
		await page.setViewportSize({ width: 1366, height: 768 });
		await page.goto(`${BASE}/ai/result?id=${app.id}&job=${job}`);
		await waitSlice(page, 2, 'lung');
		assert.equal(await page.locator('#btn-key-set').isEnabled(), true);
		assert.equal(await page.locator('#key-other').isVisible(), false);
		// ]: the other series; the result's boxes go, 设为关键图像 is off
		// and says why.
		await page.locator(AXIAL).focus();
		await page.keyboard.press(']');
		await until('the other series', async () => await page.getAttribute('#zv', 'data-series') !== String(series));
		await until('设为关键图像 off', async () => !(await page.locator('#btn-key-set').isEnabled()));
		assert.equal(await page.locator('#key-other').isVisible(), true);
		assert.equal((await page.textContent('#key-other')).trim(), '当前显示的不是AI分析的层面，不能设为关键图像');
		assert.deepEqual(await shownBoxes(page), []);
		assert.equal((await page.textContent('#slice-no')).trim(), '当前影像不是AI分析的层面');
		// [: the result's series again, on a slice of the result.
		await page.keyboard.press('[');
		await until('the result\'s series', async () => await page.getAttribute('#zv', 'data-series') === String(series));
		await until('设为关键图像 on', async () => await page.locator('#btn-key-set').isEnabled());
		assert.equal(await page.locator('#key-other').isVisible(), false);
		assert.match((await page.textContent('#slice-no')).trim(), /^第 \d \/ 6 层$/);
		await page.screenshot({ path: path.join(OUT, 'ai-key-other-series.png') });
		assert.deepEqual(doc.errors, []);
	} finally {
		await doc.context.close();
	}
});

test('肺结节: the lesion table by 体积, 恶性概率 and 层面, taken by number in any order; the lungs\' histograms', { skip }, async () => {
	const app = newApplication();
	const series = await upload(app.id, sixSlices());
	const { job } = writeResult(series, 'done', { lesions: NODULES, histograms: HISTS });
	const result = `/ai/result?id=${app.id}&job=${job}`;
	const jn = await login('jn_attending');

	// Each order over plain HTTP; the links carry the slice and window
	// shown, and the order goes with the slice links and both forms.
	for (const [word, order] of Object.entries(ORDERS)) {
		const r = await jn.get(`${result}&z=2&window=lung${word ? `&sort=${word}` : ''}`);
		assert.equal(r.status, 200);
		const html = unescapeHtml(r.text);
		assert.deepEqual(rowsOf(html), order, `order ${word || 'of the reader'}`);
		assert.deepEqual([...html.match(/<thead>([\s\S]*?)<\/thead>/)[1].matchAll(/<th[^>]*>([^<]*)<\/th>/g)]
		    .map((m) => m[1]), ['选择', '序号', '类型', '位置', '体积', '恶性概率', '置信度', '层面'], 'the columns stay');
		const links = [...html.matchAll(/<a class="order( on)?" href="([^"]*)" data-sort="([^"]*)"[^>]*>([^<]*)</g)]
		    .map((m) => ({ on: !!m[1], href: m[2], word: m[3], zh: m[4] }));
		assert.deepEqual(links.map((l) => l.zh), ['默认顺序', '按体积', '按恶性概率', '按层面']);
		assert.deepEqual(links.filter((l) => l.on).map((l) => l.word), [word]);
		for (const l of links)
			assert.equal(l.href, `/ai/result?id=${app.id}&job=${job}&z=2&window=lung${l.word ? `&sort=${l.word}` : ''}`);
		const tail = word ? `&sort=${word}` : '';
		assert.ok(html.includes(`id="slice-next" class="step" href="/ai/result?id=${app.id}&job=${job}&z=3&window=lung${tail}"`),
		    '下一层 keeps the order');
		assert.equal([...html.matchAll(/<input type="hidden" name="sort" value="([^"]*)">/g)].map((m) => m[1]).join(),
		    [word, word, word].join(), 'the forms (跳转, 上传影像结论, 设为关键图像) keep the order');
	}
	// A word of another page, or none known: the reader's order.
	for (const bad of ['time', 'volumes', '体积'])
		assert.deepEqual(rowsOf(unescapeHtml((await jn.get(`${result}&sort=${encodeURIComponent(bad)}`)).text)),
		    ORDERS['']);

	// The histograms: one chart each, drawn by the server.
	const raw = (await jn.get(result)).text;
	assert.ok(raw.includes('<figcaption class="hist-title">左肺&lt;b&gt;CT密度直方图</figcaption>'), 'escaped');
	assert.ok(!raw.includes('左肺<b>'));
	let html = unescapeHtml(raw);
	const fig = (n) => html.match(new RegExp(`<figure class="hist" id="hist-${n}">([\\s\\S]*?)</figure>`))[1];
	assert.match(fig(1), /<figcaption class="hist-title">右肺CT密度直方图<\/figcaption>/);
	const bars = [...fig(1).matchAll(/<rect x="([0-9.]+)" y="([0-9.]+)" width="([0-9.]+)" height="([0-9.]+)"><title>([^<]*)<\/title>/g)];
	assert.equal(bars.length, HISTS[0].counts.filter((c) => c > 0).length, 'a bar for each bin with voxels');
	// The tallest bar fills the plot (166 high); the bars are 4.2 wide
	// from x 46; the peak's bin (-880 to -870 HU, the 13th) is the tallest.
	const tallest = bars.reduce((a, b) => (Number(b[4]) > Number(a[4]) ? b : a));
	assert.equal(Number(tallest[4]), 166);
	assert.equal(Number(tallest[3]), 4.2);
	const total = HISTS[0].counts.reduce((a, b) => a + b, 0);
	const peakPct = (100 * Math.max(...HISTS[0].counts) / total).toFixed(1).replace(/\.0$/, '');
	assert.equal(unescapeHtml(tallest[5]), `-880 ~ -870 HU：${peakPct}%`);
	assert.ok(Math.abs(Number(tallest[1]) - (46 + 4.2 * 12)) < 0.01, tallest[1]);
	// The axis in HU, and the -950 HU line at its place.
	assert.deepEqual([...fig(1).matchAll(/<g class="tick">.*?<text[^>]*>([^<]*)<\/text><\/g>/g)].map((m) => m[1]),
	    ['-1000', '-800', '-600', '-400', '-200', '0']);
	assert.match(fig(1), /<g class="laa"><line x1="67\.00" [^>]*><\/line><text [^>]*>-950 HU<\/text><\/g>/);
	assert.match(fig(1), /CT值（HU）/);
	const figures = [...fig(1).matchAll(/<tr><th>([^<]*)<\/th><td class="num">([^<]*)<\/td><td>([^<]*)<\/td><\/tr>/g)]
	    .map((m) => m.slice(1));
	assert.deepEqual(figures, [['容积', '2710.4', 'ml'], ['平均CT值', '-856.2', 'HU'], ['LAA-950', '12.3', '%']]);

	// 上传影像结论 from the page sorted by 恶性概率, lesions 4 and 1 (its
	// first and third rows): their text, by number.  A refusal shows
	// the page again in that order.
	assert.equal((await jn.write(app.id)).status, 200);
	html = (await jn.get(`${result}&sort=malignancy`)).text;
	const form = {
		csrf: hiddenCsrf(html), id: String(app.id), job: String(job), sort: 'malignancy',
		version: unescapeHtml(html.match(/name="version" value="([^"]*)"/)[1]),
		stamp: unescapeHtml(html.match(/name="stamp" value="([^"]*)"/)[1]),
	};
	const post = (f) => {
		const body = new URLSearchParams(f);
		body.append('lesion', '4');
		body.append('lesion', '1');
		return jn.request('POST', '/ai/upload', { body: body.toString(),
		    headers: { 'content-type': 'application/x-www-form-urlencoded' } });
	};
	let r = await post({ ...form, stamp: '1' });
	assert.equal(r.status, 409);
	assert.deepEqual(rowsOf(unescapeHtml(r.text)), ORDERS.malignancy, 'the refusal keeps the order');
	assert.equal(versions(app.id).length, 0);
	r = await post(form);
	assert.equal(r.status, 303);
	assert.deepEqual(versions(app.id).at(-1).slice(1), [[RESULT.findings, NODULES[0].findings, NODULES[3].findings].join('\n'),
	    [RESULT.conclusion, NODULES[0].conclusion, NODULES[3].conclusion].join('\n'), 't']);

	// In the browser: 按恶性概率 reorders the table; the slice shown moves
	// with the keys and the order's links follow it; the charts show.
	const doc = await session('jn_attending');
	const { page } = doc;
	try {
		await page.goto(`${BASE}${result}&z=1&window=lung`);
		await go(page, '/ai/result', () => page.locator('#lesion-sort a', { hasText: '按恶性概率' }).click());
		assert.equal(new URL(page.url()).searchParams.get('sort'), 'malignancy');
		assert.deepEqual(await tableOrder(page), ORDERS.malignancy);
		assert.equal((await page.textContent('#slice-no')).trim(), '第 2 / 6 层');
		await waitSlice(page, 1, 'lung');
		const { zk } = JSON.parse(await page.getAttribute('#zv', 'data-annot'));
		await page.locator(AXIAL).focus();
		await page.keyboard.press(zk[2] > zk[1] ? 'ArrowDown' : 'ArrowUp');
		await waitSlice(page, 2, 'lung');
		assert.equal((await page.textContent('#slice-no')).trim(), '第 3 / 6 层');
		const href = await page.locator('#lesion-sort a', { hasText: '按体积' }).getAttribute('href');
		assert.equal(href, `/ai/result?id=${app.id}&job=${job}&z=2&window=lung&sort=volume`);
		const chart = await page.locator('#hist-1 svg.hist-chart').boundingBox();
		assert.ok(chart && chart.width > 300 && chart.height > 100, JSON.stringify(chart));
		await page.locator('#ai-hists').scrollIntoViewIfNeeded();
		await page.screenshot({ path: path.join(OUT, 'ai-nodule-sorted-histograms.png'), fullPage: true });
		assert.deepEqual(doc.errors, [], 'no script errors or CSP violations');
	} finally {
		await doc.context.close();
	}
	await jn.post('/report/unlock', { csrf: jn.token, id: String(app.id) });
});
