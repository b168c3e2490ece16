// tests/browser/cpr.test.mjs - 肋骨拉直/展开 end to end, with the stack's
// own processes (zhiying-scp, zhiying-inferd, zhiying-web behind nginx)
// and Debian's chromium (headless):
//
//   1. 龙湾镇卫生院 (lw_apply) applies for 上级诊断 at 江南县人民医院; the
//      collector sends the rib cage phantom (zhiying-phantom -R: 2 mm
//      slices, 15 HU of noise, 24 ribs, nine fractures of known rib) with
//      storescu; the stack's daemon runs the rib fracture reader on it.
//   2. The doctor (jn_attending) opens the AI result page and its link
//      肋骨拉直/展开: the 24 ribs listed (右1..右12, 左1..左12), the first
//      rib with a fracture straightened, a numbered marker on it for each
//      of its fractures, the cut ones a gap in the cortex under the
//      marker; every fracture of the phantom listed on its own rib, at
//      the reader's own distance from the head.
//   3. ↓/↑ step through the ribs (the image, the name and the markers
//      follow), →/← and the slider turn the rib about its centre line
//      (another image, the same again at the same angle), the windows
//      change it; the unfolded cage shows 24 rows labelled, a marker for
//      every fracture, and a click on a row opens that rib.  The viewer
//      of the application links the same page.
//   4. Doctors of other hospitals get 404 from the page and its images
//      and no image is audited for them; bad parameters answer 400; a
//      result without centre lines (an older one) says so in Chinese.
//
//   ZY_URL=... ZY_STATE=... ZY_PGPORT=... ZY_SCP_PORT=... ZY_OUT=tests/out \
//       node --test --test-reporter=spec tests/browser/cpr.test.mjs
//
// No shared data is needed: the study is generated.  Screenshots go to
// $ZY_OUT/browser/cpr-*.png.

import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromiumForFile, go, openReport, userSession } from './chromium.mjs';
import { applyChestCt, matchedSeries, storescu } from './ctapply.mjs';
import { Client, sql } from '../integration/helpers.mjs';

const run = promisify(execFile);
const BASE = process.env.ZY_URL ? process.env.ZY_URL.replace(/\/+$/, '') : '';
const OUT = path.join(process.env.ZY_OUT || 'tests/out', 'browser');
const PASSWORD = 'Zhiying2026';
const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const PHANTOM = `${ROOT}/src/tools/zhiying-phantom`;
const STATE = process.env.ZY_STATE;
const SCP_PORT = process.env.ZY_SCP_PORT;
const SEGMENTS = ['后段', '腋段', '前段'];

const skip = BASE === '' || !STATE || !SCP_PORT ?
    'ZY_URL, ZY_STATE or ZY_SCP_PORT is not set: start a stack first (tests/lib.sh stack_start)' : false;

const chrome = chromiumForFile(skip, OUT);

async function writePhantom(patientId, name) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zhiying-cpr-'));
	const { stdout } = await run(PHANTOM, ['-R', '-t', '2', '-n', '15', '-P', patientId, '-N', name,
	    '-o', dir]);
	const fractures = [...stdout.matchAll(/^fracture ([RL])(\d+) (\S+) t \S+ at \S+ \S+ \S+ segment (\d)$/gm)]
	    .map(([, side, num, kind, seg]) => ({ place: `${side === 'R' ? '右' : '左'}第${num}肋${SEGMENTS[seg]}`,
	    rib: `${side === 'R' ? '右' : '左'}${num}`, kind }));
	const study = stdout.match(/^study (\S+)$/m)[1];
	const series = stdout.match(/^series (\S+)$/m)[1];
	return { dir, study, series, fractures };
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
	await page.screenshot({ path: path.join(OUT, `cpr-${name}.png`), fullPage: true });
}

// The page's data (the ribs, the lesions' places) as the script reads it.
async function info(page) {
	return JSON.parse(await page.getAttribute('#cpr', 'data-info'));
}

// Wait until fn, run in the page, is true (polled from here: the page's
// Content Security Policy forbids the evaluation waitForFunction polls
// with).
async function pageUntil(page, what, fn, ms = 30000) {
	const t0 = Date.now();
	while (!(await page.evaluate(fn))) {
		if (Date.now() - t0 > ms)
			assert.fail(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 50));
	}
}

// The straightened rib shown, once loaded: its name, the src's query, its
// size and the markers drawn over it.
async function shown(page) {
	await pageUntil(page, 'the rib\'s image', () => {
		const i = document.getElementById('rib-img');
		return i.complete && i.naturalWidth > 0 && !document.getElementById('rib-stage').classList.contains('loading');
	});
	return page.evaluate(() => {
		const i = document.getElementById('rib-img');
		return { name: document.getElementById('rib-name').textContent, src: i.getAttribute('src'),
		    w: i.naturalWidth, h: i.naturalHeight,
		    marks: [...document.querySelectorAll('#rib-marks g.mark')].map((g) => Number(g.dataset.idx)),
		    on: document.querySelector('#rib-list a.rib.on').firstChild.textContent.trim() };
	});
}

// The grey values of an image of the page (same origin), row by row.
async function pixels(page, src) {
	return page.evaluate(async (s) => {
		const img = new Image();
		img.src = s;
		await img.decode();
		const c = document.createElement('canvas');
		c.width = img.naturalWidth;
		c.height = img.naturalHeight;
		const g = c.getContext('2d');
		g.drawImage(img, 0, 0);
		const d = g.getImageData(0, 0, c.width, c.height).data;
		const v = [];
		for (let i = 0; i < d.length; i += 4)
			v.push(d[i]);
		return { w: c.width, h: c.height, v };
	}, src);
}

// The brightest value of column c within rows mid ± half of a picture.
function colmax(p, c, half) {
	const mid = (p.h - 1) / 2;
	let m = 0;
	for (let r = Math.ceil(mid - half); r <= mid + half; r++)
		m = Math.max(m, p.v[r * p.w + c]);
	return m;
}

test('the rib cage phantom read by the rib fracture reader: each rib straightened, the cage unfolded, the fractures '
    + 'marked on their ribs; keys, angle and windows; 404 for other hospitals', { skip, timeout: 900000 }, async () => {
	const t0 = Date.now();
	const pid = `CPR-${process.pid}-${Date.now()}`;
	const ph = await writePhantom(pid, 'ZHOU^MINGHUA');
	assert.equal(ph.fractures.length, 9);
	let doc = null;
	try {
		const { id } = await applyChestCt(chrome.browser, BASE, { name: '周明华', sex: '男', age: '63岁', no: pid,
		    phone: '13812345678', complaint: '车祸后胸痛一天',
		    illness: '一天前车祸，胸部受方向盘撞击',
		    history: '无特殊', diagnosis: '胸部外伤，多发肋骨骨折待排' });
		let page;

		await storescu(ph.dir);
		const [series] = await matchedSeries(id, ph.study, ph.series);
		const [[job]] = sql(`SELECT id FROM ai_jobs WHERE series_id = :'p1' AND reader = 'ct_rib_fracture'`,
		    { params: [series] });
		const state = await until('the rib fracture job to end', () => {
			const [[s]] = sql(`SELECT state FROM ai_jobs WHERE id = :'p1'`, { params: [job] });
			return ['done', 'failed', 'dead'].includes(s) ? s : null;
		}, 600000, 500);
		const [[err]] = sql(`SELECT error FROM ai_jobs WHERE id = :'p1'`, { params: [job] });
		assert.equal(state, 'done', err);
		console.log(`# job ${job} done ${((Date.now() - t0) / 1000).toFixed(1)} s into the test`);

		// The result page and its link.
		doc = await userSession(chrome.browser, BASE, 'jn_attending', PASSWORD);
		page = doc.page;
		assert.equal((await openReport(page, BASE, id)).status(), 200);
		const card = page.locator(`#ai-row li.ai-card.done[data-job="${job}"]`);
		await go(page, '/ai/result', () => card.locator('a.ai-open').click());
		assert.equal((await page.textContent('#open-cpr')).trim(), '肋骨拉直/展开');
		await go(page, '/ai/cpr', () => page.click('#open-cpr'));
		const cprUrl = new URL(page.url());
		assert.equal(cprUrl.searchParams.get('job'), String(job));
		assert.equal(await page.locator('#cpr-message').count(), 0);

		// The 24 ribs, right then left, and the rib list's order.
		const inf = await info(page);
		const names = inf.ribs.map((r) => r.zh);
		const want = [...Array(12).keys()].map((i) => `右${i + 1}`).concat([...Array(12).keys()].map((i) => `左${i + 1}`));
		assert.deepEqual(names, want);
		const listed = await page.locator('#rib-list a.rib').evaluateAll((as) => as.map((a) => a.firstChild.textContent.trim()));
		assert.deepEqual(listed, want);
		assert.equal(await page.locator('#ribs-l a.rib').count(), 12);
		// Each rib's length, by the reader's centre line: 10 to 40 cm.
		for (const r of inf.ribs)
			assert.ok(r.len > 60 && r.len < 400, `${r.zh} ${r.len} mm`);

		// Every fracture of the phantom listed on its own rib, at the
		// reader's distance from the head (距肋头) within 5 mm.
		const [[rid]] = sql(`SELECT id FROM ai_results WHERE job_id = :'p1'`, { params: [job] });
		const fromHead = Object.fromEntries(sql(`SELECT idx, (m->>'value')::float FROM ai_lesions,
		    jsonb_array_elements(measurements) m WHERE result_id = :'p1' AND m->>'name' = '距肋头'`,
		    { params: [rid] }).map(([i, v]) => [Number(i), Number(v)]));
		const rows = await page.locator('#frac-table tbody tr').evaluateAll((trs) => trs.map((t) => ({
		    idx: Number(t.dataset.idx), rib: Number(t.dataset.rib), loc: t.querySelector('td.loc').textContent.trim(),
		    ribZh: t.querySelector('td.rib').textContent.trim(), s: Number(t.querySelector('td.s').textContent) })));
		console.log(`# ${rows.map((r) => `${r.idx} ${r.loc} on ${r.ribZh} at ${r.s} mm`).join('; ')}`);
		for (const f of ph.fractures) {
			const r = rows.find((x) => x.loc === f.place);
			assert.ok(r, `${f.place} listed`);
			assert.equal(r.ribZh, f.rib, f.place);
			assert.equal(names[r.rib], f.rib);
			assert.ok(Math.abs(r.s - fromHead[r.idx]) <= 5, `${f.place}: ${r.s} mm against 距肋头 ${fromHead[r.idx]}`);
		}
		// A marker on the unfolded cage for every fracture.
		assert.deepEqual((await page.locator('#cage-marks g.mark').evaluateAll((gs) => gs.map((g) => Number(g.dataset.idx))))
		    .sort((a, b) => a - b), rows.map((r) => r.idx).sort((a, b) => a - b));

		// The first rib with a fracture is shown: 右3, its marker on it.
		let s = await shown(page);
		assert.equal(s.name, '右3');
		assert.equal(s.on, '右3');
		assert.equal(s.w, inf.ribs[2].w);
		assert.equal(s.h, inf.ribs[2].h);
		assert.deepEqual(s.marks, rows.filter((r) => r.ribZh === '右3').map((r) => r.idx));
		assert.equal((await page.textContent('#windows a.win.on')).trim(), '骨窗');
		await shot(page, 'r3');

		// The cut fractures: the cortex broken under the marker (in the
		// bone window the rib's brightest row well below its median).
		for (const zh of ['右6', '左7', '右3']) {
			const k = names.indexOf(zh);
			const p = await pixels(page, `/ai/cpr/rib?job=${job}&z=${k}&az=0&window=bone&fmt=png`);
			const cols = [...Array(p.w).keys()].map((c) => colmax(p, c, 8));
			const med = [...cols].sort((a, b) => a - b)[Math.floor(cols.length / 2)];
			for (const l of inf.lesions.filter((x) => x.rib === k)) {
				const r = rows.find((x) => x.idx === l.idx);
				if (!/无移位骨折|节段性骨折/.test(await page.locator(`#frac-table tr[data-idx="${l.idx}"] td.type`).textContent()))
					continue;
				const c0 = Math.max(0, Math.floor(l.x - 8)), c1 = Math.min(p.w - 1, Math.ceil(l.x + 8));
				const gap = Math.min(...cols.slice(c0, c1 + 1));
				console.log(`# ${zh} ${r.loc}: brightest ${gap} under the marker, median ${med}`);
				assert.ok(gap < 0.75 * med, `${zh} ${r.loc}: ${gap} against ${med}`);
			}
		}

		// ↓ and ↑ step through the ribs.
		await page.locator('#rib-stage').focus();
		await page.keyboard.press('ArrowDown');
		s = await shown(page);
		assert.equal(s.name, '右4');
		assert.match(s.src, /[?&]z=3(&|$)/);
		assert.deepEqual(s.marks, rows.filter((r) => r.ribZh === '右4').map((r) => r.idx));
		await page.keyboard.press('ArrowDown');
		s = await shown(page);
		assert.equal(s.name, '右5');
		assert.deepEqual(s.marks, rows.filter((r) => r.ribZh === '右5').map((r) => r.idx));
		assert.ok(s.marks.length >= 1);
		assert.equal(new URL(page.url()).searchParams.get('z'), '4');
		await page.keyboard.press('ArrowUp');
		await page.keyboard.press('ArrowUp');
		await page.keyboard.press('ArrowUp');
		s = await shown(page);
		assert.equal(s.name, '右2');
		assert.deepEqual(s.marks, []);

		// → turns by 10°, ← back; the slider to 90°.
		const a0 = await pixels(page, s.src);
		await page.keyboard.press('ArrowRight');
		s = await shown(page);
		assert.match(s.src, /[?&]az=10(&|$)/);
		assert.equal((await page.textContent('#angle-value')).trim(), '10°');
		await page.locator('#angle').fill('90');
		s = await shown(page);
		assert.match(s.src, /[?&]az=90(&|$)/);
		assert.equal((await page.textContent('#angle-value')).trim(), '90°');
		const a90 = await pixels(page, s.src);
		assert.equal(a90.w, a0.w);
		assert.notDeepEqual(a90.v, a0.v, 'turned by 90°, another image');
		assert.match(await page.getAttribute('#cage-img', 'src'), /[?&]az=90(&|$)/);
		for (let i = 0; i < 9; i++)
			await page.keyboard.press('ArrowLeft');
		s = await shown(page);
		assert.match(s.src, /[?&]az=0(&|$)/);
		assert.deepEqual((await pixels(page, s.src)).v, a0.v, 'turned back, the same image');
		await page.keyboard.press('ArrowLeft');
		assert.match((await shown(page)).src, /[?&]az=0(&|$)/, 'not below 0°');

		// The windows.
		await page.locator('#windows a.win', { hasText: '纵隔窗' }).click();
		s = await shown(page);
		assert.match(s.src, /[?&]window=mediastinum(&|$)/);
		assert.equal((await page.textContent('#windows a.win.on')).trim(), '纵隔窗');
		assert.notDeepEqual((await pixels(page, s.src)).v, a0.v);
		await page.locator('#windows a.win', { hasText: '骨窗' }).click();

		// The unfolded cage: 24 labels in 12 rows, right ribs on the
		// image's left; a click on 左9's row opens 左9.
		await pageUntil(page, 'the cage\'s image', () => document.getElementById('cage-img').complete &&
		    document.getElementById('cage-img').naturalWidth > 0);
		const cage = await page.evaluate(() => ({ w: document.getElementById('cage-img').naturalWidth,
		    h: document.getElementById('cage-img').naturalHeight,
		    labels: [...document.querySelectorAll('#cage-marks text.label')].map((t) => ({ zh: t.textContent,
		    x: Number(t.getAttribute('x')), y: Number(t.getAttribute('y')) })) }));
		assert.equal(cage.w, inf.cage.w);
		assert.equal(cage.h, inf.cage.h);
		assert.equal(cage.h, 12 * inf.cage.row_h);
		assert.deepEqual(cage.labels.map((l) => l.zh), want);
		for (const l of cage.labels) {
			const n = Number(l.zh.slice(1));
			assert.ok(Math.abs(l.y - (n - 0.5) * inf.cage.row_h) <= 1, `${l.zh} in row ${n}`);
			assert.ok(l.zh.startsWith('右') ? l.x < cage.w / 2 : l.x > cage.w / 2, `${l.zh} at x ${l.x}`);
		}
		const l9 = inf.lesions.find((l) => names[l.rib] === '左9');
		assert.ok(l9, 'a fracture on 左9');
		const box = await page.locator('#cage-img').boundingBox();
		await page.locator('#cage-img').click({ position: { x: l9.ux / inf.cage.w * box.width,
		    y: l9.uy / inf.cage.h * box.height } });
		s = await shown(page);
		assert.equal(s.name, '左9');
		assert.ok(s.marks.includes(l9.idx));
		await shot(page, 'l9');

		// The fracture table's rib link.
		const r5 = rows.find((r) => r.ribZh === '右5');
		await page.locator(`#frac-table tr[data-idx="${r5.idx}"] td.rib a`).click();
		assert.equal((await shown(page)).name, '右5');

		// Without the script the page is the same: a reload of the URL
		// the script kept shows 右5 at 0° in the bone window.
		await page.reload();
		s = await shown(page);
		assert.equal(s.name, '右5');
		assert.match(s.src, /[?&]az=0&window=bone/);
		assert.deepEqual(doc.errors, [], 'no script errors or CSP violations');

		// The viewer of the application links the series' rib result.
		await page.goto(`${BASE}/viewer?id=${id}`);
		const link = page.locator(`#zv-cpr a[data-series="${series}"]`);
		assert.match((await link.textContent()).trim(), /^肋骨拉直\/展开（序列 \d+）$/);
		await go(page, '/ai/cpr', () => link.click());
		assert.equal(new URL(page.url()).searchParams.get('job'), String(job));
		assert.equal((await shown(page)).name, '右3');

		// Other hospitals: 404 and no pixels, nothing audited.
		const urls = [`/ai/cpr?id=${id}&job=${job}`, `/ai/cpr/rib?job=${job}&z=0`, `/ai/cpr/cage?job=${job}&az=30`];
		// The images are audited as the viewer's (one row per series, user
		// and minute): the doctor's views are there, no outsider's.
		const audits = (who) => Number(sql(`SELECT count(*) FROM audit_log WHERE action = 'image_viewed'
		    AND object_id = :'p1' AND actor_login = :'p2'`, { params: [series, who] })[0][0]);
		assert.ok(audits('jn_attending') > 0, 'the doctor\'s views audited');
		for (const who of ['yb_attending', 'gd_chief', 'qx_doctor']) {
			const c = new Client();
			assert.equal((await c.login(who)).status, 303, `login ${who}`);
			for (const u of urls) {
				const r = await c.get(u);
				assert.equal(r.status, 404, `${who} ${u}`);
				assert.ok(!r.text.includes('周明华') && !r.headers.get('content-type').startsWith('image/'), `${who} ${u}`);
			}
		}
		for (const who of ['yb_attending', 'gd_chief', 'qx_doctor'])
			assert.equal(audits(who), 0, `no image was viewed by ${who}`);
		// Bad parameters answer 400, a rib past the last 404.
		const own = new Client();
		assert.equal((await own.login('jn_attending')).status, 303);
		const img = await own.get(urls[1]);
		assert.equal(img.status, 200);
		assert.equal(img.headers.get('content-type'), 'image/jpeg');
		for (const q of ['az=181', 'az=-1', 'az=abc', 'window=bogus', 'wc=40&ww=0'])
			assert.equal((await own.get(`/ai/cpr/rib?job=${job}&z=0&${q}`)).status, 400, q);
		assert.equal((await own.get(`/ai/cpr/rib?job=${job}&z=24`)).status, 404);

		// An older result, without centre lines: a message, no images.
		sql(`UPDATE ai_results SET overlays = '{}', updated_at = now() WHERE id = :'p1'`, { params: [rid] });
		await page.goto(`${BASE}/ai/cpr?id=${id}&job=${job}`);
		assert.match((await page.textContent('#cpr-message')).trim(), /未保存肋骨中心线/);
		assert.equal(await page.locator('#cpr').count(), 0);
		const gone = await own.get(urls[1]);
		assert.equal(gone.status, 404);
		assert.match(gone.text, /未保存肋骨中心线/);
		await shot(page, 'no-lines');
		console.log(`# the story took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
	} finally {
		if (doc !== null)
			await doc.context.close();
		fs.rmSync(ph.dir, { recursive: true, force: true });
	}
});
