// tests/browser/masks.test.mjs - 显示AI标注: the regions of the lung nodule
// reader in the viewer's slices, MPR and 三维, end to end through the
// stack's own processes (zhiying-scp, zhiying-inferd, zhiying-web behind
// nginx) and Debian's chromium (headless):
//
//   1. 龙湾镇卫生院 (lw_apply) applies for 上级诊断 with the patient number
//      of a chest phantom to come: zhiying-phantom with the lungs from 10
//      to 140 mm (apices and bases in the scan) and one solid nodule of
//      16 mm in the right lung at (-90, -20, 60) mm.
//   2. The collector sends it by storescu; the CT肺结节智能诊断 job is done
//      and its result carries a label volume (ai_result_masks) on the
//      series' grid: five lobes and 结节1, the nodule, whose voxels lie
//      about the phantom's nodule.
//   3. The doctor (jn_attending) opens the viewer: 显示AI标注 is offered,
//      turned on it shows the legend; the axial slice through the nodule
//      is drawn in the nodule's colour where the nodule is and not in
//      the other lung; MPR by a click on the nodule: the coronal and
//      sagittal images show the colour there too; 三维: the rendering
//      shows the colour where the nodule projects, from the front and
//      turned by the keys, and not on the other side; turned off, no
//      colour.
//   4. Users of other hospitals get 404 for the masks, in every address;
//      a result of another series, or no result, 404 for the owner too.
//   5. The job run again: its result's masks are replaced, not added.
//
//   ZY_URL=... ZY_STATE=... ZY_PGPORT=... ZY_SCP_PORT=... ZY_OUT=tests/out \
//       node --test --test-reporter=spec tests/browser/masks.test.mjs
//
// The stack comes from tests/lib.sh stack_start; without it the test is
// skipped.  Screenshots go to $ZY_OUT/browser/masks-*.png.

import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromiumForFile, go, userSession } from './chromium.mjs';
import { applyChestCt } from './ctapply.mjs';
import { Client, sql } from '../integration/helpers.mjs';

const run = promisify(execFile);
const BASE = process.env.ZY_URL ? process.env.ZY_URL.replace(/\/+$/, '') : '';
const OUT = path.join(process.env.ZY_OUT || 'tests/out', 'browser');
const PASSWORD = 'Zhiying2026';
const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const PHANTOM = `${ROOT}/src/tools/zhiying-phantom`;
const STATE = process.env.ZY_STATE;
const SCP_PORT = process.env.ZY_SCP_PORT;

const skip = BASE === '' || !STATE || !SCP_PORT ?
    'ZY_URL, ZY_STATE or ZY_SCP_PORT is not set: start a stack first (tests/lib.sh stack_start)' : false;

const chrome = chromiumForFile(skip, OUT);

// The phantom (phantom_standard()): 384 x 384 pixels of 0.9 mm centred
// on x = y = 0, slices of 2.5 mm at z = 1.25 + 2.5 k.
const PX = 0.9, X0 = -172.35, DZ = 2.5, Z0 = 1.25, N = 384, NZ = 60;
const NOD = { x: -90, y: -20, z: 60, d: 16 };
const vox = (p) => ({ i: (p.x - X0) / PX, j: (p.y - X0) / PX, k: (p.z - Z0) / DZ });

async function until(what, cond, ms = 60000, step = 200) {
	const t0 = Date.now();
	for (;;) {
		const v = await cond();
		if (v)
			return v;
		if (Date.now() - t0 > ms)
			assert.fail(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, step));
	}
}

async function shot(page, name) {
	await page.screenshot({ path: path.join(OUT, `masks-${name}.png`) });
}

const view = (page, plane) => page.locator(`.zv-view[data-plane="${plane}"]`);

// A colour well apart from grey and from the lobes' cool hues: the
// nodule's strong red (masks.c).
const strong = (c) => c[0] > 110 && c[0] > c[1] + 60 && c[0] > c[2] + 60;

// The mean colour of the 5 x 5 canvas pixels about image point (x, y)
// of a plane's view (the fit the viewer draws with: scaled to fit,
// pixels to scale, centred, no pan or zoom).
async function colourAt(page, plane, x, y, dims) {
	return page.evaluate(([plane, x, y, dims]) => {
		const c = document.querySelector(`.zv-view[data-plane="${plane}"] canvas`);
		const base = Math.min(c.width / (dims.w * dims.sx), c.height / (dims.h * dims.sy));
		const kx = base * dims.sx, ky = base * dims.sy;
		const cx = Math.round((c.width - dims.w * kx) / 2 + x * kx);
		const cy = Math.round((c.height - dims.h * ky) / 2 + y * ky);
		const d = c.getContext('2d').getImageData(cx - 2, cy - 2, 5, 5).data;
		const m = [0, 0, 0];
		for (let i = 0; i < 25; i++)
			for (let k = 0; k < 3; k++)
				m[k] += d[i * 4 + k] / 25;
		return m.map(Math.round);
	}, [plane, x, y, dims]);
}

// The screen point of an image point of a view (as colourAt, in CSS
// pixels), for a click.
async function screenOf(page, plane, x, y, dims) {
	const box = await view(page, plane).locator('canvas').boundingBox();
	const base = Math.min(box.width / (dims.w * dims.sx), box.height / (dims.h * dims.sy));
	const kx = base * dims.sx, ky = base * dims.sy;
	return [Math.round(box.x + (box.width - dims.w * kx) / 2 + x * kx),
	    Math.round(box.y + (box.height - dims.h * ky) / 2 + y * ky)];
}

// Until a plane's view shows image z from an address with (or without)
// the masks of result rid, lossless.
async function shownWith(page, plane, z, rid) {
	await until(`${plane} image ${z} ${rid ? 'with' : 'without'} masks`, async () => {
		const v = view(page, plane);
		const src = (await v.getAttribute('data-src')) || '';
		return await v.getAttribute('data-shown') === String(z) &&
		    await v.getAttribute('data-lossless') === '1' &&
		    src.includes('fmt=png') && (rid ? src.includes(`&masks=${rid}`) : !src.includes('masks='));
	});
}

// 三维: until the full image of the present view, with or without masks.
async function full3(page, rid) {
	await until('the full 3-D image', async () => page.evaluate((rid) => {
		const v = document.getElementById('zv-v3d'), a = (k) => v.getAttribute(`data-${k}`);
		return a('full') === '1' && a('shown') === a('want') && a('shown').includes(
		    `&render=${a('render')}&az=${a('az')}&el=${a('el')}&zoom=${a('zoom')}&`) &&
		    (rid ? a('shown').includes(`&masks=${rid}`) : !a('shown').includes('masks='));
	}, rid));
}

// Where the camera of view.h projects index point p of the series on
// the 3-D canvas, in canvas pixels, and the colour there (5 x 5 mean).
async function colour3(page, S, p) {
	return page.evaluate(([S, p]) => {
		const v = document.getElementById('zv-v3d'), c = v.querySelector('canvas');
		const az = Number(v.getAttribute('data-az')) * Math.PI / 180;
		const el = Number(v.getAttribute('data-el')) * Math.PI / 180;
		const zoom = Number(v.getAttribute('data-zoom'));
		const size = Number(v.getAttribute('data-natural').split('x')[0]);
		const ext = [(S.nx - 1) * S.dx, (S.ny - 1) * S.dy, (S.nz - 1) * S.dz];
		const diag = Math.hypot(...ext), pix = diag / (size * zoom), zs = S.flip ? 1 : -1;
		const q = [p.i * S.dx - ext[0] / 2, p.j * S.dy - ext[1] / 2, zs * (p.k * S.dz - ext[2] / 2)];
		const r = [Math.cos(az), -Math.sin(az), 0];
		const u = [Math.sin(az) * Math.sin(el), Math.cos(az) * Math.sin(el), Math.cos(el)];
		const px = (q[0] * r[0] + q[1] * r[1] + q[2] * r[2]) / pix + size / 2;
		const py = size / 2 - (q[0] * u[0] + q[1] * u[1] + q[2] * u[2]) / pix;
		const s = Math.min(c.width, c.height);
		const cx = Math.round((c.width - s) / 2 + px * s / size);
		const cy = Math.round((c.height - s) / 2 + py * s / size);
		const d = c.getContext('2d').getImageData(cx - 2, cy - 2, 5, 5).data;
		const m = [0, 0, 0];
		for (let i = 0; i < 25; i++)
			for (let k = 0; k < 3; k++)
				m[k] += d[i * 4 + k] / 25;
		return m.map(Math.round);
	}, [S, p]);
}

// How many canvas pixels of the 3-D view are in a strong colour.
async function strong3(page) {
	return page.evaluate(() => {
		const c = document.querySelector('#zv-v3d canvas');
		const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
		let n = 0;
		for (let i = 0; i < d.length; i += 4)
			if (d[i] > 110 && d[i] > d[i + 1] + 60 && d[i] > d[i + 2] + 60)
				n++;
		return n;
	});
}

// The name written over the 3-D view for a region (viewer.js labels3())
// and how far, in CSS pixels, its centre lies from where index point p
// projects; null when no such name is shown.
async function label3(page, S, p, name) {
	return page.evaluate(([S, p, name]) => {
		const v = document.getElementById('zv-v3d');
		const el = [...v.querySelectorAll('.zv-l3')].find((e) => e.textContent === name);
		if (!el)
			return null;
		const az = Number(v.getAttribute('data-az')) * Math.PI / 180;
		const elv = Number(v.getAttribute('data-el')) * Math.PI / 180;
		const zoom = Number(v.getAttribute('data-zoom'));
		const ext = [(S.nx - 1) * S.dx, (S.ny - 1) * S.dy, (S.nz - 1) * S.dz];
		const diag = Math.hypot(...ext), zs = S.flip ? 1 : -1;
		const q = [p.i * S.dx - ext[0] / 2, p.j * S.dy - ext[1] / 2, zs * (p.k * S.dz - ext[2] / 2)];
		const r = [Math.cos(az), -Math.sin(az), 0];
		const u = [Math.sin(az) * Math.sin(elv), Math.cos(az) * Math.sin(elv), Math.cos(elv)];
		const fx = 0.5 + (q[0] * r[0] + q[1] * r[1] + q[2] * r[2]) * zoom / diag;
		const fy = 0.5 - (q[0] * u[0] + q[1] * u[1] + q[2] * u[2]) * zoom / diag;
		const vr = v.getBoundingClientRect(), side = Math.min(vr.width, vr.height);
		const x = vr.left + (vr.width - side) / 2 + fx * side;
		const y = vr.top + (vr.height - side) / 2 + fy * side;
		const b = el.getBoundingClientRect();
		return Math.hypot(b.left + b.width / 2 - x, b.top + b.height / 2 - y);
	}, [S, p, name]);
}

test('the nodule reader\'s regions: stored with the result, shown in the slices, MPR and 三维, '
    + 'kept from other hospitals', { skip, timeout: 900000 }, async () => {
	const t0 = Date.now();
	const pid = `MASK-${process.pid}-${Date.now()}`;
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zhiying-masks-'));
	const { stdout } = await run(PHANTOM, ['-t', String(DZ), '-n', '10', '-x', '-L', '10:140',
	    '-D', `${NOD.x}:${NOD.y}:${NOD.z}:${NOD.d}:60`, '-P', pid, '-N', 'ZHAO^MING', '-o', dir]);
	assert.equal(Number(stdout.match(/^files (\d+) /m)[1]), NZ);
	const studyUid = stdout.match(/^study (\S+)$/m)[1];
	let doc = null;
	try {
		// 1. 申请.
		const { id } = await applyChestCt(chrome.browser, BASE, { name: '赵明', sex: '男', age: '61岁', no: pid,
		    phone: '13912345678', complaint: '体检发现肺部结节',
		    illness: '无不适',
		    history: '吸烟30年', diagnosis: '肺结节待查' });
		let page;

		// 2. Sent, matched, read; the result's masks stored.
		await run('storescu', ['-aet', 'LW_COLLECTOR', '-aec', 'ZHIYING', '+sd', '+r', '+sp', '*.dcm',
		    '127.0.0.1', SCP_PORT, dir], { env: { ...process.env, TCP_NODELAY: '1' }, maxBuffer: 1 << 24 });
		const [[series]] = await until('the study to be matched and linked', () => {
			const r = sql(`SELECT se.id FROM application_studies x
			    JOIN studies st ON st.id = x.study_id JOIN series se ON se.study_id = st.id
			    WHERE x.application_id = :'p1' AND st.study_uid = :'p2' AND se.matched_at IS NOT NULL`,
			    { params: [id, studyUid] });
			return r.length ? r : null;
		}, 60000);
		const [[job]] = sql(`SELECT id FROM ai_jobs WHERE series_id = :'p1' AND reader = 'ct_lung_nodule'`,
		    { params: [series] });
		const state = await until('the lung nodule job to end', () => {
			const [[s]] = sql(`SELECT state FROM ai_jobs WHERE id = :'p1'`, { params: [job] });
			return ['done', 'failed', 'dead'].includes(s) ? s : null;
		}, 600000, 500);
		const [[err]] = sql(`SELECT error FROM ai_jobs WHERE id = :'p1'`, { params: [job] });
		assert.equal(state, 'done', err);
		console.log(`# job ${job} done ${((Date.now() - t0) / 1000).toFixed(1)} s into the test`);
		const [[rid, nx, ny, nz, raw, zbytes, legendText]] = sql(`SELECT m.result_id, m.nx, m.ny, m.nz,
		    m.raw_bytes, octet_length(m.data), m.legend::text FROM ai_result_masks m
		    JOIN ai_results r ON r.id = m.result_id WHERE r.job_id = :'p1'`, { params: [job] });
		assert.deepEqual([nx, ny, nz, raw].map(Number), [N, N, NZ, N * N * NZ]);
		console.log(`# masks of result ${rid}: ${zbytes} bytes deflated from ${raw}`);
		assert.ok(Number(zbytes) < Number(raw) / 20, `${zbytes} bytes`);
		const legend = JSON.parse(legendText);
		assert.deepEqual(legend.filter((e) => e.kind === 'lobe').map((e) => [e.label, e.name]),
		    [[1, '右肺上叶'], [2, '右肺中叶'], [3, '右肺下叶'], [4, '左肺上叶'], [5, '左肺下叶']]);
		// The nodule: the lesion whose box holds the phantom's nodule,
		// its 序号 the label's name.
		const c = vox(NOD);
		const lesions = sql(`SELECT l.idx, l.slice, l.x0, l.y0, l.x1, l.y1 FROM ai_lesions l
		    WHERE l.result_id = :'p1' ORDER BY l.idx`, { params: [rid] }).map((r) => r.map(Number));
		const hit = lesions.find(([, k, x0, y0, x1, y1]) => x0 <= c.i && c.i <= x1 && y0 <= c.j && c.j <= y1 &&
		    Math.abs(k - c.k) <= NOD.d / 2 / DZ);
		assert.ok(hit, `the nodule among ${JSON.stringify(lesions)}`);
		const entry = legend.find((e) => e.name === `结节${hit[0]}`);
		assert.ok(entry && entry.kind === 'nodule' && entry.label === 9 + hit[0], legendText);
		assert.equal(legend.filter((e) => e.kind === 'nodule').length, lesions.length);

		// 3. The doctor's viewer.
		doc = await userSession(chrome.browser, BASE, 'jn_attending', PASSWORD);
		page = doc.page;
		await page.setViewportSize({ width: 1366, height: 900 });
		await page.goto(`${BASE}/viewer?id=${id}&series=${series}`);
		assert.equal(await page.getAttribute('#zv', 'data-series'), String(series));
		assert.equal(await page.isVisible('#zv-masks-on'), true);
		assert.equal((await page.textContent('#zv-masks-on')).trim(), '显示AI标注');
		assert.equal(await page.isHidden('#zv-legend'), true);
		// To the nodule's slice by the slider, then the masks on.
		const k = Math.round(c.k);
		await page.locator('#zv-slider').fill(String(k + 1));
		await page.click('#zv-masks-on');
		assert.equal(await page.getAttribute('#zv-masks-on', 'aria-pressed'), 'true');
		assert.equal(await page.getAttribute('#zv', 'data-masks'), String(rid));
		const items = await page.locator('#zv-legend li').evaluateAll((li) => li.map((e) =>
		    [e.textContent.trim(), e.getAttribute('data-colour')]));
		assert.deepEqual(items.find(([n]) => n === entry.name), [entry.name, entry.colour]);
		assert.ok(items.some(([n]) => n === '右肺上叶'));
		await shownWith(page, 'axial', k, rid);
		await shot(page, 'axial');
		const AX = { w: N, h: N, sx: PX, sy: PX };
		const inNod = await colourAt(page, 'axial', c.i + 0.5, c.j + 0.5, AX);
		assert.ok(strong(inNod), `the nodule is drawn in its colour: ${inNod}`);
		// The same place in the left lung: no such colour.
		const other = await colourAt(page, 'axial', vox({ x: -NOD.x, y: NOD.y, z: NOD.z }).i + 0.5, c.j + 0.5, AX);
		assert.ok(!strong(other), `the left lung is not: ${other}`);

		// MPR: a click on the nodule with 定位 puts the planes there.
		await page.click('#zv-mpr');
		await shownWith(page, 'axial', k, rid);
		// The centre of the pixel the nodule's centre lies in: a click
		// there stays in it despite the rounding to screen pixels.
		const pi = Math.floor(c.i), pj = Math.floor(c.j);
		const [sx, sy] = await screenOf(page, 'axial', pi + 0.5, pj + 0.5, AX);
		await page.mouse.click(sx, sy);
		const S = await page.evaluate(() => {
			const info = JSON.parse(document.getElementById('zv').getAttribute('data-info'));
			return info.series.find((s) => String(s.id) === document.getElementById('zv').getAttribute('data-series'));
		});
		const row = S.flip ? NZ - 1 - k : k;
		await shownWith(page, 'coronal', pj, rid);
		await shownWith(page, 'sagittal', pi, rid);
		await shot(page, 'mpr');
		// Beside the cross's lines (4 pixels, 3.6 mm, and a slice,
		// 2.5 mm, from the centre: inside the nodule of 8 mm radius).
		const cor = await colourAt(page, 'coronal', pi + 4.5, row + 1.5, { w: N, h: NZ, sx: PX, sy: DZ });
		assert.ok(strong(cor), `coronal: ${cor}`);
		const sag = await colourAt(page, 'sagittal', pj + 4.5, row + 1.5, { w: N, h: NZ, sx: PX, sy: DZ });
		assert.ok(strong(sag), `sagittal: ${sag}`);
		const corOther = await colourAt(page, 'coronal', N - pi - 4.5, row + 1.5, { w: N, h: NZ, sx: PX, sy: DZ });
		assert.ok(!strong(corOther), `coronal, the left lung: ${corOther}`);

		// 三维: the nodule's colour where it projects, from the front and
		// turned; rotatable and zoomable as before.
		await page.click('#zv-3d');
		await full3(page, rid);
		await shot(page, '3d-front');
		const nodP = { i: c.i, j: c.j, k: c.k };
		const f0 = await colour3(page, S, nodP);
		assert.ok(strong(f0), `三维 from the front: ${f0}`);
		// Its name written where it lies (the centre of its voxels).
		const d0 = await label3(page, S, nodP, '结节1');
		assert.ok(d0 !== null && d0 < 6, `三维: 结节1 named ${d0} px from the nodule`);
		assert.ok(await strong3(page) > 50);
		// Turned by the keys to 45°, seen from the front and the
		// patient's right, where the nodule lies, and tilted 15° from
		// above.
		for (let i = 0; i < 3; i++)
			await page.keyboard.press('ArrowLeft');
		await page.keyboard.press('ArrowUp');
		await full3(page, rid);
		assert.equal(await page.getAttribute('#zv-v3d', 'data-az'), '45');
		assert.equal(await page.getAttribute('#zv-v3d', 'data-el'), '-15');
		const f1 = await colour3(page, S, nodP);
		assert.ok(strong(f1), `三维 turned to 45°: ${f1}`);
		const d1 = await label3(page, S, nodP, '结节1');
		assert.ok(d1 !== null && d1 < 6, `三维 turned: 结节1 named ${d1} px from the nodule`);
		await page.keyboard.press('+');
		await full3(page, rid);
		assert.equal(await page.getAttribute('#zv-v3d', 'data-zoom'), '1.25');
		const f2 = await colour3(page, S, nodP);
		assert.ok(strong(f2), `三维 zoomed: ${f2}`);
		await shot(page, '3d-turned');
		// The masks off by the key A: no strong colour left.
		await page.keyboard.press('a');
		assert.equal(await page.getAttribute('#zv-masks-on', 'aria-pressed'), 'false');
		await full3(page, null);
		assert.equal(await strong3(page), 0);
		assert.equal(await page.locator('#zv-v3d .zv-l3').count(), 0);
		assert.equal(await page.isHidden('#zv-legend'), true);

		// 4. Other hospitals: 404 for every address with the masks; the
		// owner: 404 for no such result and for another series'.
		const urls = [`/viewer/image?series=${series}&plane=axial&z=${k}&masks=${rid}`,
		    `/viewer/image?series=${series}&plane=coronal&z=100&masks=${rid}&fmt=png`,
		    `/viewer/render?series=${series}&render=bone&az=0&el=0&zoom=1&size=128&masks=${rid}`];
		for (const who of ['yb_attending', 'gd_chief']) {
			const cl = new Client();
			assert.equal((await cl.login(who)).status, 303, `login ${who}`);
			for (const u of urls) {
				const r = await cl.get(u);
				assert.equal(r.status, 404, `${who} ${u}`);
				assert.ok(!r.headers.get('content-type').startsWith('image/'), `${who} ${u}`);
			}
		}
		const own = new Client();
		assert.equal((await own.login('jn_attending')).status, 303);
		for (const u of urls) {
			const r = await own.get(u);
			assert.equal(r.status, 200, u);
			assert.equal(r.headers.get('content-type'), u.includes('png') ? 'image/png' : 'image/jpeg', u);
		}
		// A result of another series (the stack may hold none yet:
		// then only an id of no result).
		const others = sql(`SELECT max(id) FROM ai_results WHERE series_id <> :'p1' HAVING count(*) > 0`,
		    { params: [series] }).map((r) => r[0]);
		for (const m of [`${Number(rid) + 1000000}`, ...others]) {
			const r = await own.get(`/viewer/image?series=${series}&plane=axial&z=${k}&masks=${m}`);
			assert.equal(r.status, 404, m);
			assert.match(r.text, /AI标注不存在或与该序列不符/);
		}
		const bad = await own.get(`/viewer/render?series=${series}&masks=x1`);
		assert.equal(bad.status, 400);

		// 5. The job run again: the result is written again, its
		// masks replaced (one row, written anew), still shown.
		const [[w0]] = sql(`SELECT written_at FROM ai_result_masks WHERE result_id = :'p1'`, { params: [rid] });
		sql(`BEGIN; UPDATE ai_jobs SET state = 'queued', attempts = 0, finished_at = NULL WHERE id = :'p1';
		    SELECT pg_notify('ai_jobs', 'test'); COMMIT;`, { params: [job] });
		await until('the job to be done again', () => {
			const r = sql(`SELECT j.state, m.written_at FROM ai_jobs j JOIN ai_results r ON r.job_id = j.id
			    JOIN ai_result_masks m ON m.result_id = r.id WHERE j.id = :'p1'`, { params: [job] });
			return r.length === 1 && r[0][0] === 'done' && r[0][1] !== w0;
		}, 600000, 500);
		assert.deepEqual(sql(`SELECT count(*), min(m.result_id) FROM ai_result_masks m
		    JOIN ai_results r ON r.id = m.result_id WHERE r.series_id = :'p1'
		    AND r.reader = 'ct_lung_nodule'`, { params: [series] }), [['1', String(rid)]]);
		const again = await own.get(urls[0]);
		assert.equal(again.status, 200);
	} finally {
		if (doc) await doc.context.close();
		fs.rmSync(dir, { recursive: true, force: true });
	}
});
