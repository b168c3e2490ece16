// tests/browser/spine.test.mjs - the bone density reader's body
// composition and its A4 report (一键输出脊柱椎体评估报告), in Debian's
// chromium (headless, playwright-core), on the spine phantom sent through
// the real path:
//
//   1. 龙湾镇卫生院 applies for 上级诊断 at 江南县人民医院 (SQL, as the other
//      tests do); its collector sends the spine phantom (zhiying-phantom
//      -V: T11-L3 whole, a trunk of known compartments, PatientSize 1.70
//      m) to the stack's SCP, which links it; the stack's daemon reads it
//      with the bone density reader.
//   2. The doctor (jn_attending) opens 写报告 and, from the AI card, the
//      result: the body composition panel shows the L3 colour map (loaded)
//      and the six compartments with their areas and CT numbers, the
//      phantom's areas within 3 % (the truth integrated from its
//      geometry, test_bodycomp.c), muscle 40 HU and fat -100 HU within
//      5, the skeletal muscle index with the height.
//   3. 一键输出脊柱椎体评估报告 opens the A4 sheet: the hospital, the
//      patient, a row per level T11-L3 with T12 a Genant 2 wedge and L2 a
//      Genant 1 biconcave body, the sagittal view (loaded) with a height
//      line per measured height and the labels, the colour map with its
//      table, the conclusions and the reference-only statement; printed
//      to PDF by Chromium, it is one A4 page holding that text.
//   4. 上传影像结论 takes the body composition sentences into the report.
//   5. Doctors of other alliances get 404 on the sheet and its pictures.
//
//   ZY_URL=... ZY_STATE=... ZY_SCP_PORT=... ZY_OUT=tests/out \
//       node --test --test-reporter=spec tests/browser/spine.test.mjs
//
// The stack comes from tests/lib.sh stack_start; without it the test is
// skipped.  Needs poppler-utils (pdftotext, pdfinfo).  The PDF and the
// screenshots go to $ZY_OUT/browser/spine-*.

import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromiumForFile, go, openReport, userSession } from './chromium.mjs';
import { Client, sql } from '../integration/helpers.mjs';

const run = promisify(execFile);
const BASE = process.env.ZY_URL ? process.env.ZY_URL.replace(/\/+$/, '') : '';
const OUT = path.join(process.env.ZY_OUT || 'tests/out', 'browser');
const PASSWORD = 'Zhiying2026';
const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const PHANTOM = `${ROOT}/src/tools/zhiying-phantom`;
const STATE = process.env.ZY_STATE;
const SCP_PORT = process.env.ZY_SCP_PORT;
const DISCLAIMER = '人工智能辅助阅片结果仅供参考，不得直接用于诊疗。';

// The phantom's compartments at L3 (cm², integrated from its geometry
// by test_bodycomp.c) and their tissue's CT number.
const TRUTH = [
	['皮下脂肪', 72.71, -100], ['内脏脂肪', 78.91, -100], ['腹壁肌间脂肪', 3.02, -100],
	['椎旁肌间脂肪', 2.65, -100], ['腹壁肌肉', 60.71, 40], ['椎旁肌肉', 18.05, 40],
];

const skip = BASE === '' || !STATE || !SCP_PORT ?
    'ZY_URL, ZY_STATE or ZY_SCP_PORT is not set: start a stack first (tests/lib.sh stack_start)' : false;

const chrome = chromiumForFile(skip, OUT);

async function until(what, cond, ms = 480000, step = 500) {
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

// Whether the images of selector have loaded, with their natural widths.
async function loadedWidths(page, selector) {
	await page.waitForFunction((s) => [...document.querySelectorAll(s)].every((e) => e.complete),
	    selector, { timeout: 60000 });
	return page.locator(selector).evaluateAll((es) => es.map((e) => e.naturalWidth));
}

test('body composition at L3 on the result page; 一键输出脊柱椎体评估报告 prints one A4 sheet; its text goes into the report',
    { skip, timeout: 900000 }, async () => {
	const pid = `SPN-${process.pid}-${Date.now()}`;
	const name = `骆桂芳${process.pid % 1000}`;
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zhiying-spine-'));
	const sessions = [];
	try {
		// 1. The application and its study, read by the daemon.
		const [[id]] = sql(`INSERT INTO applications (diag_no, mode, applicant_id,
		    applicant_institution_id, alliance_id, target_institution_id, patient_name, patient_sex,
		    patient_age, patient_no, chief_complaint, present_illness, history, clinical_diagnosis,
		    exam_type, body_part, urgency, exam_date)
		  SELECT 'ZY' || to_char(now(), 'YYYYMMDD') || lpad(nextval('diag_no_seq')::text, 6, '0'),
		    'superior', u.id, u.institution_id, al.id, t.id, :'p1', 'F', '67岁', :'p2',
		    '腰背痛三月', '三月来腰背痛，弯腰时加重', '绝经17年', '骨质疏松待查',
		    'CT', '胸腹部', 'routine', current_date
		  FROM users u, alliances al, institutions t
		  WHERE u.login = 'lw_apply' AND al.code = 'JN-YGT' AND t.code = 'JN-PH'
		  RETURNING id, diag_no`, { params: [name, pid] });
		await run(PHANTOM, ['-V', '-t', '1.25', '-n', '15', '-P', pid, '-N', 'LUO^GUIFANG', '-o', dir]);
		await run('storescu', ['-aet', 'LW_COLLECTOR', '-aec', 'ZHIYING', '+sd', '+r', '+sp', '*.dcm',
		    '127.0.0.1', SCP_PORT, dir], { env: { ...process.env, TCP_NODELAY: '1' }, maxBuffer: 1 << 24 });
		const [[job]] = await until('the study to be linked and its bone density read', () => {
			const r = sql(`SELECT j.id, j.state FROM application_studies x
			    JOIN series se ON se.study_id = x.study_id
			    JOIN ai_jobs j ON j.series_id = se.id AND j.reader = 'ct_bone_density'
			    WHERE x.application_id = :'p1' AND j.state IN ('done', 'failed', 'dead')`, { params: [id] });
			return r.length ? r : null;
		});
		assert.deepEqual(sql(`SELECT state FROM ai_jobs WHERE id = :'p1'`, { params: [job] }), [['done']]);
		assert.deepEqual(sql(`SELECT name FROM ai_result_pictures p JOIN ai_results r ON r.id = p.result_id
		    WHERE r.job_id = :'p1' ORDER BY name`, { params: [job] }), [['bodycomp'], ['sagittal']]);

		// 2. The result page, from the AI card of 写报告.
		const doc = await userSession(chrome.browser, BASE, 'jn_attending', PASSWORD);
		sessions.push(doc);
		const page = doc.page;
		assert.equal((await openReport(page, BASE, id)).status(), 200);
		await go(page, '/ai/result', () => page.locator(`.ai-card[data-job="${job}"] a.ai-open`).click());
		assert.equal((await page.textContent('#ai-disclaimer')).trim(), DISCLAIMER);
		assert.match(await page.textContent('#ai-body h2'), /身体成分/);
		assert.deepEqual(await loadedWidths(page, '#bodycomp-img'), [320]);
		assert.match(await page.textContent('#ai-body figcaption'), /^L3椎体中部层面（第 \d+ 层）/);
		const rows = await page.locator('#body-table tbody tr').evaluateAll((trs) =>
		    trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim())));
		assert.deepEqual(rows.slice(0, 6).map((r) => r[0]), TRUTH.map((t) => t[0]));
		for (let i = 0; i < TRUTH.length; i++) {
			const [what, area, hu] = TRUTH[i];
			const a = Number(rows[i][1]), h = Number(rows[i][2]);
			assert.ok(Math.abs(a - area) <= 0.03 * area, `${what}: ${a} cm² for ${area}`);
			assert.ok(Math.abs(h - hu) <= 5 + (i === 2 || i === 3 ? 10 : 0), `${what}: ${h} HU`);
		}
		const sma = Number(await page.textContent('#muscle-area'));
		assert.ok(Math.abs(sma - 78.76) <= 0.03 * 78.76, `skeletal muscle ${sma} cm²`);
		const smi = (await page.textContent('#smi')).trim();
		assert.match(smi, /^[\d.]+ cm²\/m²（身高 170 cm）$/);
		assert.ok(Math.abs(parseFloat(smi) - sma / 1.7 / 1.7) < 0.1, smi);
		const findings = await page.textContent('#ai-findings');
		assert.match(findings, /身体成分（L3椎体中部层面，第\d+层）：皮下脂肪面积[\d.]+ cm²（平均CT值-?\d+ HU）/);
		assert.match(findings, /骨骼肌指数[\d.]+ cm²\/m²（身高170 cm）/);
		await page.screenshot({ path: path.join(OUT, 'spine-result.png'), fullPage: true });

		// 3. 一键输出脊柱椎体评估报告.
		await go(page, '/ai/bmd-report', () => page.click('#btn-spine-report'));
		assert.equal((await page.textContent('#spine-hospital')).trim(), '江南县人民医院');
		assert.equal((await page.textContent('#spine-doc-title')).trim(), '脊柱椎体评估报告');
		assert.equal((await page.textContent('#spine-patient')).trim(), name);
		const levels = await page.locator('#spine-levels tbody tr').evaluateAll((trs) =>
		    trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim())));
		assert.deepEqual(levels.map((r) => r[0]), ['T11椎体', 'T12椎体', 'L1椎体', 'L2椎体', 'L3椎体']);
		assert.equal(levels[1][9], '2 楔形');
		assert.equal(levels[3][9], '1 双凹形');
		assert.equal(levels[0][9], '0');
		assert.ok(Math.abs(Number(levels[1][7]) - 0.70) <= 0.04, `T12 Ha/Hp ${levels[1][7]}`);
		assert.ok(Math.abs(Number(levels[2][1]) - 110) <= 3, `L1 ${levels[2][1]} HU`);
		const widths = await loadedWidths(page, '#spine-bodycomp img');
		assert.deepEqual(widths, [320]);
		await page.waitForFunction(() => {
			const im = new Image();
			im.src = document.querySelector('#spine-sagittal image').getAttribute('href');
			return im.decode().then(() => im.naturalWidth > 0);
		});
		assert.equal(await page.locator('#spine-sagittal line').count(), 15);
		assert.deepEqual(await page.locator('#spine-sagittal text').allTextContents(),
		    ['T11', 'T12', 'L1', 'L2', 'L3']);
		assert.equal(await page.locator('#spine-body-table tbody tr').count(), 8);
		assert.equal((await page.textContent('#spine-disclaimer')).trim(), DISCLAIMER);
		await page.screenshot({ path: path.join(OUT, 'spine-sheet.png'), fullPage: true });
		const pdf = path.join(OUT, 'spine-report.pdf');
		await page.pdf({ path: pdf, format: 'A4' });
		const pages = Number(execFileSync('pdfinfo', [pdf], { encoding: 'utf8' }).match(/^Pages:\s+(\d+)/m)[1]);
		assert.equal(pages, 1, 'the spine report is one A4 sheet');
		const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' }).replace(/\s+/g, '');
		for (const s of ['江南县人民医院', '脊柱椎体评估报告', name, 'T12椎体', '2楔形', '1双凹形',
		    '皮下脂肪', '椎旁肌肉', '骨骼肌指数', '影像结论', 'T12椎体楔形压缩骨折', DISCLAIMER.replace(/\s+/g, '')])
			assert.ok(text.includes(s), `the PDF says ${s}`);

		// 4. 上传影像结论: the sentences into the report's draft.
		await go(page, '/ai/result', () => page.click('.toolbar a'));
		await go(page, '/report', () => page.click('#btn-upload'));
		assert.match(await page.inputValue('#findings'), /身体成分（L3椎体中部层面，第\d+层）：皮下脂肪面积/);
		assert.match(await page.inputValue('#conclusion'), /T12椎体楔形压缩骨折/);
		assert.deepEqual(doc.errors, []);

		// 5. Outsiders: 404, no picture, no name.
		for (const who of ['yb_attending', 'gd_chief']) {
			const c = new Client(who);
			assert.equal((await c.login(who)).status, 303);
			for (const url of [`/ai/bmd-report?id=${id}&job=${job}`,
			    `/ai/picture?job=${job}&picture=bodycomp`, `/ai/picture?job=${job}&picture=sagittal`]) {
				const r = await c.get(url);
				assert.equal(r.status, 404, `${who} ${url}`);
				assert.ok(!r.text.includes(name) && !r.headers.get('content-type').startsWith('image/'),
				    `${who} ${url}`);
			}
		}
	} finally {
		for (const s of sessions)
			await s.context.close();
		fs.rmSync(dir, { recursive: true, force: true });
	}
});
