// tests/browser/cac.test.mjs - the coronary calcium story end to end, with
// the stack's own processes (zhiying-scp, zhiying-inferd, zhiying-web behind
// nginx) and Debian's chromium (headless) driven by playwright-core:
//
//   1. 龙湾镇卫生院 (lw_apply) applies on 申请 for 上级诊断 at 江南县人民医院,
//      with the patient number and the exam date of the study to come.
//   2. The hospital's collector (LW_COLLECTOR) sends a synthetic chest CT
//      (zhiying-phantom: 1.25 mm, 120 kV, 120 slices, plaques in LM, LAD,
//      LCX and RCA, calcium of the aorta and the aortic valve that must not
//      count) to the SCP with DCMTK's storescu; the SCP matches the series,
//      queues the 冠脉钙化积分 job among others, and links the study to the
//      application (patient number and exam date).
//   3. The doctor (jn_attending) opens 写报告: row 2 shows the job 排队;
//      the stack's daemon scores it and the card turns 完成 by itself
//      (report.js polls /ai/jobs).  The daemon is held (SIGSTOP) from
//      before the study is sent until the doctor has seen 排队, and let go
//      then (SIGCONT): on this machine it would otherwise finish the job
//      in about a second, before any page could show it pending.
//   4. The card leads to the AI result page: the disclaimer, a lesion row
//      for each of LM, LAD, LCX and RCA, each lesion's box drawn on its own
//      slice over the calcium (the pixels under the box are bright in the
//      mediastinal window), 总Agatston积分 among the figures; the doctor
//      leaves out the non-coronary calcium and presses 上传影像结论.
//   5. Back on 写报告, 影像表现 holds 冠状动脉钙化积分 and 影像结论 holds
//      冠状动脉钙化总积分 and CAC-DRS, saved as a version with ai_used.
//
//   ZY_URL=... ZY_STATE=... ZY_PGPORT=... ZY_SCP_PORT=... ZY_OUT=tests/out \
//       node --test --test-reporter=spec tests/browser/cac.test.mjs
//
// The stack comes from tests/lib.sh stack_start; without it the test is
// skipped.  No shared data is needed: the study is generated.
// Screenshots go to $ZY_OUT/browser/cac-*.png.

import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromiumForFile, go, openReport, userSession } from './chromium.mjs';
import { applyChestCt, matchedSeries, storescu } from './ctapply.mjs';
import { sql } from '../integration/helpers.mjs';
import { assertAt, brightestUnder, imageRect, preset, shownBoxes, voxelRect, waitSlice } from './aiview.mjs';

const run = promisify(execFile);
const BASE = process.env.ZY_URL ? process.env.ZY_URL.replace(/\/+$/, '') : '';
const OUT = path.join(process.env.ZY_OUT || 'tests/out', 'browser');
const PASSWORD = 'Zhiying2026';
const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const PHANTOM = `${ROOT}/src/tools/zhiying-phantom`;
const STATE = process.env.ZY_STATE;
const SCP_PORT = process.env.ZY_SCP_PORT;
const DISCLAIMER = '人工智能辅助阅片结果仅供参考，不得直接用于诊疗。';
const ARTERIES = ['LM', 'LAD', 'LCX', 'RCA'];

const skip = BASE === '' || !STATE || !SCP_PORT ?
    'ZY_URL, ZY_STATE or ZY_SCP_PORT is not set: start a stack first (tests/lib.sh stack_start)' : false;

const chrome = chromiumForFile(skip, OUT);

// ---------------------------------------------------------------------
// The study

// A chest CT of the patient, written by zhiying-phantom into a folder of
// its own: { dir, files, plaques, study, series }.
async function writePhantom(patientId, name) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zhiying-cac-'));
	const { stdout } = await run(PHANTOM, ['-t', '1.25', '-k', '120', '-P', patientId, '-N', name,
	    '-o', dir]);
	const plaques = [...stdout.matchAll(/^plaque (\S+) center \S+ \S+ z (\S+) (\S+) /gm)]
	    .map(([, site, z0, z1]) => ({ site, z0: Number(z0), z1: Number(z1) }));
	const files = Number(stdout.match(/^files (\d+) /m)[1]);
	const study = stdout.match(/^study (\S+)$/m)[1];
	const series = stdout.match(/^series (\S+)$/m)[1];
	assert.equal(fs.readdirSync(dir).filter((f) => f.endsWith('.dcm')).length, files);
	return { dir, files, plaques, study, series };
}

// The stack's daemon, held still or let go.
function daemonPid() {
	return Number(fs.readFileSync(`${STATE}/run/inferd.pid`, 'utf8'));
}

async function until(what, cond, ms = 20000, step = 100) {
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

// ---------------------------------------------------------------------
// The browser

async function session(login) {
	return userSession(chrome.browser, BASE, login, PASSWORD);
}

async function shot(page, name) {
	await page.screenshot({ path: path.join(OUT, `cac-${name}.png`), fullPage: true });
}

// The AI row of 写报告: { reader: { cls, state, note } } (the last card of
// a reader wins; each reader has one job per series).
async function cards(page) {
	return page.locator('#ai-row li.ai-card').evaluateAll((lis) => Object.fromEntries(lis.map((li) => {
		const t = (c) => {
			const e = li.querySelector(`.${c}`);
			return e === null ? null : e.textContent.trim();
		};
		return [t('reader'), { cls: li.className.replace('ai-card', '').trim(), state: t('job-state'),
		    note: t('note'), job: li.dataset.job }];
	})));
}

// ---------------------------------------------------------------------

test('a grassroots hospital sends a chest CT; the coronary calcium reader scores it; the doctor takes it into the report',
    { skip, timeout: 180000 }, async () => {
	const t0 = Date.now();
	const pid = `CAC-${process.pid}-${Date.now()}`;
	const ph = await writePhantom(pid, 'LIN^SHUFEN');
	assert.deepEqual(ph.plaques.map((p) => p.site), [...ARTERIES, 'AORTA', 'VALVE']);
	assert.equal(ph.files, 120);
	const daemon = daemonPid();
	let held = false;
	let doc = null;
	try {
		// 1. 申请 by 龙湾镇卫生院.
		const { id, diag } = await applyChestCt(chrome.browser, BASE, { name: '林淑芬', sex: '女', age: '64岁', no: pid,
		    phone: '13912345678', complaint: '活动后胸闷一月',
		    illness: '一月来快走及上楼时胸闷，休息数分钟缓解，无胸痛放射',
		    history: '高血压病史10年，2型糖尿病5年', diagnosis: '冠心病待查' });
		let page;

		// 2. The collector sends the study, the daemon held still.
		process.kill(daemon, 'SIGSTOP');
		held = true;
		const t1 = Date.now();
		await storescu(ph.dir);
		console.log(`# storescu: ${ph.files} files in ${((Date.now() - t1) / 1000).toFixed(2)} s`);
		const [series, nInst] = await matchedSeries(id, ph.study, ph.series);
		assert.equal(Number(nInst), 120);
		const [[linkedBy, inst]] = sql(`SELECT x.linked_by, i.code FROM application_studies x
		    JOIN studies st ON st.id = x.study_id JOIN institutions i ON i.id = st.institution_id
		    WHERE x.application_id = :'p1'`, { params: [id] });
		assert.deepEqual([linkedBy, inst], ['patient_date', 'LW-THC']);
		// The matcher: the coronary calcium reader fits the series.
		const [[fits, reason, notes]] = sql(`SELECT fits, reason, notes FROM series_matches
		    WHERE series_id = :'p1' AND reader = 'ct_coronary_calcium'`, { params: [series] });
		assert.equal(fits, 't', `${reason} ${notes}`);
		const [[job, jstate]] = sql(`SELECT id, state FROM ai_jobs WHERE series_id = :'p1'
		    AND reader = 'ct_coronary_calcium'`, { params: [series] });
		assert.equal(jstate, 'queued');
		const others = sql(`SELECT reader FROM ai_jobs WHERE series_id = :'p1'
		    AND reader <> 'ct_coronary_calcium' ORDER BY reader`, { params: [series] }).map((r) => r[0]);
		console.log(`# job ${job} queued; other readers queued: ${others.join(', ')}`);

		// 3. 写报告: 排队, then 完成 without a reload.
		doc = await session('jn_attending');
		page = doc.page;
		const resp = await openReport(page, BASE, id);
		assert.equal(resp.status(), 200);
		assert.equal((await page.textContent('#diag-no')).trim(), diag);
		const card = page.locator(`#ai-row li.ai-card[data-job="${job}"]`);
		assert.equal((await card.locator('.reader').textContent()).trim(), '冠脉钙化积分');
		assert.equal((await card.locator('.job-state').textContent()).trim(), '排队');
		assert.equal(await card.locator('a.ai-open').count(), 0);
		await shot(page, 'report-queued');
		process.kill(daemon, 'SIGCONT');
		held = false;
		const t2 = Date.now();
		const done = page.locator(`#ai-row li.ai-card.done[data-job="${job}"]`);
		await done.waitFor({ timeout: 30000 });
		console.log(`# the card turned 完成 ${((Date.now() - t2) / 1000).toFixed(1)} s after the daemon went on`);
		assert.equal((await done.locator('.job-state').textContent()).trim(), '完成');
		assert.equal(await done.locator('a.ai-open').count(), 1);
		await shot(page, 'report-turned');
		// The daemon's work: one result, stored by it.
		const [[jobState, attempts, worker, backend]] = sql(`SELECT j.state, j.attempts, r.worker, r.backend
		    FROM ai_jobs j JOIN ai_results r ON r.job_id = j.id WHERE j.id = :'p1'`, { params: [job] });
		assert.deepEqual([jobState, attempts], ['done', '1']);
		assert.ok(worker.endsWith(`:${daemon}`), worker);
		assert.match(backend, /^(cpu|cuda)$/);
		const log = fs.readFileSync(`${STATE}/log/inferd.log`, 'utf8');
		const line = log.match(new RegExp(`job ${job} done: (\\d+) lesion\\(s\\); 384x384x120 voxels, .*`));
		assert.ok(line, 'the daemon logged the job');
		console.log(`# ${line[0]}`);
		// The lung nodule and pneumonia readers refuse the phantom, whose
		// lungs run from the first slice to the last, by name; the bone
		// density and rib fracture readers find no ribs; those not in this
		// build end at once; their cards say so.
		await until('the other jobs to end', () => Number(sql(`SELECT count(*) FROM ai_jobs
		    WHERE series_id = :'p1' AND state IN ('queued', 'running')`, { params: [series] })[0][0]) === 0);
		await openReport(page, BASE, id);
		const row = await cards(page);
		assert.deepEqual(row['冠脉钙化积分'], { cls: 'done', state: '完成', note: null, job: String(job) });
		for (const [reader, what] of [['CT肺结节智能诊断', '肺结节检测'], ['CT肺炎辅助诊断', '肺炎辅助诊断']])
			assert.deepEqual([row[reader].cls, row[reader].state, row[reader].note],
			    ['failed', '不适用', '肺部未完整包含在扫描范围内（肺尖未包含在扫描范围内；肺底未包含在扫描范围内），'
			    + `${what}要求包含完整肺部`], reader);
		// The bone density reader finds no rib at the phantom's spine (its
		// ribs are rings apart from it): no vertebra can be numbered.
		assert.deepEqual([row['骨密度CT影像辅助诊断'].cls, row['骨密度CT影像辅助诊断'].state,
		    row['骨密度CT影像辅助诊断'].note], ['failed', '不适用',
		    '扫描范围内未见肋骨，无法按最后一对肋骨确定T12，椎体未能定序']);
		// So does the rib fracture reader: no rib beside the spine.
		assert.deepEqual([row['CT骨折辅助诊断'].cls, row['CT骨折辅助诊断'].state,
		    row['CT骨折辅助诊断'].note], ['failed', '不适用', '脊柱旁未见肋骨，无法进行肋骨骨折检测']);
		for (const [reader, c] of Object.entries(row))
			if (!['冠脉钙化积分', 'CT肺结节智能诊断', 'CT肺炎辅助诊断', '骨密度CT影像辅助诊断',
			    'CT骨折辅助诊断'].includes(reader))
				assert.deepEqual([c.cls, c.state, c.note], ['undeployed', '未部署',
				    '该AI应用尚未在本系统部署'], reader);
		await shot(page, 'report-done');

		// 4. The result page.
		await go(page, '/ai/result', () => done.locator('a.ai-open').click());
		const u = new URL(page.url());
		assert.equal(u.searchParams.get('id'), String(id));
		assert.equal(u.searchParams.get('job'), String(job));
		assert.equal((await page.textContent('#ai-disclaimer')).trim(), DISCLAIMER);
		assert.ok(await page.locator('#ai-disclaimer').isVisible());
		assert.equal((await page.textContent('#ai-reader')).trim(), '冠脉钙化积分');
		assert.equal((await page.textContent('#ai-state')).trim(), '完成');
		assert.match(await page.textContent('#ai-method'), /Agatston 1990/);
		// The reader's limits and how it was checked, in plain words.
		assert.match(await page.textContent('#ai-method'), /局限：.*支架术后.*尚无医生参考积分对照/);
		assert.match((await page.textContent('#slice-no')).trim(), /^第 \d+ \/ 120 层$/);

		// The lesions as stored, and as the table shows them.
		const [[rid, nx, ny, conclusionText]] = sql(`SELECT id, nx, ny, conclusion_text FROM ai_results
		    WHERE job_id = :'p1'`, { params: [job] });
		const lesions = sql(`SELECT idx, type, location, slice, x0, y0, x1, y1, findings_text
		    FROM ai_lesions WHERE result_id = :'p1' ORDER BY idx`, { params: [rid] })
		    .map(([idx, type, location, slice, x0, y0, x1, y1, findings]) => ({ idx: Number(idx), type, location,
		    slice: Number(slice), box: [x0, y0, x1, y1].map(Number), findings }));
		assert.equal(Number(line[1]), lesions.length);
		const rows = await page.locator('#lesion-table tbody tr').evaluateAll((trs) => trs.map((t) => ({
		    idx: Number(t.dataset.idx), slice: Number(t.dataset.slice),
		    type: t.querySelector('td.type').textContent.trim(),
		    loc: t.querySelector('td.loc').textContent.trim() })));
		assert.deepEqual(rows.map((r) => [r.idx, r.type, r.loc, r.slice]),
		    lesions.map((l) => [l.idx, l.type, l.location, l.slice]));
		const coronary = rows.filter((r) => r.type === '冠脉钙化灶');
		assert.deepEqual(coronary.map((r) => r.loc.split('（')[0]).sort(), [...ARTERIES].sort(),
		    JSON.stringify(rows));
		for (const a of ARTERIES)
			assert.ok(rows.some((r) => r.loc.includes(a)), `a lesion row of ${a}`);
		const excluded = rows.filter((r) => r.type !== '冠脉钙化灶');
		assert.ok(excluded.length >= 1 && excluded.every((r) => r.type === '非冠脉钙化（未计分）'),
		    JSON.stringify(rows));
		const heads = (await page.locator('#lesion-table thead th').allTextContents()).map((t) => t.trim());
		assert.deepEqual(heads.slice(0, 4), ['选择', '序号', '类型', '位置']);
		assert.ok(heads.includes('Agatston积分') && heads.at(-1) === '层面', heads.join(' '));

		// Each lesion's box on its own slice, over the calcium: the
		// mediastinal window (W 400, L 40) shows 240 HU and above white,
		// the weakest plaque (180 HU) at about 215 of 255.
		await preset(page, 'mediastinum');
		for (const l of lesions) {
			await page.locator(`#lesion-table tbody tr[data-idx="${l.idx}"] td.type`).click();
			assert.equal((await page.textContent('#slice-no')).trim(), `第 ${l.slice + 1} / 120 层`);
			await waitSlice(page, l.slice, 'mediastinum');
			const shown = await shownBoxes(page);
			assert.ok(shown.includes(l.idx), `box ${l.idx} shown on slice ${l.slice}: ${shown}`);
			assert.ok(shown.every((k) => lesions.find((x) => x.idx === k).slice === l.slice),
			    'only the boxes of this slice');
			const boxEl = page.locator(`#zv .zv-box[data-idx="${l.idx}"]`);
			assert.match(await boxEl.getAttribute('class'), /\bpick\b/, 'the box of the row marked');
			const box = await boxEl.boundingBox();
			assertAt(box, voxelRect(await imageRect(page), Number(nx), Number(ny), l.box), `lesion ${l.idx}`);
			const grey = await brightestUnder(page, box);
			assert.ok(grey >= 200, `lesion ${l.idx} (${l.location}): brightest ${grey} under its box`);
			// The key slice lies within the plaque's z (slice k of
			// 1.25 mm covers [1.25 k, 1.25 (k + 1)] mm).
			const site = l.type === '冠脉钙化灶' ? l.location.split('（')[0] : 'VALVE';
			const p = ph.plaques.find((x) => x.site === site);
			if (p && (l.type === '冠脉钙化灶' || /主动脉根部|心腔内/.test(l.location))) {
				const z = (l.slice + 0.5) * 1.25;
				assert.ok(z > p.z0 && z < p.z1, `${site}: slice ${l.slice} (z ${z}) in ${p.z0}-${p.z1}`);
			}
		}
		const first = coronary.find((r) => r.loc.startsWith('LAD'));
		await page.locator(`#lesion-table tbody tr[data-idx="${first.idx}"] td.type`).click();
		await waitSlice(page, first.slice);
		await shot(page, 'result');

		// The figures and the text.
		const figures = await page.locator('#summary-table tbody tr').evaluateAll((trs) =>
		    trs.map((t) => [...t.cells].map((c) => c.textContent.trim())));
		const total = figures.find((f) => f[0] === '总Agatston积分');
		assert.ok(total, JSON.stringify(figures));
		const score = conclusionText.match(/冠状动脉钙化总积分 ([0-9.]+)（Agatston）/);
		assert.ok(score, conclusionText);
		assert.ok(Number(total[1]) > 0 && Math.abs(Number(total[1]) - Number(score[1])) < 0.051,
		    `总Agatston积分 ${total[1]}, conclusion ${score[1]}`);
		console.log(`# 总Agatston积分 ${total[1]}; ${conclusionText}`);
		assert.match(await page.textContent('#ai-findings'), /冠状动脉钙化积分/);
		assert.equal((await page.textContent('#ai-conclusion')).trim(), conclusionText);

		// 5. The non-coronary calcium left out; 上传影像结论.
		for (const r of excluded)
			await page.uncheck(`#lesion-${r.idx}`);
		await shot(page, 'result-picked');
		await go(page, '/report', () => page.click('#btn-upload'));
		assert.equal(new URL(page.url()).searchParams.get('id'), String(id));
		assert.equal((await page.textContent('#report-notice')).trim(),
		    '已将AI辅助阅片意见加入报告，请核对修改后再提交');
		const findings = await page.inputValue('#findings');
		const conclusion = await page.inputValue('#conclusion');
		assert.match(findings, /冠状动脉钙化积分/);
		assert.match(conclusion, /冠状动脉钙化总积分/);
		assert.match(conclusion, /CAC-DRS/);
		for (const l of lesions) {
			const has = findings.includes(l.findings);
			assert.equal(has, l.type === '冠脉钙化灶', `lesion ${l.idx} (${l.location}) ${has ? 'in' : 'not in'} 影像表现`);
		}
		// Through JSON, which keeps the line ends of the texts.
		const [version, vf, vc, used] = JSON.parse(sql(`SELECT json_build_array(version::text, findings,
		    conclusion, CASE WHEN ai_used THEN 't' ELSE 'f' END) FROM report_versions
		    WHERE application_id = :'p1' ORDER BY version DESC LIMIT 1`, { params: [id] })[0][0]);
		assert.deepEqual([vf, vc, used], [findings, conclusion, 't']);
		assert.equal(await page.inputValue('#report-version'), version);
		await shot(page, 'report-after-upload');
		assert.deepEqual(doc.errors, [], 'no script errors or CSP violations');
		console.log(`# the story took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
	} finally {
		if (held)
			process.kill(daemon, 'SIGCONT');
		if (doc !== null)
			await doc.context.close();
		fs.rmSync(ph.dir, { recursive: true, force: true });
	}
});
