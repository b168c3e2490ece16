// tests/browser/ribs.test.mjs - the rib fracture reader (CT骨折辅助诊断) end
// to end, with the stack's own processes (zhiying-scp, zhiying-inferd,
// zhiying-web behind nginx) and Debian's chromium (headless):
//
//   1. 龙湾镇卫生院 (lw_apply) applies for 上级诊断 at 江南县人民医院: CT,
//      胸部, the patient number and the exam date of the study to come.
//   2. The collector (LW_COLLECTOR) sends the rib cage phantom
//      (zhiying-phantom -R: 2 mm slices, 15 HU of noise; 24 ribs on T1-L1
//      and nine fractures of known rib, segment and kind) with storescu;
//      the matcher queues ct_rib_fracture, the study is linked to the
//      application, and the stack's daemon reads it.
//   3. The doctor (jn_attending) opens 写报告 and the card of
//      CT骨折辅助诊断, and sees on the AI result page the nine fractures,
//      each with its 病灶类型 and 病灶位置 as placed in the phantom (at most
//      one more candidate: the phantom's noise at 2 mm), the box of each on
//      its key slice, the bone window; sorts by slice and by position; sees
//      the ribs' and vertebrae's labels over the slice (右5 beside the
//      fracture of the right fifth rib) and turns them off and on.
//   4. The doctor keeps two fractures ticked and presses 上传影像结论: the
//      report holds the two fractures' sentences and none of the others'.
//
//   ZY_URL=... ZY_STATE=... ZY_PGPORT=... ZY_SCP_PORT=... ZY_OUT=tests/out \
//       node --test --test-reporter=spec tests/browser/ribs.test.mjs
//
// No shared data is needed: the study is generated.  Screenshots go to
// $ZY_OUT/browser/ribs-*.png.

import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromiumForFile, go, openReport, userSession } from './chromium.mjs';
import { applyChestCt, matchedSeries, storescu } from './ctapply.mjs';
import { imageRect, shownBoxes, waitSlice, wheel } from './aiview.mjs';
import { sql } from '../integration/helpers.mjs';

const run = promisify(execFile);
const BASE = process.env.ZY_URL ? process.env.ZY_URL.replace(/\/+$/, '') : '';
const OUT = path.join(process.env.ZY_OUT || 'tests/out', 'browser');
const PASSWORD = 'Zhiying2026';
const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const PHANTOM = `${ROOT}/src/tools/zhiying-phantom`;
const STATE = process.env.ZY_STATE;
const SCP_PORT = process.env.ZY_SCP_PORT;
const DISCLAIMER = '人工智能辅助阅片结果仅供参考，不得直接用于诊疗。';
const SEGMENTS = ['后段', '腋段', '前段'];

const skip = BASE === '' || !STATE || !SCP_PORT ?
    'ZY_URL, ZY_STATE or ZY_SCP_PORT is not set: start a stack first (tests/lib.sh stack_start)' : false;

const chrome = chromiumForFile(skip, OUT);

// The rib cage phantom at 2 mm: { dir, files, study, series, fractures },
// each fracture { place: '右第5肋腋段', kind } as zhiying-phantom placed it.
async function writePhantom(patientId, name) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zhiying-ribs-'));
	const { stdout } = await run(PHANTOM, ['-R', '-t', '2', '-n', '15', '-P', patientId, '-N', name,
	    '-o', dir]);
	const fractures = [...stdout.matchAll(/^fracture ([RL])(\d+) (\S+) t \S+ at \S+ \S+ \S+ segment (\d)$/gm)]
	    .map(([, side, num, kind, seg]) => ({ place: `${side === 'R' ? '右' : '左'}第${num}肋${SEGMENTS[seg]}`,
	    rib: `${side}${num}`, kind }));
	const files = Number(stdout.match(/^files (\d+) /m)[1]);
	const study = stdout.match(/^study (\S+)$/m)[1];
	const series = stdout.match(/^series (\S+)$/m)[1];
	return { dir, files, study, series, fractures };
}

// The type the reader owes each fracture: a cut alone is non-displaced,
// two breaks on one rib segmental (RibFrac's classes).
function expectedType(f, all) {
	const breaks = all.filter((g) => g.rib === f.rib && (g.kind === 'cut' || g.kind === 'displaced'));
	if (breaks.length >= 2 && (f.kind === 'cut' || f.kind === 'displaced'))
		return '节段性骨折';
	return { displaced: '移位骨折', cut: '无移位骨折', buckle: '屈曲骨折', callus: '陈旧性骨折' }[f.kind];
}

// The rank of a place in the order by position: right before left, by
// number, posterior, axillary, anterior.
function rank(place) {
	const m = place.match(/^([右左])第(\d+)肋(后段|腋段|前段)$/);
	assert.ok(m, place);
	return (m[1] === '右' ? 0 : 100) + Number(m[2]) * 4 + SEGMENTS.indexOf(m[3]);
}

async function until(what, cond, ms = 20000, step = 200) {
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

async function shot(page, name) {
	await page.screenshot({ path: path.join(OUT, `ribs-${name}.png`), fullPage: true });
}

// The table's rows as shown.
async function rows(page) {
	return page.locator('#lesion-table tbody tr').evaluateAll((trs) => trs.map((t) => ({
	    idx: Number(t.dataset.idx), slice: Number(t.dataset.slice),
	    type: t.querySelector('td.type').textContent.trim(),
	    loc: t.querySelector('td.loc').textContent.trim() })));
}

// The labels the viewer draws over the slice shown: [{ text, cls, x, y }]
// with x, y the label's centre in pixels of the page.
async function labels(page) {
	return page.locator('#zv .zv-lab').evaluateAll((ts) => ts.filter((t) => t.getClientRects().length > 0).map((t) => {
		const b = t.getBoundingClientRect();
		return { text: t.textContent, cls: t.getAttribute('class'), x: b.x + b.width / 2, y: b.y + b.height / 2 };
	}));
}

test('the rib cage phantom sent by storescu; the rib fracture reader finds its nine fractures; the doctor sorts, '
    + 'sees the ribs numbered and takes two into the report', { skip, timeout: 600000 }, async () => {
	const t0 = Date.now();
	const pid = `RIB-${process.pid}-${Date.now()}`;
	const ph = await writePhantom(pid, 'HE^JIANGUO');
	assert.equal(ph.fractures.length, 9);
	let doc = null;
	try {
		// 1. 申请.
		const { id } = await applyChestCt(chrome.browser, BASE, { name: '何建国', sex: '男', age: '58岁', no: pid,
		    phone: '13912345678', complaint: '摔倒后右侧胸痛两天',
		    illness: '两天前骑车摔倒，右侧胸壁着地，深呼吸时疼痛加重',
		    history: '无特殊', diagnosis: '胸部外伤，肋骨骨折待排' });
		let page;

		// 2. The study sent, matched, linked, read.
		await storescu(ph.dir);
		const [series] = await matchedSeries(id, ph.study, ph.series);
		const [[fits, reason]] = sql(`SELECT fits, reason FROM series_matches
		    WHERE series_id = :'p1' AND reader = 'ct_rib_fracture'`, { params: [series] });
		assert.equal(fits, 't', reason);
		const [[job]] = sql(`SELECT id FROM ai_jobs WHERE series_id = :'p1' AND reader = 'ct_rib_fracture'`,
		    { params: [series] });
		// The daemon reads the series' other jobs too (one load, one
		// anatomy): minutes on a busy machine.
		const state = await until('the rib fracture job to end', () => {
			const [[s]] = sql(`SELECT state FROM ai_jobs WHERE id = :'p1'`, { params: [job] });
			return ['done', 'failed', 'dead'].includes(s) ? s : null;
		}, 420000, 500);
		const [[err]] = sql(`SELECT error FROM ai_jobs WHERE id = :'p1'`, { params: [job] });
		assert.equal(state, 'done', err);
		console.log(`# job ${job} done ${((Date.now() - t0) / 1000).toFixed(1)} s into the test`);

		// 3. 写报告 → the card → the result page.
		doc = await userSession(chrome.browser, BASE, 'jn_attending', PASSWORD);
		page = doc.page;
		assert.equal((await openReport(page, BASE, id)).status(), 200);
		const card = page.locator(`#ai-row li.ai-card.done[data-job="${job}"]`);
		assert.equal((await card.locator('.reader').textContent()).trim(), 'CT骨折辅助诊断');
		await go(page, '/ai/result', () => card.locator('a.ai-open').click());
		assert.equal((await page.textContent('#ai-disclaimer')).trim(), DISCLAIMER);
		assert.equal((await page.textContent('#ai-reader')).trim(), 'CT骨折辅助诊断');
		assert.equal((await page.textContent('#ai-state')).trim(), '完成');
		const method = await page.textContent('#ai-method');
		assert.match(method, /Lenga/);
		assert.match(method, /RibFrac/);
		assert.match(method, /仅供参考/);
		// The bone window first.
		assert.equal(await page.getAttribute('#zv-presets button.on', 'data-preset'), 'bone');
		assert.match(await page.textContent('#ai-findings'), /双侧肋骨共识别24根（右侧12根，左侧12根）/);
		assert.match(await page.textContent('#ai-conclusion'), /是否随访复查由临床医生结合病情决定/);

		// The nine fractures, each with its type and place.
		let shown = await rows(page);
		console.log(`# ${shown.map((r) => `${r.loc} ${r.type} 第${r.slice + 1}层`).join('; ')}`);
		assert.ok(shown.length >= 9 && shown.length <= 10, JSON.stringify(shown));
		for (const f of ph.fractures)
			assert.ok(shown.some((r) => r.loc === f.place && r.type === expectedType(f, ph.fractures)),
			    `${f.place} ${expectedType(f, ph.fractures)} in ${JSON.stringify(shown)}`);
		const heads = (await page.locator('#lesion-table thead th').allTextContents()).map((t) => t.trim());
		assert.deepEqual(heads.slice(0, 4), ['选择', '序号', '类型', '位置']);
		assert.equal(heads.at(-1), '层面');
		// The reader's order is by position.
		assert.deepEqual(shown.map((r) => rank(r.loc)), shown.map((r) => rank(r.loc)).sort((a, b) => a - b));

		// Sorted by slice, then by position.
		const orders = (await page.locator('#lesion-sort a.order').allTextContents()).map((t) => t.trim());
		assert.deepEqual(orders, ['默认顺序', '按层面', '按部位']);
		await go(page, '/ai/result', () => page.locator('#lesion-sort a.order', { hasText: '按层面' }).click());
		assert.equal(new URL(page.url()).searchParams.get('sort'), 'slice');
		shown = await rows(page);
		assert.deepEqual(shown.map((r) => r.slice), shown.map((r) => r.slice).sort((a, b) => a - b));
		await go(page, '/ai/result', () => page.locator('#lesion-sort a.order', { hasText: '按部位' }).click());
		assert.equal(new URL(page.url()).searchParams.get('sort'), 'position');
		assert.equal((await page.textContent('#lesion-sort a.order.on')).trim(), '按部位');
		shown = await rows(page);
		const ranks = shown.map((r) => rank(r.loc));
		assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b));
		assert.ok(shown[0].loc.startsWith('右第3肋'), shown[0].loc);

		// The box and the labels on the key slice of the right fifth rib's
		// fracture: 右5 within 30 mm of the box's centre, the vertebra's
		// label shown too.
		const r5 = shown.find((r) => r.loc === '右第5肋腋段');
		await page.locator(`#lesion-table tbody tr[data-idx="${r5.idx}"] td.type`).click();
		assert.match((await page.textContent('#slice-no')).trim(), new RegExp(`^第 ${r5.slice + 1} / \\d+ 层$`));
		const st = await waitSlice(page, r5.slice, 'bone');
		const boxes = await shownBoxes(page);
		assert.ok(boxes.includes(r5.idx), `box ${r5.idx} shown: ${boxes}`);
		const bb = await page.locator(`#zv .zv-box[data-idx="${r5.idx}"]`).boundingBox();
		assert.equal(await page.isChecked('#toggle-overlays'), true);
		const toggleText = (await page.locator('label.ovl-toggle').textContent()).trim();
		assert.match(toggleText, /^显示左右肋骨、椎骨编号/);
		let ls = await labels(page);
		console.log(`# labels on slice ${r5.slice + 1}: ${ls.map((l) => l.text).join(' ')}`);
		assert.ok(ls.length > 0);
		assert.ok(ls.every((l) => /^(右|左)(\d+|\?)$/.test(l.text) || /^(C|T|L)\d+$/.test(l.text)), JSON.stringify(ls));
		// The vertebrae T1-L1 labelled on their slices (a slice between
		// two bodies shows none), as the page gives them to the viewer.
		const annot = JSON.parse(await page.getAttribute('#zv', 'data-annot'));
		const verts = new Set(annot.labels.filter((l) => l[4] === 'vert').map((l) => l[3]));
		for (const v of ['T1', 'T5', 'T12', 'L1'])
			assert.ok(verts.has(v), `${v} among ${[...verts]}`);
		const img = await imageRect(page);
		const [[nx]] = sql(`SELECT nx FROM ai_results WHERE job_id = :'p1'`, { params: [job] });
		const mmPerPx = 0.9 * Number(nx) / img.width;	// the phantom's 0.9 mm pixels
		const cx = bb.x + bb.width / 2, cy = bb.y + bb.height / 2;
		const near5 = ls.filter((l) => l.text === '右5').map((l) => Math.hypot(l.x - cx, l.y - cy) * mmPerPx);
		assert.ok(near5.length > 0 && Math.min(...near5) <= 30, `右5 at ${near5} mm from the box`);
		// No label of the left ribs on the right of the patient (the
		// image's left).
		const mid = img.x + img.width / 2;
		assert.ok(ls.filter((l) => l.cls.includes('rib-r')).every((l) => l.x < mid), 'right ribs on the image\'s left');
		assert.ok(ls.filter((l) => l.cls.includes('rib-l')).every((l) => l.x > mid), 'left ribs on the image\'s right');
		await shot(page, 'result-r5');
		// Off, and on again.
		await page.uncheck('#toggle-overlays');
		assert.deepEqual(await labels(page), []);
		assert.equal(await page.locator(`#zv .zv-box[data-idx="${r5.idx}"]`).isVisible(), true, 'the box stays');
		await page.check('#toggle-overlays');
		assert.ok((await labels(page)).length > 0, 'the labels back');
		// The labels follow the slice: the wheel to the next slice of the
		// result.
		const next = annot.zk[r5.slice + 1];
		await wheel(page, next > st.k ? 120 : -120);
		await waitSlice(page, r5.slice + 1);
		assert.match((await page.textContent('#slice-no')).trim(), new RegExp(`^第 ${r5.slice + 2} / `));
		ls = await labels(page);
		assert.ok(ls.length > 0);
		const onSlice = await page.locator('#zv .zv-lab').evaluateAll((ts) => ts.map((t) => Number(t.dataset.slice)));
		assert.ok(onSlice.every((k) => k === r5.slice + 1), 'only the labels of the slice shown');

		// 4. Two fractures kept: the right fifth and the left ninth.
		const keep = shown.filter((r) => r.loc === '右第5肋腋段' || r.loc === '左第9肋前段');
		assert.equal(keep.length, 2);
		for (const r of shown)
			if (!keep.includes(r))
				await page.uncheck(`#lesion-${r.idx}`);
		const [[rid]] = sql(`SELECT id FROM ai_results WHERE job_id = :'p1'`, { params: [job] });
		const texts = Object.fromEntries(sql(`SELECT idx, findings_text, conclusion_text FROM ai_lesions
		    WHERE result_id = :'p1'`, { params: [rid] }).map(([i, f, c]) => [Number(i), { f, c }]));
		await shot(page, 'result-picked');
		await go(page, '/report', () => page.click('#btn-upload'));
		assert.equal((await page.textContent('#report-notice')).trim(),
		    '已将AI辅助阅片意见加入报告，请核对修改后再提交');
		const findings = await page.inputValue('#findings');
		const conclusion = await page.inputValue('#conclusion');
		for (const r of shown) {
			const kept = keep.includes(r);
			assert.equal(findings.includes(texts[r.idx].f), kept, `${r.loc} in 影像表现: ${kept}`);
			assert.equal(conclusion.includes(texts[r.idx].c), kept, `${r.loc} in 影像结论: ${kept}`);
		}
		assert.match(conclusion, /右第5肋腋段移位骨折/);
		assert.match(conclusion, /左第9肋前段移位骨折/);
		assert.doesNotMatch(conclusion, /屈曲骨折|陈旧性骨折|节段性骨折|无移位骨折/);
		assert.match(findings, /右第5肋腋段骨皮质连续性中断，断端错位约/);
		const [[used]] = sql(`SELECT ai_used FROM report_versions WHERE application_id = :'p1'
		    ORDER BY version DESC LIMIT 1`, { params: [id] });
		assert.equal(used, 't');
		await shot(page, 'report-after-upload');
		assert.deepEqual(doc.errors, [], 'no script errors or CSP violations');
		console.log(`# the story took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
	} finally {
		if (doc !== null)
			await doc.context.close();
		fs.rmSync(ph.dir, { recursive: true, force: true });
	}
});
