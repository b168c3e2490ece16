// tests/browser/nodule.test.mjs - the lung nodule story end to end, with
// the stack's own processes (zhiying-scp, zhiying-inferd, zhiying-web behind
// nginx) and Debian's chromium (headless) driven by playwright-core, on a
// real chest CT:
//
//   1. 龙湾镇卫生院 (lw_apply) applies on 申请 for 上级诊断 at 江南县人民医院,
//      with the patient number and the exam date of the study to come:
//      those of LIDC-IDRI-0002 (PatientID LIDC-IDRI-0002, StudyDate
//      20000101), so that the study links to the application by patient
//      and date as a hospital's PACS study would.
//   2. The hospital's collector (LW_COLLECTOR) sends the 261 slices
//      (1.25 mm) with DCMTK's storescu; the SCP matches the series, queues
//      the CT肺结节智能诊断 job and links the study to the application.
//   3. The doctor (jn_attending) opens 写报告: the card shows 排队 while
//      the daemon is held (SIGSTOP), and turns 完成 by itself once it is
//      let go (SIGCONT) and has read the series.
//   4. The card leads to the AI result page: the disclaimer, the reader,
//      the method (Fleischner, Lung-RADS, Brock), the lesion table as
//      stored, the readers' nodule among the lesions (LIDC's radiologists
//      outlined one of about 3 cm in the left lower lobe, around voxel
//      i 344, j 361 of slice 187 of the loaded volume) with its box drawn
//      over it on its key slice, the orders 按体积 and 按恶性概率, both
//      lungs' CT density histograms with their figures.
//   5. Only the readers' nodule checked, 上传影像结论: 写报告 holds its
//      sentences, saved as a version with ai_used.
//   6. The pneumonia reader (CT肺炎辅助诊断) read the same series: its
//      page sets the readers' nodule apart as a round lesion (结节样),
//      the likelihood at most 不确定, the five lobes scored; the nodule's
//      sentences taken into the report.
//
//   ZY_URL=... ZY_STATE=... ZY_PGPORT=... ZY_SCP_PORT=... ZY_OUT=tests/out \
//       node --test --test-reporter=spec tests/browser/nodule.test.mjs
//
// The stack comes from tests/lib.sh stack_start; without it, or without
// the series under $ZY_DATA (default: the repository's ../shared/data),
// the test is skipped.  Screenshots go to $ZY_OUT/browser/nodule-*.png.

import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromiumForFile, go, openReport, userSession } from './chromium.mjs';
import { applyChestCt, storescu } from './ctapply.mjs';
import { dcmDir, sql } from '../integration/helpers.mjs';
import { AXIAL, assertAt, imageRect, preset, shownBoxes, voxelRect, waitSlice } from './aiview.mjs';

const run = promisify(execFile);
const BASE = process.env.ZY_URL ? process.env.ZY_URL.replace(/\/+$/, '') : '';
const OUT = path.join(process.env.ZY_OUT || 'tests/out', 'browser');
const PASSWORD = 'Zhiying2026';
const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const DATA = process.env.ZY_DATA || `${ROOT}/../shared/data`;
const LIDC = `${DATA}/ct/LIDC-IDRI-0002`;
const STATE = process.env.ZY_STATE;
const SCP_PORT = process.env.ZY_SCP_PORT;
const DISCLAIMER = '人工智能辅助阅片结果仅供参考，不得直接用于诊疗。';
const READER = 'CT肺结节智能诊断';
// The study's own PatientID and StudyDate (dcmdump), fixed by the data.
const PATIENT_ID = 'LIDC-IDRI-0002';
const STUDY_DATE = '2000-01-01';
const SLICES = 261;
// The readers' nodule (LIDC reading 071.xml) in the loaded volume.
const NODULE = { i: 344, j: 361, k: 187 };
const TYPES = ['实性结节', '部分实性结节', '磨玻璃结节', '钙化结节', '肿块'];

const skip = BASE === '' || !STATE || !SCP_PORT ?
    'ZY_URL, ZY_STATE or ZY_SCP_PORT is not set: start a stack first (tests/lib.sh stack_start)' :
    !fs.existsSync(LIDC) ? `${LIDC} not found: skipping the lung nodule story` : false;

const chrome = chromiumForFile(skip, OUT);

// ---------------------------------------------------------------------
// The study

// The stack's daemon, held still or let go.
function daemonPid() {
	return Number(fs.readFileSync(`${STATE}/run/inferd.pid`, 'utf8'));
}

async function until(what, cond, ms = 30000, step = 100) {
	const t0 = Date.now();
	for (;;) {
		const v = cond();
		if (v)
			return v;
		if (Date.now() - t0 > ms)
			assert.fail(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, step));
	}
}

// The value of measurement name of a stored lesion, or null.
function measure(l, name) {
	const m = l.measurements.find((x) => x.name === name);
	return m && typeof m.value === 'number' && Number.isFinite(m.value) ? m.value : null;
}

// ---------------------------------------------------------------------
// The browser

async function session(login) {
	return userSession(chrome.browser, BASE, login, PASSWORD);
}

async function shot(page, name) {
	await page.screenshot({ path: path.join(OUT, `nodule-${name}.png`), fullPage: true });
}

// The lesion rows of the table as shown: [{ idx, slice, type, loc }].
async function tableRows(page) {
	return page.locator('#lesion-table tbody tr').evaluateAll((trs) => trs.map((t) => ({
	    idx: Number(t.dataset.idx), slice: Number(t.dataset.slice),
	    type: t.querySelector('td.type').textContent.trim(),
	    loc: t.querySelector('td.loc').textContent.trim() })));
}

// ---------------------------------------------------------------------

test('a grassroots hospital sends a chest CT with a lung nodule; the nodule reader reads it; the doctor takes the nodule into the report',
    { skip, timeout: 600000 }, async () => {
	const t0 = Date.now();
	const dir = dcmDir(LIDC);
	const files = fs.readdirSync(dir).filter((f) => f.endsWith('.dcm')).length;
	assert.equal(files, SLICES);
	const daemon = daemonPid();
	let held = false;
	let doc = null;
	try {
		// 1. 申请 by 龙湾镇卫生院, naming the study's patient and date.
		const { id, diag } = await applyChestCt(chrome.browser, BASE, { name: '周建国', sex: '男', age: '66岁', no: PATIENT_ID,
		    phone: '13812345678', complaint: '咳嗽两月，痰中带血一周',
		    illness: '两月来干咳，近一周晨起痰中带少量血丝，无发热，体重下降约3公斤',
		    history: '吸烟40年，每日一包', diagnosis: '左肺占位待查', examDate: STUDY_DATE });
		let page;

		// 2. The collector sends the study, the daemon held still.
		process.kill(daemon, 'SIGSTOP');
		held = true;
		const t1 = Date.now();
		await storescu(dir);
		console.log(`# storescu: ${files} files in ${((Date.now() - t1) / 1000).toFixed(2)} s`);
		const [[series, nInst]] = await until('the study to be matched and linked to the application', () => {
			const r = sql(`SELECT se.id, se.instance_count FROM application_studies x
			    JOIN studies st ON st.id = x.study_id JOIN series se ON se.study_id = st.id
			    WHERE x.application_id = :'p1' AND se.matched_at IS NOT NULL
			      AND se.instance_count = :'p2' AND EXISTS (SELECT 1 FROM series_matches m
			        WHERE m.series_id = se.id AND m.reader = 'ct_lung_nodule' AND m.slices = :'p2')`,
			    { params: [id, SLICES] });
			return r.length ? r : null;
		});
		assert.equal(Number(nInst), SLICES);
		const [[linkedBy, inst, patient, date]] = sql(`SELECT x.linked_by, i.code, p.patient_id, st.study_date
		    FROM application_studies x JOIN studies st ON st.id = x.study_id
		    JOIN institutions i ON i.id = st.institution_id JOIN patients p ON p.id = st.patient_ref
		    JOIN series se ON se.study_id = st.id WHERE x.application_id = :'p1' AND se.id = :'p2'`,
		    { params: [id, series] });
		assert.deepEqual([linkedBy, inst, patient, date], ['patient_date', 'LW-THC', PATIENT_ID, '20000101']);
		const [[fits, reason, notes]] = sql(`SELECT fits, reason, notes FROM series_matches
		    WHERE series_id = :'p1' AND reader = 'ct_lung_nodule'`, { params: [series] });
		assert.equal(fits, 't', `${reason} ${notes}`);
		const [[job, jstate]] = sql(`SELECT id, state FROM ai_jobs WHERE series_id = :'p1'
		    AND reader = 'ct_lung_nodule'`, { params: [series] });
		assert.equal(jstate, 'queued');
		const others = sql(`SELECT reader FROM ai_jobs WHERE series_id = :'p1'
		    AND reader <> 'ct_lung_nodule' ORDER BY reader`, { params: [series] }).map((r) => r[0]);
		console.log(`# job ${job} queued; other readers queued: ${others.join(', ')}`);

		// 3. 写报告: 排队, then 完成 without a reload.
		doc = await session('jn_attending');
		page = doc.page;
		const resp = await openReport(page, BASE, id);
		assert.equal(resp.status(), 200);
		assert.equal((await page.textContent('#diag-no')).trim(), diag);
		const card = page.locator(`#ai-row li.ai-card[data-job="${job}"]`);
		assert.equal((await card.locator('.reader').textContent()).trim(), READER);
		assert.equal((await card.locator('.job-state').textContent()).trim(), '排队');
		assert.equal(await card.locator('a.ai-open').count(), 0);
		await shot(page, 'report-queued');
		process.kill(daemon, 'SIGCONT');
		held = false;
		const t2 = Date.now();
		const done = page.locator(`#ai-row li.ai-card.done[data-job="${job}"]`);
		await done.waitFor({ timeout: 120000 });
		console.log(`# the card turned 完成 ${((Date.now() - t2) / 1000).toFixed(1)} s after the daemon went on`);
		assert.equal((await done.locator('.job-state').textContent()).trim(), '完成');
		assert.equal(await done.locator('a.ai-open').count(), 1);
		await shot(page, 'report-done');
		const [[jobState, attempts, worker]] = sql(`SELECT j.state, j.attempts, r.worker
		    FROM ai_jobs j JOIN ai_results r ON r.job_id = j.id WHERE j.id = :'p1'`, { params: [job] });
		assert.deepEqual([jobState, attempts], ['done', '1']);
		assert.ok(worker.endsWith(`:${daemon}`), worker);
		const log = fs.readFileSync(`${STATE}/log/inferd.log`, 'utf8');
		const line = log.match(new RegExp(`job ${job} done: (\\d+) lesion\\(s\\); (\\d+)x(\\d+)x(\\d+) voxels, .*`));
		assert.ok(line, 'the daemon logged the job');
		console.log(`# ${line[0]}`);
		assert.equal(Number(line[4]), SLICES);

		// 4. The result page.
		await go(page, '/ai/result', () => done.locator('a.ai-open').click());
		const u = new URL(page.url());
		assert.equal(u.searchParams.get('id'), String(id));
		assert.equal(u.searchParams.get('job'), String(job));
		assert.equal((await page.textContent('#ai-disclaimer')).trim(), DISCLAIMER);
		assert.ok(await page.locator('#ai-disclaimer').isVisible());
		assert.equal((await page.textContent('#ai-reader')).trim(), READER);
		assert.equal((await page.textContent('#ai-state')).trim(), '完成');
		const method = await page.textContent('#ai-method');
		assert.match(method, /Fleischner/);
		assert.match(method, /Lung-RADS/);
		assert.match(method, /Brock/);
		assert.match(method, /局限：/);
		assert.match((await page.textContent('#slice-no')).trim(), new RegExp(`^第 \\d+ / ${SLICES} 层$`));

		// The lesions as stored, and as the table shows them.
		const [[rid, nx, ny, conclusionText, hists]] = sql(`SELECT id, nx, ny,
		    conclusion_text, histograms::text FROM ai_results WHERE job_id = :'p1'`,
		    { params: [job] });
		const lesions = JSON.parse(sql(`SELECT coalesce(json_agg(json_build_object('idx', idx, 'type', type,
		    'location', location, 'slice', slice, 'box', json_build_array(x0, y0, x1, y1),
		    'measurements', measurements, 'findings', findings_text, 'conclusion', conclusion_text)
		    ORDER BY idx), '[]') FROM ai_lesions WHERE result_id = :'p1'`, { params: [rid] })[0][0]);
		assert.equal(Number(line[1]), lesions.length);
		assert.ok(lesions.length >= 2, `${lesions.length} lesion(s)`);
		const rows = await tableRows(page);
		assert.deepEqual(rows.map((r) => [r.idx, r.type, r.loc, r.slice]),
		    lesions.map((l) => [l.idx, l.type, l.location, l.slice]));
		for (const r of rows) {
			assert.ok(TYPES.includes(r.type), `lesion ${r.idx}: type ${r.type}`);
			assert.match(r.loc, /^(右肺|左肺)/, `lesion ${r.idx}`);
		}
		assert.equal((await page.textContent('#lesions h2 small')).trim(), `共 ${lesions.length} 个`);
		const heads = (await page.locator('#lesion-table thead th').allTextContents()).map((h) => h.trim());
		assert.deepEqual(heads.slice(0, 4), ['选择', '序号', '类型', '位置']);
		for (const h of ['长径', '短径', '体积', '恶性概率', '置信度'])
			assert.ok(heads.includes(h), heads.join(' '));
		assert.equal(heads.at(-1), '层面');
		// The table is wider than its half of the page: 序号 stays at
		// its left and 层面 at its right, whichever way it is scrolled.
		const inside = () => page.evaluate(() => {
			const box = document.querySelector('.lesion-scroll');
			const b = box.getBoundingClientRect();
			const tr = document.querySelector('#lesion-table tbody tr');
			const seen = (el) => { const r = el.getBoundingClientRect(); return r.left >= b.left - 1 && r.right <= b.right + 1; };
			return { wide: box.scrollWidth > box.clientWidth, idx: seen(tr.querySelector('td.idx')),
			    at: seen(tr.querySelector('td.at a.goto')) };
		});
		assert.deepEqual(await inside(), { wide: true, idx: true, at: true });
		assert.equal(await page.locator('#lesion-wide').isVisible(), true);
		await page.evaluate(() => { const b = document.querySelector('.lesion-scroll'); b.scrollLeft = b.scrollWidth; });
		assert.deepEqual(await inside(), { wide: true, idx: true, at: true });
		await page.evaluate(() => { document.querySelector('.lesion-scroll').scrollLeft = 0; });

		// The readers' nodule: a lesion whose box on its key slice lies
		// within 10 mm of it (in plane, from the box; along z, from the
		// key slice).
		const [[psx, psy]] = sql(`SELECT pixel_spacing[1], pixel_spacing[2] FROM series WHERE id = :'p1'`,
		    { params: [series] }).map((r) => r.map(Number));
		const dz = 1.25;
		const away = (l) => {
			const [x0, y0, x1, y1] = l.box;
			const dx = Math.max(x0 - NODULE.i, 0, NODULE.i - x1) * psx;
			const dy = Math.max(y0 - NODULE.j, 0, NODULE.j - y1) * psy;
			return Math.hypot(dx, dy, (l.slice - NODULE.k) * dz);
		};
		const near = lesions.filter((l) => away(l) <= 10).sort((a, b) => away(a) - away(b));
		assert.ok(near.length >= 1, `no lesion within 10 mm of the readers' nodule: ${JSON.stringify(lesions.map(
		    (l) => [l.idx, l.slice, l.box, l.location]))}`);
		const hit = near[0];
		console.log(`# the readers' nodule: lesion ${hit.idx} of ${lesions.length}, ${hit.type} ${hit.location}, `
		    + `slice ${hit.slice}, box ${hit.box.join(',')}, ${away(hit).toFixed(1)} mm away; `
		    + `长径 ${measure(hit, '长径')} mm, 体积 ${measure(hit, '体积')} mm³, 恶性概率 ${measure(hit, '恶性概率')} %`);
		assert.match(hit.location, /^左肺/);
		assert.ok(measure(hit, '长径') >= 20 && measure(hit, '长径') <= 45, `长径 ${measure(hit, '长径')}`);

		// Its box on its key slice, over it, and a few others' on theirs.
		await preset(page, 'lung');
		const checked = [hit, ...lesions.filter((l) => l !== hit).slice(0, 3)];
		for (const l of checked) {
			await page.locator(`#lesion-table tbody tr[data-idx="${l.idx}"] td.type`).click();
			assert.equal((await page.textContent('#slice-no')).trim(), `第 ${l.slice + 1} / ${SLICES} 层`);
			await waitSlice(page, l.slice, 'lung');
			const shown = await shownBoxes(page);
			assert.ok(shown.includes(l.idx), `box ${l.idx} shown on slice ${l.slice}: ${shown}`);
			assert.ok(shown.every((k) => lesions.find((x) => x.idx === k).slice === l.slice),
			    'only the boxes of this slice');
			const boxEl = page.locator(`#zv .zv-box[data-idx="${l.idx}"]`);
			assertAt(await boxEl.boundingBox(), voxelRect(await imageRect(page), Number(nx), Number(ny), l.box),
			    `lesion ${l.idx}`);
			if (l === hit) {
				// The readers' centre under the box drawn, at the
				// size fitted to the view and zoomed in on it.
				for (const zoom of [false, true]) {
					if (zoom) {
						await page.locator(AXIAL).focus();
						for (let i = 0; i < 3; i++)
							await page.keyboard.press('=');
					}
					const img = await imageRect(page);
					const box = await boxEl.boundingBox();
					const cx = img.x + (NODULE.i + 0.5) / Number(nx) * img.width;
					const cy = img.y + (NODULE.j + 0.5) / Number(ny) * img.height;
					assert.ok(cx >= box.x && cx <= box.x + box.width && cy >= box.y && cy <= box.y + box.height,
					    `the readers' nodule (${cx.toFixed(1)}, ${cy.toFixed(1)}) under box ${JSON.stringify(box)}`
					    + (zoom ? ' zoomed' : ''));
					assertAt(box, voxelRect(img, Number(nx), Number(ny), l.box), `lesion ${l.idx}${zoom ? ' zoomed' : ''}`);
				}
				await shot(page, 'zoomed');
				await page.keyboard.press('r');
				assert.ok(Math.abs(l.slice - NODULE.k) * dz <= 10, `key slice ${l.slice}`);
			}
		}
		await page.locator(`#lesion-table tbody tr[data-idx="${hit.idx}"] td.type`).click();
		await waitSlice(page, hit.slice);
		await shot(page, 'result');

		// The orders: 按体积 and 按恶性概率, largest first, as stored.
		for (const [zh, word, name] of [['按体积', 'volume', '体积'], ['按恶性概率', 'malignancy', '恶性概率']]) {
			await go(page, '/ai/result', () => page.locator('#lesion-sort a.order', { hasText: zh }).click());
			assert.equal(new URL(page.url()).searchParams.get('sort'), word);
			assert.equal((await page.locator('#lesion-sort a.order.on').textContent()).trim(), zh);
			const order = (await tableRows(page)).map((r) => r.idx);
			assert.deepEqual([...order].sort((a, b) => a - b), lesions.map((l) => l.idx));
			const vals = order.map((k) => measure(lesions.find((l) => l.idx === k), name));
			const known = vals.filter((v) => v !== null);
			const top = Math.max(...known);
			assert.equal(vals[0], top, `${zh}: first row ${order[0]} has ${name} ${vals[0]}, the largest is ${top}`);
			for (let i = 1; i < vals.length; i++)
				assert.ok(vals[i] === null || (vals[i - 1] !== null && vals[i - 1] >= vals[i]),
				    `${zh}: ${JSON.stringify(order.map((k, j) => [k, vals[j]]))}`);
			console.log(`# ${zh}: lesion ${order[0]} first (${name} ${vals[0]}); the readers' nodule at row `
			    + `${order.indexOf(hit.idx) + 1}`);
			await shot(page, `result-${word}`);
		}

		// The figures: the nodule count; both lungs' histograms.
		const figures = await page.locator('#summary-table tbody tr').evaluateAll((trs) =>
		    trs.map((r) => [...r.cells].map((c) => c.textContent.trim())));
		assert.deepEqual(figures.find((f) => f[0] === '结节数'), ['结节数', String(lesions.length), ''],
		    JSON.stringify(figures));
		const stored = JSON.parse(hists);
		assert.deepEqual(stored.map((h) => h.name), ['右肺', '左肺']);
		const shown = await page.locator('#ai-hists figure.hist').evaluateAll((fs) => fs.map((f) => ({
		    title: f.querySelector('figcaption').textContent.trim(),
		    svg: f.querySelector('svg.hist-chart') !== null,
		    bars: f.querySelectorAll('svg.hist-chart g.bars rect').length,
		    laa: f.querySelector('svg.hist-chart g.laa') !== null,
		    open: [...f.querySelectorAll('svg.hist-chart g.bars rect.open')].map((r) =>
			r.querySelector('title').textContent.trim()),
		    note: (f.querySelector('.hist-note') || { textContent: '' }).textContent.trim(),
		    figures: [...f.querySelectorAll('table.hist-table tr')].map((r) =>
			[...r.cells].map((c) => c.textContent.trim())) })));
		assert.deepEqual(shown.map((h) => h.title), ['右肺CT密度直方图', '左肺CT密度直方图']);
		for (const [k, h] of shown.entries()) {
			assert.ok(h.svg && h.bars > 10 && h.laa, `${h.title}: ${JSON.stringify(h)}`);
			// The open-ended end bins say what they hold: the vessels
			// and nodules of the lung gather in the last one.
			assert.deepEqual([stored[k].open_below, stored[k].open_above], [true, true]);
			assert.equal(h.note, '首柱含低于 -990 HU 的全部体素；末柱含 -10 HU 及以上的全部体素');
			assert.ok(h.open.length >= 1 && h.open.every((t) => /^(< -990|≥ -10) HU：/.test(t)), JSON.stringify(h.open));
			const ml = h.figures.find((f) => f[0] === '容积');
			assert.ok(ml && ml[2] === 'mL' && Number(ml[1]) >= 1500 && Number(ml[1]) <= 4500,
			    `${h.title}: ${JSON.stringify(h.figures)}`);
			const laa = h.figures.find((f) => f[0] === 'LAA-950');
			assert.ok(laa && laa[2] === '%' && Number(laa[1]) >= 0 && Number(laa[1]) <= 100,
			    `${h.title}: ${JSON.stringify(h.figures)}`);
			for (const m of stored[k].measures)
				assert.ok(h.figures.some((f) => f[0] === m.name && Number(f[1]) === m.value),
				    `${h.title}: ${m.name} ${m.value} in ${JSON.stringify(h.figures)}`);
			console.log(`# ${h.title}: 容积 ${ml[1]} mL, LAA-950 ${laa[1]} %`);
		}
		await page.locator('#ai-hists').screenshot({ path: path.join(OUT, 'nodule-result-histograms.png') });
		assert.equal((await page.textContent('#ai-conclusion')).trim(), conclusionText.trim());
		const aiFindings = await page.textContent('#ai-findings');
		// The reader's own 影像表现 holds what is true of the series, the
		// lungs' figures, and no nodule's sentence: those come with the
		// nodules the doctor checks.
		assert.match(aiFindings, /右肺容积约\d+ mL，左肺约\d+ mL；LAA-950 右肺[0-9.]+%，左肺[0-9.]+%。/);
		assert.ok(!aiFindings.includes(hit.findings), aiFindings);
		console.log(`# 影像结论 (AI): ${conclusionText}`);

		// 5. Only the readers' nodule checked; 上传影像结论.
		for (const l of lesions) {
			if (l.idx === hit.idx)
				await page.check(`#lesion-${l.idx}`);
			else
				await page.uncheck(`#lesion-${l.idx}`);
		}
		await shot(page, 'result-picked');
		await go(page, '/report', () => page.click('#btn-upload'));
		assert.equal(new URL(page.url()).searchParams.get('id'), String(id));
		assert.equal((await page.textContent('#report-notice')).trim(),
		    '已将AI辅助阅片意见加入报告，请核对修改后再提交');
		const findings = await page.inputValue('#findings');
		const conclusion = await page.inputValue('#conclusion');
		assert.ok(findings.includes(hit.findings), `影像表现 holds lesion ${hit.idx}: ${hit.findings}`);
		assert.ok(conclusion.includes(hit.conclusion), `影像结论 holds lesion ${hit.idx}: ${hit.conclusion}`);
		// Through JSON, which keeps the line ends of the texts.
		const [version, vf, vc, used] = JSON.parse(sql(`SELECT json_build_array(version::text, findings,
		    conclusion, CASE WHEN ai_used THEN 't' ELSE 'f' END) FROM report_versions
		    WHERE application_id = :'p1' ORDER BY version DESC LIMIT 1`, { params: [id] })[0][0]);
		assert.deepEqual([vf, vc, used], [findings, conclusion, 't']);
		assert.equal(await page.inputValue('#report-version'), version);
		await shot(page, 'report-after-upload');
		// What the doctor left unchecked stays out of the report: the
		// reader's own text names no nodule, the checked one's sentences
		// come once.  (Another lesion of the same lobe, type and category
		// may have the same conclusion sentence word for word: only the
		// sentences that differ from the checked one's can tell.)
		const left = lesions.filter((l) => l.idx !== hit.idx);
		assert.equal(findings.split(hit.findings).length - 1, 1, `lesion ${hit.idx}'s sentence once`);
		for (const l of left) {
			if (l.findings !== hit.findings)
				assert.ok(!findings.includes(l.findings),
				    `lesion ${l.idx} (${l.location}) in 影像表现: ${l.findings}`);
			if (l.conclusion !== hit.conclusion)
				assert.ok(!conclusion.includes(l.conclusion),
				    `lesion ${l.idx} (${l.location}) in 影像结论: ${l.conclusion}`);
		}
		assert.match(conclusion, /Fleischner 2017/);

		// 6. The pneumonia reader read the same series.  These lungs are
		// normal but for the readers' nodule: it is set apart as a round
		// lesion (结节样), not counted as pneumonia, the likelihood at
		// most 不确定, the lobes scored; the doctor takes its sentences.
		const [[pjob]] = sql(`SELECT id FROM ai_jobs WHERE series_id = :'p1' AND reader = 'ct_pneumonia'`,
		    { params: [series] });
		await openReport(page, BASE, id);
		const pcard = page.locator(`#ai-row li.ai-card.done[data-job="${pjob}"]`);
		await pcard.waitFor({ timeout: 240000 });
		assert.equal((await pcard.locator('.reader').textContent()).trim(), 'CT肺炎辅助诊断');
		await go(page, '/ai/result', () => pcard.locator('a.ai-open').click());
		assert.equal((await page.textContent('#ai-disclaimer')).trim(), DISCLAIMER);
		assert.equal((await page.textContent('#ai-reader')).trim(), 'CT肺炎辅助诊断');
		const pmethod = await page.textContent('#ai-method');
		for (const w of [/CO-RADS/, /Pan 2020/, /类圆形病灶/, /验证：/, /局限：/, /本例疑似程度：(很低|低|不确定)/])
			assert.match(pmethod, w);
		const [[prid]] = sql(`SELECT id FROM ai_results WHERE job_id = :'p1'`, { params: [pjob] });
		const plesions = JSON.parse(sql(`SELECT coalesce(json_agg(json_build_object('idx', idx, 'type', type,
		    'location', location, 'slice', slice, 'box', json_build_array(x0, y0, x1, y1),
		    'measurements', measurements, 'findings', findings_text, 'conclusion', conclusion_text)
		    ORDER BY idx), '[]') FROM ai_lesions WHERE result_id = :'p1'`, { params: [prid] })[0][0]);
		const prows = await tableRows(page);
		assert.deepEqual(prows.map((r) => [r.idx, r.type, r.loc, r.slice]),
		    plesions.map((l) => [l.idx, l.type, l.location, l.slice]));
		const pheads = (await page.locator('#lesion-table thead th').allTextContents()).map((h) => h.trim());
		for (const h of ['起始层', '终止层', '体积', '占全肺比例', '平均CT值', '等效直径'])
			assert.ok(pheads.includes(h), pheads.join(' '));
		const pnear = plesions.filter((l) => away(l) <= 10).sort((a, b) => away(a) - away(b));
		assert.ok(pnear.length >= 1, `no pneumonia lesion at the readers' nodule: ${JSON.stringify(plesions)}`);
		const nod = pnear[0];
		assert.match(nod.conclusion, /类圆形结节样病灶.*请结合肺结节阅片/, nod.conclusion);
		assert.ok(measure(nod, '圆度') >= 0.55, `圆度 ${measure(nod, '圆度')}`);
		const pfig = Object.fromEntries((await page.locator('#summary-table tbody tr').evaluateAll((trs) =>
		    trs.map((r) => [...r.cells].map((c) => c.textContent.trim())))).map((f) => [f[0], f.slice(1)]));
		assert.ok(Number(pfig['肺炎疑似程度'][0]) <= 3, JSON.stringify(pfig));
		assert.ok(Number(pfig['全肺受累比例'][0]) < 0.5, JSON.stringify(pfig));
		// The five lobes in a table of their own: involved share and
		// score, the scores adding up to the severity score.
		assert.deepEqual((await page.locator('#lobe-table thead th').allTextContents()).map((h) => h.trim()),
		    ['肺叶', '受累比例（%）', '评分']);
		const lobeRows = await page.locator('#lobe-table tbody tr').evaluateAll((trs) =>
		    trs.map((r) => [...r.cells].map((c) => c.textContent.trim())));
		assert.deepEqual(lobeRows.map((r) => r[0]), ['右肺上叶', '右肺中叶', '右肺下叶', '左肺上叶', '左肺下叶']);
		let lobeSum = 0;
		for (const [lobe, pct, score] of lobeRows) {
			assert.ok(Number(pct) >= 0 && Number(pct) < 5 && /^[0-5]$/.test(score), `${lobe}: ${pct} % ${score}`);
			assert.ok(!pfig[`${lobe}评分`], `${lobe} not repeated in the list`);
			lobeSum += Number(score);
		}
		assert.deepEqual(pfig['CT严重程度评分'], [String(lobeSum), '/25']);
		console.log(`# pneumonia: ${plesions.length} lesion(s), 疑似程度 ${pfig['肺炎疑似程度'][0]} 级, `
		    + `受累 ${pfig['全肺受累比例'][0]} %, 评分 ${lobeSum}/25; the nodule: lesion ${nod.idx}, ${nod.conclusion}`);
		await shot(page, 'pneumonia-result');
		for (const l of plesions) {
			if (l.idx === nod.idx)
				await page.check(`#lesion-${l.idx}`);
			else
				await page.uncheck(`#lesion-${l.idx}`);
		}
		await go(page, '/report', () => page.click('#btn-upload'));
		assert.ok((await page.inputValue('#conclusion')).includes(nod.conclusion));
		assert.ok((await page.inputValue('#findings')).includes(nod.findings));
		assert.deepEqual(doc.errors, [], 'no script errors or CSP violations');
		console.log(`# the story took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
	} finally {
		if (held)
			process.kill(daemon, 'SIGCONT');
		if (doc !== null)
			await doc.context.close();
	}
});
