// tests/browser/viewer.test.mjs - 查看影像图片, the image viewer, in Debian's
// chromium (headless) with playwright-core, as a doctor uses it:
//
//   A chest CT phantom (zhiying-phantom: 384 x 384 pixels of 0.9 mm, 60
//   slices of 2.5 mm) with two dense rods (800 HU, 5 mm radius) 80 mm
//   apart at z 60-80 mm, and a chest film, both of one patient, go from
//   龙湾镇卫生院's collector to the stack's receiver, which links them to
//   an application for 上级诊断 at 江南县人民医院.
//
//   1. Reading: the doctor opens the viewer from the application page
//      (查看影像图片), sees the first image, the patient overlay and the
//      orientation labels, pages with the wheel, the keys and the slider,
//      changes the window (presets and a drag), zooms, measures the
//      rods' distance with the ruler (80 mm within one pixel) and their
//      CT value (a point and a circle), then turns to MPR: a click on a
//      rod in the axial view moves the coronal and sagittal views there,
//      and the sagittal view shows the rod at its height.
//   2. Keyboard only: the same reading without the mouse.
//   3. The film: shown at its full resolution, inverted.
//   4. Over an emulated 10 Mbit/s link with 30 ms latency (CDP
//      Network.emulateNetworkConditions): the first image in under 1 s,
//      under 2 MB before it, and paging and the cine at 10 and more
//      images a second (figures printed).
//   5. 写报告: the images beside the report, both above the fold at
//      1366x768; paging the images while the report is typed.
//   6. Over plain HTTP: a doctor of another alliance and an applicant of
//      another hospital get 404 from every viewer address and no pixels.
//   7. 三维重建: the CT rendered by the server turns by a drag (small
//      images while dragging, the full one after) and by the arrow keys
//      (the picture changes, and is the same again when turned back),
//      zooms by the wheel and + (the body's width on the screen grows by
//      the zoom), changes preset (骨骼, 肺, MIP), fits 1366x768; then
//      the same by the keyboard alone; bad parameters answer 400.
//
//   ZY_URL=... ZY_STATE=... ZY_PGPORT=... ZY_SCP_PORT=... ZY_OUT=tests/out \
//       node --test --test-reporter=spec tests/browser/viewer.test.mjs
//
// The stack comes from tests/lib.sh stack_start; without it the tests
// are skipped.  Screenshots go to $ZY_OUT/browser/viewer-*.png.

import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
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
const TAG = `VIEWER${Date.now()}`;

const skip = BASE === '' || !STATE || !SCP_PORT ?
    'ZY_URL, ZY_STATE or ZY_SCP_PORT is not set: start a stack first (tests/lib.sh stack_start)' : false;

const chrome = chromiumForFile(skip, OUT);

// The phantom's geometry (zhiying-phantom, phantom_standard()): pixel
// centres at -172.35 + 0.9 i mm, slices at z = 1.25 + 2.5 k mm.
const PX = 0.9, X0 = -172.35, DZ = 2.5, Z0 = 1.25, N = 384, NZ = 60;
const RODS = [[-40, 10], [40, 10]];	// x, y mm; z 60-80 mm
const ROD_HU = 800, ROD_Z = [60, 80];
const K_ROD = Math.round((70 - Z0) / DZ);	// slice 27, z 68.75 mm
// A point in mm as image coordinates (the centre of pixel i is i + 0.5),
// and the centre of the pixel it lies in: what a click aims at, so that
// the click's rounding to whole screen pixels stays in that pixel.
const imgX = (mm) => (mm - X0) / PX + 0.5;
const pixX = (mm) => Math.floor(imgX(mm)) + 0.5;
const NOISE = 15;	// HU, as a CT's (and its JPEG's) texture

// ---------------------------------------------------------------------
// The studies

let fixture = null;

async function until(what, cond, ms = 60000, step = 100) {
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

function storescu(dir) {
	return run('storescu', ['-aet', 'LW_COLLECTOR', '-aec', 'ZHIYING', '+sd', '+r', '+sp', '*.dcm',
	    '127.0.0.1', SCP_PORT, dir], { env: { ...process.env, TCP_NODELAY: '1' }, maxBuffer: 1 << 24 });
}

// The application, its CT and its film, made once for the file.
async function studies() {
	if (fixture !== null)
		return fixture;
	const pid = `${TAG}-1`;
	const ctDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zhiying-viewer-ct-'));
	const filmDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zhiying-viewer-dr-'));
	const rods = RODS.flatMap(([x, y]) => ['-p', `FREE:${x}:${y}:${ROD_Z[0]}:${ROD_Z[1] - ROD_Z[0]}:5:${ROD_HU}`]);
	await run(PHANTOM, ['-x', '-t', String(DZ), '-k', '120', '-n', String(NOISE), '-P', pid, '-N', 'HUANG^LIQUN', ...rods,
	    '-o', ctDir]);
	await run(PHANTOM, ['-F', 'chest', '-P', pid, '-N', 'HUANG^LIQUN', '-o', filmDir]);
	const [[id]] = sql(`INSERT INTO applications (diag_no, mode, applicant_id,
	    applicant_institution_id, alliance_id, target_institution_id, patient_name, patient_sex,
	    patient_age, patient_no, chief_complaint, present_illness, history, clinical_diagnosis,
	    exam_type, body_part, exam_date)
	  SELECT 'ZY' || to_char(now(), 'YYYYMMDD') || lpad(nextval('diag_no_seq')::text, 6, '0'),
	    'superior', u.id, u.institution_id, al.id, t.id, '黄丽群', 'F', '57岁', :'p1',
	    '咳嗽两周', '两周前受凉后咳嗽，少痰', '无', '肺部感染待查',
	    'CT', '胸部', current_date
	  FROM users u, alliances al, institutions t
	  WHERE u.login = 'lw_apply' AND al.code = 'JN-YGT' AND t.code = 'JN-PH'
	  RETURNING id`, { params: [pid] });
	await storescu(ctDir);
	await storescu(filmDir);
	fs.rmSync(ctDir, { recursive: true, force: true });
	fs.rmSync(filmDir, { recursive: true, force: true });
	const series = () => sql(`SELECT se.id, se.modality, se.instance_count FROM application_studies x
	    JOIN series se ON se.study_id = x.study_id WHERE x.application_id = :'p1' ORDER BY se.id`,
	{ params: [id] });
	const rows = await until('both studies linked, every image indexed', () => {
		const r = series();
		return r.length === 2 && r.some((s) => s[1] === 'CT' && Number(s[2]) === NZ) &&
		    r.some((s) => s[1] !== 'CT') ? r : null;
	});
	fixture = {
		id: Number(id),
		ct: Number(rows.find((s) => s[1] === 'CT')[0]),
		film: Number(rows.find((s) => s[1] !== 'CT')[0]),
	};
	return fixture;
}

// ---------------------------------------------------------------------
// The browser

async function session(login, viewport = { width: 1366, height: 768 }) {
	const s = await userSession(chrome.browser, BASE, login, PASSWORD);
	await s.page.setViewportSize(viewport);
	return s;
}

async function shot(page, name) {
	await page.screenshot({ path: path.join(OUT, `viewer-${name}.png`) });
}

const view = (page, plane) => page.locator(`.zv-view[data-plane="${plane}"]`);

// Until the view shows image z (the JPEG or the lossless one).
async function shown(page, plane, z, what = '') {
	let now = null;
	try {
		await until(`${plane} image ${z} ${what}`, async () =>
			(now = await view(page, plane).getAttribute('data-shown')) === String(z));
	} catch (e) {
		throw new Error(`${e.message} (it shows ${now})`);
	}
}

async function windowOf(page) {
	return view(page, 'axial').getAttribute('data-window');
}

// The screen point of an image point of a view, from the canvas box and
// the fit the viewer draws with (no pan: scaled to fit, pixels to scale,
// centred, times the zoom), to the nearest whole screen pixel.
async function screenOf(page, plane, x, y, dims, zoom = 1) {
	const box = await view(page, plane).locator('canvas').boundingBox();
	const base = Math.min(box.width / (dims.w * dims.sx), box.height / (dims.h * dims.sy));
	const kx = base * dims.sx * zoom, ky = base * dims.sy * zoom;
	// Whole screen pixels: the browser's mouse events carry no fractions.
	return [Math.round(box.x + (box.width - dims.w * kx) / 2 + x * kx),
	    Math.round(box.y + (box.height - dims.h * ky) / 2 + y * ky)];
}
const AXIAL = { w: N, h: N, sx: PX, sy: PX };

async function overlayText(page, plane, cls) {
	return (await view(page, plane).locator(`.zv-ov .${cls}`).textContent()).trim();
}

// 三维重建: until the full image of the present view (the preset,
// azimuth, elevation and zoom the view says it has) is shown.
const v3d = (page) => page.locator('#zv-v3d');
async function full3(page, what) {
	await until(`the full 3-D image ${what}`, async () => page.evaluate(() => {
		const v = document.getElementById('zv-v3d'), a = (k) => v.getAttribute(`data-${k}`);
		return a('full') === '1' && a('shown') === a('want') && a('shown').includes(
		    `&render=${a('render')}&az=${a('az')}&el=${a('el')}&zoom=${a('zoom')}&`);
	}));
	return v3d(page).getAttribute('data-shown');
}
// The canvas as shown (a screenshot of the 3-D view's canvas).
async function picture3(page) {
	return v3d(page).locator('canvas').screenshot();
}
// The width, in screen pixels, of what is brighter than grey level 40
// on the canvas: the rendered body's horizontal extent.
async function extent3(page) {
	return page.evaluate(() => {
		const c = document.querySelector('#zv-v3d canvas');
		const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
		let lo = Infinity, hi = -Infinity;
		for (let y = 0; y < c.height; y += 2)
			for (let x = 0; x < c.width; x++)
				if (d[(y * c.width + x) * 4] > 40) {
					lo = Math.min(lo, x);
					hi = Math.max(hi, x);
				}
		return hi - lo + 1;
	});
}
async function overlay3(page, cls) {
	return (await v3d(page).locator(`.zv-ov .${cls}`).textContent()).trim();
}

// ---------------------------------------------------------------------

test('a doctor reads the CT: pages, windows, zooms, measures and turns to MPR', { skip, timeout: 300000 }, async () => {
	const f = await studies();
	const doc = await session('jn_attending');
	try {
		const page = doc.page;
		await page.goto(`${BASE}/application?id=${f.id}`);
		await go(page, '/viewer', () => page.click('a#view-images'));
		// The CT (the series with the most images) opens in the lung
		// window at its middle slice.
		await shown(page, 'axial', NZ / 2);
		assert.equal(await page.getAttribute('#zv', 'data-series'), String(f.ct));
		assert.equal(await windowOf(page), '-600/1500');
		assert.match(await overlayText(page, 'axial', 'tl'), /黄丽群\s+女\s+57岁/);
		assert.match(await overlayText(page, 'axial', 'bl'), new RegExp(`第 ${NZ / 2 + 1} / ${NZ} 幅`));
		// An axial CT: the patient's right on the screen's left, the
		// front up.
		assert.deepEqual(await Promise.all(['l', 'r', 't', 'b'].map((c) => overlayText(page, 'axial', `o.${c}`))),
		    ['R', 'L', 'A', 'P']);
		await shot(page, 'ct');

		// Paging: the wheel, the keys, the slider.
		const canvas = view(page, 'axial').locator('canvas');
		await canvas.hover();
		await page.mouse.wheel(0, 100);
		await shown(page, 'axial', NZ / 2 + 1, 'after the wheel');
		await page.mouse.wheel(0, -100);
		await page.mouse.wheel(0, -100);
		await shown(page, 'axial', NZ / 2 - 1, 'after the wheel back');
		await page.keyboard.press('PageDown');
		await shown(page, 'axial', NZ / 2 + 9, 'after PageDown');
		await page.keyboard.press('End');
		await shown(page, 'axial', NZ - 1, 'after End');
		await page.locator('#zv-slider').fill(String(K_ROD + 1));
		await shown(page, 'axial', K_ROD, 'after the slider');

		// Windows: a preset button, then a drag to the right (wider)
		// and down (lower centre).
		await page.click('#zv-presets button[data-preset="bone"]');
		await until('the bone window', async () => await windowOf(page) === '400/1800');
		await page.click('#zv-toolset button[data-tool="window"]');
		const box = await canvas.boundingBox();
		await page.mouse.move(box.x + 100, box.y + 100);
		await page.mouse.down();
		await page.mouse.move(box.x + 150, box.y + 120, { steps: 5 });
		await page.mouse.up();
		await until('the dragged window', async () => await windowOf(page) === '360/2000');
		await page.click('#zv-presets button[data-preset="mediastinum"]');
		await until('the mediastinal window', async () => await windowOf(page) === '40/400');

		// Zoom: + twice, then 复位.
		await canvas.focus();
		await page.keyboard.press('+');
		await page.keyboard.press('+');
		assert.match(await overlayText(page, 'axial', 'br'), /缩放 156%/);
		await page.click('#zv-fit');
		assert.match(await overlayText(page, 'axial', 'br'), /缩放 100%/);

		// The ruler from rod centre to rod centre, zoomed in twice (the
		// mouse lands on whole screen pixels): 80 mm, within one pixel.
		await page.click('#zv-toolset button[data-tool="ruler"]');
		await canvas.focus();
		await page.keyboard.press('+');
		await page.keyboard.press('+');
		const Z2 = 1.25 * 1.25;
		const [mx, my] = await screenOf(page, 'axial', imgX(RODS[0][0]), imgX(RODS[0][1]), AXIAL, Z2);
		const [nx, ny] = await screenOf(page, 'axial', imgX(RODS[1][0]), imgX(RODS[1][1]), AXIAL, Z2);
		await page.mouse.move(mx, my);
		await page.mouse.down();
		await page.mouse.move(nx, ny, { steps: 8 });
		await page.mouse.up();
		const ruler = await view(page, 'axial').getAttribute('data-ruler');
		const mm = Number(ruler.replace(/ mm$/, ''));
		console.log(`ruler: ${ruler} between rods 80 mm apart (pixel ${PX} mm)`);
		assert.ok(Math.abs(mm - 80) <= PX, `ruler ${ruler}, not 80 mm within ${PX} mm`);
		assert.match(await overlayText(page, 'axial', 'meas'), /距离 \d+\.\d mm/);
		await shot(page, 'ruler');
		await page.click('#zv-fit');
		const [ax, ay] = await screenOf(page, 'axial', pixX(RODS[0][0]), pixX(RODS[0][1]), AXIAL);

		// CT value: a click on the rod, then a circle of 3 mm on it,
		// and a click in the air outside the body.
		await page.click('#zv-toolset button[data-tool="probe"]');
		await page.mouse.click(ax, ay);
		let probe = JSON.parse(await until('the probe', async () => {
			const p = await view(page, 'axial').getAttribute('data-probe');
			return p && p !== 'error' && JSON.parse(p).roi === undefined ? p : null;
		}));
		assert.equal(probe.unit, 'HU');
		assert.deepEqual([probe.x, probe.y], [Math.floor(imgX(RODS[0][0])), Math.floor(imgX(RODS[0][1]))]);
		assert.ok(Math.abs(probe.value - ROD_HU) < 5 * NOISE, `the rod's CT value ${probe.value}`);
		assert.match(await overlayText(page, 'axial', 'meas'), /CT值 -?\d+(\.\d+)? HU/);
		const [cx, cy] = await screenOf(page, 'axial', pixX(RODS[0][0]) + 3 / PX, pixX(RODS[0][1]), AXIAL);
		await page.mouse.move(ax, ay);
		await page.mouse.down();
		await page.mouse.move(cx, cy, { steps: 4 });
		await page.mouse.up();
		probe = JSON.parse(await until('the circle', async () => {
			const p = await view(page, 'axial').getAttribute('data-probe');
			return p && p !== 'error' && JSON.parse(p).roi !== undefined ? p : null;
		}));
		console.log(`probe: rod ${JSON.stringify(probe)}`);
		assert.ok(Math.abs(probe.roi.mean - ROD_HU) < 20, `the circle's mean ${probe.roi.mean}`);
		// pi 3^2 = 28.3 mm², within the pixels' steps (0.81 mm² each).
		assert.ok(Math.abs(probe.roi.area_mm2 - Math.PI * 9) < 6, `the circle's area ${probe.roi.area_mm2}`);
		assert.match(await overlayText(page, 'axial', 'meas'), /均值 \d+(\.\d+)? HU ± \d/);
		const [airx, airy] = await screenOf(page, 'axial', 6.5, 6.5, AXIAL);
		await page.mouse.click(airx, airy);
		probe = JSON.parse(await until('the air probe', async () => {
			const p = await view(page, 'axial').getAttribute('data-probe');
			return p && p !== 'error' && JSON.parse(p).x === 6 ? p : null;
		}));
		assert.ok(probe.value < -900, `air ${probe.value}`);

		// MPR: the cross-hair on the first rod moves the coronal and
		// sagittal views to it.
		await page.click('#zv-mpr');
		assert.equal(await page.getAttribute('#zv', 'data-mpr'), '1');
		await shown(page, 'coronal', N / 2);
		await shown(page, 'sagittal', N / 2);
		const [rx, ry] = await screenOf(page, 'axial', pixX(RODS[0][0]), pixX(RODS[0][1]), AXIAL);
		await page.mouse.click(rx, ry);
		const ri = Math.floor(imgX(RODS[0][0])), rj = Math.floor(imgX(RODS[0][1]));
		await shown(page, 'sagittal', ri, 'at the rod');
		await shown(page, 'coronal', rj, 'at the rod');
		await shown(page, 'axial', K_ROD, 'unchanged');
		// The sagittal view through the rod: columns y, rows z from the
		// head down (row r is slice NZ - 1 - r); the rod is dense at
		// its height and not above it.
		const SAG = { w: N, h: NZ, sx: PX, sy: DZ };
		await page.click('#zv-toolset button[data-tool="probe"]');
		const [sx, sy] = await screenOf(page, 'sagittal', pixX(RODS[0][1]), NZ - 1 - K_ROD + 0.5, SAG);
		await page.mouse.click(sx, sy);
		probe = JSON.parse(await until('the sagittal probe', async () => {
			const p = await view(page, 'sagittal').getAttribute('data-probe');
			return p && p !== 'error' ? p : null;
		}));
		assert.ok(Math.abs(probe.value - ROD_HU) < 5 * NOISE, `the rod in the sagittal view: ${probe.value}`);
		const kAbove = Math.round((ROD_Z[1] + 10 - Z0) / DZ);
		const [ux, uy] = await screenOf(page, 'sagittal', pixX(RODS[0][1]), NZ - 1 - kAbove + 0.5, SAG);
		await page.mouse.click(ux, uy);
		probe = JSON.parse(await until('the probe above the rod', async () => {
			const p = await view(page, 'sagittal').getAttribute('data-probe');
			return p && p !== 'error' && JSON.parse(p).y === NZ - 1 - kAbove ? p : null;
		}));
		assert.ok(probe.value < 300, `10 mm above the rod: ${probe.value}`);
		// A click in the coronal view with the cross-hair tool moves
		// the axial view to that height.
		await page.click('#zv-toolset button[data-tool="cross"]');
		const COR = { w: N, h: NZ, sx: PX, sy: DZ };
		const [qx, qy] = await screenOf(page, 'coronal', pixX(0), NZ - 1 - 10 + 0.5, COR);
		await page.mouse.click(qx, qy);
		await shown(page, 'axial', 10, 'from the coronal click');
		await shown(page, 'sagittal', Math.floor(imgX(0)), 'from the coronal click');
		await shot(page, 'mpr');
		assert.deepEqual(doc.errors, []);
	} finally {
		await doc.context.close();
	}
});

test('keyboard only: pages, presets, zoom, invert, MPR and series', { skip, timeout: 300000 }, async () => {
	const f = await studies();
	const doc = await session('jn_attending');
	try {
		const page = doc.page;
		await page.goto(`${BASE}/viewer?id=${f.id}`);
		await shown(page, 'axial', NZ / 2);
		// The keys are listed on the page.
		assert.match(await page.textContent('#zv-keys'), /PageUp\/PageDown/);
		// Tab to the image, then keys only.
		for (let i = 0; i < 40; i++) {
			if (await page.evaluate(() => document.activeElement && document.activeElement.getAttribute('data-plane')) === 'axial')
				break;
			await page.keyboard.press('Tab');
		}
		assert.equal(await page.evaluate(() => document.activeElement.getAttribute('data-plane')), 'axial');
		await page.keyboard.press('ArrowDown');
		await page.keyboard.press('ArrowDown');
		await shown(page, 'axial', NZ / 2 + 2);
		await page.keyboard.press('PageUp');
		await shown(page, 'axial', NZ / 2 - 8);
		await page.keyboard.press('Home');
		await shown(page, 'axial', 0);
		await page.keyboard.press('3');
		await until('the bone window', async () => await windowOf(page) === '400/1800');
		await page.keyboard.press('4');
		await until('the soft-tissue window', async () => await windowOf(page) === '50/350');
		await page.keyboard.press('+');
		assert.match(await overlayText(page, 'axial', 'br'), /缩放 125%/);
		await page.keyboard.press('-');
		assert.match(await overlayText(page, 'axial', 'br'), /缩放 100%/);
		await page.keyboard.press('i');
		assert.equal(await page.getAttribute('#zv-invert', 'aria-pressed'), 'true');
		assert.match(await overlayText(page, 'axial', 'bl'), /反相/);
		await page.keyboard.press('i');
		await page.keyboard.press('m');
		await shown(page, 'sagittal', N / 2);
		await page.keyboard.press('Tab');
		await page.keyboard.press('ArrowDown');
		await until('the next view active', async () => (await view(page, 'coronal').getAttribute('class')).includes('active'));
		await shown(page, 'coronal', N / 2 + 1);
		await page.keyboard.press('m');
		// ] and [: the next series (the film) and back.
		await page.keyboard.press(']');
		await until('the film', async () => await page.getAttribute('#zv', 'data-series') === String(f.film));
		await shown(page, 'axial', 0);
		await page.keyboard.press('[');
		await until('the CT again', async () => await page.getAttribute('#zv', 'data-series') === String(f.ct));
		assert.deepEqual(doc.errors, []);
	} finally {
		await doc.context.close();
	}
});

test('三维重建: the CT turns by a drag and the keys, zooms, changes preset', { skip, timeout: 300000 }, async () => {
	const f = await studies();
	const doc = await session('jn_attending');
	try {
		const page = doc.page;
		const renders = [];
		page.on('response', (r) => {
			if (/\/viewer\/render\?/.test(r.url()))
				renders.push({ url: r.url(), status: r.status() });
		});
		await page.goto(`${BASE}/viewer?id=${f.id}`);
		await shown(page, 'axial', NZ / 2);
		await page.click('#zv-3d');
		assert.equal(await page.getAttribute('#zv', 'data-3d'), '1');
		assert.equal(await page.getAttribute('#zv-3d', 'aria-pressed'), 'true');
		const u0 = await full3(page, 'at first');
		assert.match(u0, /render=bone&az=0&el=0&zoom=1\.00&size=\d+/);
		const [nw, nh] = (await v3d(page).getAttribute('data-natural')).split('x').map(Number);
		assert.ok(nw > 0 && nw === nh, `the image is ${nw} x ${nh}`);
		assert.equal(await view(page, 'axial').isHidden(), true);
		// From the front: the patient's right on the screen's left, the
		// head up.
		assert.deepEqual(await Promise.all(['l', 'r', 't', 'b'].map((c) => overlay3(page, `o.${c}`))),
		    ['R', 'L', 'H', 'F']);
		assert.match(await overlay3(page, 'tr'), /三维重建 · 骨骼/);
		assert.match(await overlay3(page, 'tl'), /黄丽群/);
		assert.match(await page.textContent('#zv-readout'), /三维重建 · 骨骼 · 方位 0° 仰角 0° · 缩放 100%/);
		await shot(page, '3d-front');
		const front = await picture3(page);
		const w0 = await extent3(page);

		// A drag 60 px to the right: small images while dragging, then
		// the full one of 30 degrees round.
		const box = await v3d(page).boundingBox();
		const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
		const n0 = renders.length;
		await page.mouse.move(cx, cy);
		await page.mouse.down();
		for (let i = 1; i <= 6; i++)
			await page.mouse.move(cx + 10 * i, cy);
		await page.mouse.up();
		const u1 = await full3(page, 'after the drag');
		await until('the small images asked for while dragging', async () =>
			renders.slice(n0).some((r) => /size=160$/.test(r.url)));
		assert.match(u1, /az=330&el=0&/);
		const small = renders.slice(n0).filter((r) => /size=160$/.test(r.url));
		assert.ok(small.length >= 1 && small.every((r) => r.status === 200), `small images: ${JSON.stringify(small)}`);
		assert.ok(renders.every((r) => r.status === 200), JSON.stringify(renders.filter((r) => r.status !== 200)));
		const turned = await picture3(page);
		assert.notDeepEqual(turned, front, 'the picture changed after the drag');
		assert.deepEqual(await Promise.all(['l', 'r'].map((c) => overlay3(page, `o.${c}`))), ['R', 'L']);
		await shot(page, '3d-turned');
		// Two steps of ← turn it back by 30 degrees: the same picture.
		await page.keyboard.press('ArrowLeft');
		await page.keyboard.press('ArrowLeft');
		assert.equal(await full3(page, 'turned back'), u0);
		assert.deepEqual(await picture3(page), front, 'turned back by the keys, the same picture');
		// Up and down again.
		await page.keyboard.press('ArrowDown');
		assert.match(await full3(page, 'from above'), /az=0&el=15&/);
		assert.notDeepEqual(await picture3(page), front, 'seen from above');
		await page.keyboard.press('ArrowUp');
		assert.equal(await full3(page, 'level again'), u0);
		assert.deepEqual(await picture3(page), front);

		// Zoom: the wheel, then 复位 (R) and +: the bones are drawn
		// wider by the zoom.
		await page.mouse.move(cx, cy);
		await page.mouse.wheel(0, -100);
		assert.match(await full3(page, 'after the wheel'), /zoom=1\.10&/);
		assert.match(await overlay3(page, 'br'), /缩放 110%/);
		await page.keyboard.press('r');
		assert.equal(await full3(page, 'after 复位'), u0);
		await page.keyboard.press('+');
		assert.match(await full3(page, 'after +'), /zoom=1\.25&/);
		const w1 = await extent3(page);
		console.log(`3-D zoom: the bones ${w0} px wide at 100 %, ${w1} px at 125 %`);
		assert.ok(Math.abs(w1 / w0 - 1.25) < 0.05, `width ${w0} -> ${w1} at zoom 1.25`);
		await page.keyboard.press('r');
		assert.equal(await full3(page, 'after 复位 again'), u0);

		// Presets: 肺 by its button, MIP by its key.
		await page.click('#zv-3dpresets button[data-render="lung"]');
		assert.match(await full3(page, 'lung'), /render=lung&/);
		assert.match(await overlay3(page, 'tr'), /三维重建 · 肺/);
		const lung = await picture3(page);
		assert.notDeepEqual(lung, front);
		await shot(page, '3d-lung');
		await v3d(page).focus();
		await page.keyboard.press('3');
		assert.match(await full3(page, 'MIP'), /render=mip&/);
		assert.notDeepEqual(await picture3(page), lung);
		await shot(page, '3d-mip');
		const ms = await v3d(page).getAttribute('data-render-ms');
		console.log(`3-D: the full image ${await v3d(page).getAttribute('data-natural')} in ${ms} ms, ` +
		    `${renders.length} renderings asked for`);

		// 1366x768: nothing wider than the window, the view inside it.
		const m = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth,
			cw: document.documentElement.clientWidth }));
		assert.ok(m.sw <= m.cw, `the page is ${m.sw} px wide in ${m.cw}`);
		const vb = await v3d(page).boundingBox();
		assert.ok(vb.y + vb.height <= 768 && vb.x + vb.width <= 1366 && vb.height > 300,
		    `the 3-D view at ${JSON.stringify(vb)}`);
		// Back to the slices.
		await page.click('#zv-3d');
		assert.equal(await page.getAttribute('#zv', 'data-3d'), '0');
		await shown(page, 'axial', NZ / 2);
		assert.equal(await v3d(page).isHidden(), true);
		assert.deepEqual(doc.errors, []);
	} finally {
		await doc.context.close();
	}
});

test('三维重建 by the keyboard alone', { skip, timeout: 300000 }, async () => {
	const f = await studies();
	const doc = await session('jn_attending');
	try {
		const page = doc.page;
		await page.goto(`${BASE}/viewer?id=${f.id}`);
		await shown(page, 'axial', NZ / 2);
		assert.match(await page.textContent('#zv-keys'), /T 三维重建/);
		for (let i = 0; i < 40; i++) {
			if (await page.evaluate(() => document.activeElement && document.activeElement.getAttribute('data-plane')) === 'axial')
				break;
			await page.keyboard.press('Tab');
		}
		await page.keyboard.press('t');
		const u0 = await full3(page, 'opened by T');
		assert.equal(await page.evaluate(() => document.activeElement.id), 'zv-v3d');
		const front = await picture3(page);
		await page.keyboard.press('ArrowRight');
		assert.match(await full3(page, 'after →'), /az=345&/);
		assert.notDeepEqual(await picture3(page), front);
		await page.keyboard.press('ArrowLeft');
		assert.equal(await full3(page, 'after ←'), u0);
		assert.deepEqual(await picture3(page), front);
		await page.keyboard.press('+');
		assert.match(await full3(page, 'after +'), /zoom=1\.25&/);
		await page.keyboard.press('2');
		assert.match(await full3(page, 'lung'), /render=lung&az=0&el=0&zoom=1\.25&/);
		await page.keyboard.press('Escape');
		assert.equal(await page.getAttribute('#zv', 'data-3d'), '0');
		await shown(page, 'axial', NZ / 2);
		// The keys are the slices' again.
		await page.keyboard.press('ArrowDown');
		await shown(page, 'axial', NZ / 2 + 1);
		assert.deepEqual(doc.errors, []);
	} finally {
		await doc.context.close();
	}
});

test('the film at full resolution, inverted', { skip, timeout: 300000 }, async () => {
	const f = await studies();
	const [[cols, rows]] = sql(`SELECT cols, rows FROM series WHERE id = :'p1'`, { params: [f.film] });
	const doc = await session('jn_attending');
	try {
		const page = doc.page;
		await page.goto(`${BASE}/viewer?id=${f.id}&series=${f.film}`);
		await shown(page, 'axial', 0);
		assert.equal(await page.getAttribute('#zv', 'data-series'), String(f.film));
		// No MPR for one image, and no CT window (HU) for a film: the
		// buttons are off and their keys change nothing.
		assert.equal(await page.locator('#zv-mpr').isDisabled(), true);
		for (const p of ['lung', 'mediastinum', 'bone', 'soft'])
			assert.equal(await page.locator(`#zv-presets [data-preset="${p}"]`).isDisabled(), true, p);
		assert.equal(await page.locator('#zv-presets [data-preset="auto"]').isDisabled(), false);
		const label0 = await overlayText(page, 'axial', 'bl');
		await page.locator('.zv-view[data-plane="axial"]').focus();
		await page.keyboard.press('1');
		await page.keyboard.press('3');
		assert.equal(await overlayText(page, 'axial', 'bl'), label0);
		assert.doesNotMatch(label0, /肺窗|骨窗/);
		// The image as the server sends it: every pixel of the film.
		const sizes = await page.evaluate(async (u) => {
			const img = new Image();
			img.src = u;
			await img.decode();
			return [img.naturalWidth, img.naturalHeight];
		}, `/viewer/image?series=${f.film}&plane=axial&z=0`);
		assert.deepEqual(sizes, [Number(cols), Number(rows)]);
		// Inverted: the centre of the picture turns from light to dark
		// (or back), read from the canvas.
		const centre = () => page.evaluate(() => {
			const c = document.querySelector('.zv-view[data-plane="axial"] canvas');
			const d = c.getContext('2d').getImageData(Math.floor(c.width / 2) - 20, Math.floor(c.height / 2) - 20, 40, 40).data;
			let s = 0;
			for (let i = 0; i < d.length; i += 4)
				s += d[i];
			return s / (d.length / 4);
		});
		await until('the lossless film', async () => await view(page, 'axial').getAttribute('data-lossless') === '1');
		const before = await centre();
		await page.click('#zv-invert');
		await until('the inverted film', async () => await view(page, 'axial').getAttribute('data-lossless') === '1' &&
		    Math.abs(await centre() - (255 - before)) < 3);
		await shot(page, 'film-inverted');
		assert.deepEqual(doc.errors, []);
	} finally {
		await doc.context.close();
	}
});

test('over 10 Mbit/s with 30 ms latency: the first image under 1 s, paging at 10 images/s and more', { skip, timeout: 300000 }, async () => {
	const f = await studies();
	const doc = await session('jn_attending');
	try {
		const page = doc.page;
		const cdp = await doc.context.newCDPSession(page);
		await cdp.send('Network.enable');
		await cdp.send('Network.emulateNetworkConditions', {
			offline: false, latency: 30,
			downloadThroughput: 10e6 / 8, uploadThroughput: 10e6 / 8,
		});
		await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
		const reqs = new Map();
		cdp.on('Network.requestWillBeSent', (e) => reqs.set(e.requestId, { url: e.request.url }));
		cdp.on('Network.loadingFinished', (e) => {
			const r = reqs.get(e.requestId);
			if (r) { r.bytes = e.encodedDataLength; r.end = e.timestamp; }
		});
		await page.goto(`${BASE}/viewer?id=${f.id}`);
		await shown(page, 'axial', NZ / 2);
		const first = Number(await page.getAttribute('#zv', 'data-first-image-ms'));
		const firstImage = [...reqs.values()].filter((r) => /\/viewer\/image/.test(r.url) && r.end)
		    .sort((a, b) => a.end - b.end)[0];
		const before = [...reqs.values()].filter((r) => r.end && r.end <= firstImage.end && !/\/viewer\/image/.test(r.url));
		const pageBytes = before.reduce((s, r) => s + r.bytes, 0);
		console.log(`10 Mbit/s, 30 ms: first image ${first} ms after navigation; ` +
		    `${pageBytes} bytes before it (${before.length} responses); first image ${firstImage.bytes} bytes`);
		assert.ok(first < 1000, `first image after ${first} ms`);
		assert.ok(pageBytes < 2e6, `${pageBytes} bytes before the first image`);

		// Paging as a doctor holds the arrow key down (25 presses a
		// second) through 30 slices: the last one is shown at 10 and
		// more slices a second.
		await page.keyboard.press('Home');
		await shown(page, 'axial', 0);
		const t0 = Date.now();
		for (let i = 0; i < 30; i++) {
			await page.keyboard.press('ArrowDown');
			await new Promise((r) => setTimeout(r, 40));
		}
		await shown(page, 'axial', 30, 'after 30 ArrowDown');
		const secs = (Date.now() - t0) / 1000;
		const sizes = [...reqs.values()].filter((r) => /\/viewer\/image/.test(r.url) && !/fmt=png/.test(r.url) && r.bytes);
		const mean = sizes.reduce((s, r) => s + r.bytes, 0) / sizes.length;
		console.log(`10 Mbit/s, 30 ms: 30 slices paged in ${secs.toFixed(2)} s (${(30 / secs).toFixed(1)} slices/s); ` +
		    `JPEG slice ${Math.round(mean)} bytes on average`);
		assert.ok(30 / secs >= 10, `paging at ${(30 / secs).toFixed(1)} slices/s`);

		// The cine (15 a second at most) through 40 slices.
		await page.keyboard.press('Home');
		await shown(page, 'axial', 0);
		const n0 = Number(await page.getAttribute('#zv', 'data-shown-count'));
		await page.keyboard.press('c');
		await until('40 cine frames', async () =>
			Number(await page.getAttribute('#zv', 'data-shown-count')) - n0 >= 40, 60000, 50);
		await page.keyboard.press('c');
		const fps = Number(await page.getAttribute('#zv', 'data-cine-fps'));
		console.log(`10 Mbit/s, 30 ms: cine ${fps} images/s (at most 15)`);
		assert.ok(fps >= 10, `cine at ${fps} images/s`);
		assert.deepEqual(doc.errors, []);
	} finally {
		await doc.context.close();
	}
});

test('写报告: the images beside the report, above the fold at 1366x768', { skip, timeout: 300000 }, async () => {
	const f = await studies();
	const doc = await session('jn_attending');
	try {
		const page = doc.page;
		const resp = await openReport(page, BASE, f.id);
		assert.equal(resp.status(), 200);
		await shown(page, 'axial', NZ / 2);
		// Side by side, both inside the window: the image on the left,
		// the editor's two fields and its buttons on the right.
		const vp = page.viewportSize();
		const img = await view(page, 'axial').boundingBox();
		const findings = await page.locator('#findings').boundingBox();
		const conclusion = await page.locator('#conclusion').boundingBox();
		const save = await page.locator('#btn-save').boundingBox();
		assert.ok(img.x + img.width <= findings.x, `image ${JSON.stringify(img)} left of the editor ${JSON.stringify(findings)}`);
		for (const [what, b] of [['the image', img], ['影像表现', findings], ['影像结论', conclusion], ['保存', save]])
			assert.ok(b.y >= 0 && b.y + b.height <= vp.height && b.x + b.width <= vp.width,
			    `${what} at ${JSON.stringify(b)} is not inside ${vp.width}x${vp.height}`);
		assert.ok(img.width >= 400 && img.height >= 300, `the image is only ${img.width}x${img.height}`);
		const width = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
		assert.ok(width[0] <= width[1], `the page is ${width[0]} px wide in ${width[1]}`);
		// Typing in the report pages nothing; in the viewer the keys
		// page the images.
		await page.click('#findings');
		await page.keyboard.type('右肺见结节影');
		await page.keyboard.press('ArrowDown');
		assert.equal(await view(page, 'axial').getAttribute('data-shown'), String(NZ / 2));
		await view(page, 'axial').focus();
		await page.keyboard.press('ArrowDown');
		await shown(page, 'axial', NZ / 2 + 1);
		assert.match(await page.inputValue('#findings'), /右肺见结节影/);
		await shot(page, 'report');
		// Down the report's column (key images at its end): the image
		// stays in the window.
		await page.locator('#key-images').scrollIntoViewIfNeeded();
		const scrolled = await page.evaluate(() => window.scrollY);
		assert.ok(scrolled > 200, `the page scrolled ${scrolled} px`);
		const still = await view(page, 'axial').boundingBox();
		assert.ok(still.y >= 0 && still.y + still.height <= vp.height, `the image at ${JSON.stringify(still)} after scrolling`);
		assert.deepEqual(doc.errors, []);
	} finally {
		await doc.context.close();
	}
});

// An 8-bit grey PNG as the server writes it (preview_png_encode()):
// width, height and the pixels, its rows unfiltered (PNG 1.2, 9.2).
function pngGray(buf) {
	let o = 8, w = 0, h = 0;
	const idat = [];
	while (o < buf.length) {
		const len = buf.readUInt32BE(o), type = buf.toString('latin1', o + 4, o + 8);
		if (type === 'IHDR') {
			w = buf.readUInt32BE(o + 8);
			h = buf.readUInt32BE(o + 12);
			assert.deepEqual([buf[o + 16], buf[o + 17]], [8, 0], 'an 8-bit grey PNG');
		} else if (type === 'IDAT')
			idat.push(buf.subarray(o + 8, o + 8 + len));
		o += 12 + len;
	}
	const raw = zlib.inflateSync(Buffer.concat(idat)), px = Buffer.alloc(w * h);
	for (let y = 0; y < h; y++) {
		const f = raw[y * (w + 1)];
		for (let x = 0; x < w; x++) {
			const v = raw[y * (w + 1) + 1 + x], a = x ? px[y * w + x - 1] : 0,
			    b = y ? px[(y - 1) * w + x] : 0, c = x && y ? px[(y - 1) * w + x - 1] : 0;
			const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
			const pred = f === 0 ? 0 : f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 :
			    pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
			px[y * w + x] = (v + pred) & 0xff;
		}
	}
	return { w, h, px };
}

test('a film whose window comes as a VOI LUT Sequence: received, shown by the viewer (自动) and the series preview as the windowed film', { skip, timeout: 300000 }, async () => {
	// The same phantom chest (same seed) twice, for two patients: its
	// window as Window Center/Width, and as a VOI LUT of 12-bit entries.
	const made = [], apps = [];
	for (const [k, extra] of [['W', []], ['U', ['-U']]]) {
		const pid = `${TAG}-${k}`;
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zhiying-viewer-voi-'));
		await run(PHANTOM, ['-F', 'chest', ...extra, '-P', pid, '-N', 'LUT^FILM', '-o', dir]);
		const [[id]] = sql(`INSERT INTO applications (diag_no, mode, applicant_id,
		    applicant_institution_id, alliance_id, target_institution_id, patient_name, patient_sex,
		    patient_age, patient_no, chief_complaint, present_illness, history, clinical_diagnosis,
		    exam_type, body_part, exam_date)
		  SELECT 'ZY' || to_char(now(), 'YYYYMMDD') || lpad(nextval('diag_no_seq')::text, 6, '0'),
		    'superior', u.id, u.institution_id, al.id, t.id, '卢菲', 'F', '40岁', :'p1',
		    '咳嗽', '咳嗽一月', '无', '肺结核待查', 'DR', '胸部', current_date
		  FROM users u, alliances al, institutions t
		  WHERE u.login = 'lw_apply' AND al.code = 'JN-YGT' AND t.code = 'JN-PH'
		  RETURNING id`, { params: [pid] });
		await storescu(dir);
		fs.rmSync(dir, { recursive: true, force: true });
		const [[sid]] = await until('the film linked and indexed', () => {
			const r = sql(`SELECT se.id FROM application_studies x JOIN series se ON se.study_id = x.study_id
			    WHERE x.application_id = :'p1' AND se.instance_count = 1`, { params: [id] });
			return r.length === 1 ? r : null;
		});
		made.push(Number(sid));
		apps.push(Number(id));
	}
	const c = new Client();
	assert.equal((await c.login('lw_apply')).status, 303);
	const png = async (u) => {
		const r = await fetch(BASE + u, { headers: { cookie: c.cookieHeader() } });
		assert.equal(r.status, 200, u);
		assert.equal(r.headers.get('content-type'), 'image/png', u);
		return pngGray(Buffer.from(await r.arrayBuffer()));
	};
	// The viewer in 自动 (voi=1, the window the page would send beside
	// it) and the series preview: within one grey level of the windowed
	// film (the table's 12-bit steps), pixel by pixel.
	for (const [uw, uu] of [
		[`/viewer/image?series=${made[0]}&plane=axial&z=0&wc=1400&ww=2800&voi=1&fmt=png`,
		    `/viewer/image?series=${made[1]}&plane=axial&z=0&wc=127&ww=256&voi=1&fmt=png`],
		[`/series/preview?series=${made[0]}`, `/series/preview?series=${made[1]}`]]) {
		const [a, b] = [await png(uw), await png(uu)];
		assert.deepEqual([b.w, b.h], [a.w, a.h]);
		let worst = 0, mean = 0;
		for (let i = 0; i < a.px.length; i++) {
			worst = Math.max(worst, Math.abs(a.px[i] - b.px[i]));
			mean += a.px[i];
		}
		assert.ok(worst <= 1, `${uu}: ${worst} grey levels from the windowed film`);
		// Not a blank picture: lungs dark, bone and soft tissue light.
		mean /= a.px.length;
		assert.ok(mean > 40 && mean < 215, `mean ${mean}`);
	}
	// The viewer says which: 默认窗 of the LUT film reads "VOI LUT", of
	// the windowed film its window; the CT windows are off for both.
	const doc = await session('lw_apply');
	try {
		for (const [k, re] of [[1, /VOI LUT/], [0, /W 2800 L 1400/]]) {
			await doc.page.goto(`${BASE}/viewer?id=${apps[k]}&series=${made[k]}`);
			await shown(doc.page, 'axial', 0);
			assert.match(await overlayText(doc.page, 'axial', 'bl'), re);
			assert.equal(await doc.page.locator('#zv-presets [data-preset="lung"]').isDisabled(), true);
		}
		assert.deepEqual(doc.errors, []);
	} finally {
		await doc.context.close();
	}
	// A window asked for replaces the VOI LUT: the same as the windowed
	// film in that window.
	const [a, b] = [await png(`/viewer/image?series=${made[0]}&plane=axial&z=0&wc=800&ww=1000&fmt=png`),
	    await png(`/viewer/image?series=${made[1]}&plane=axial&z=0&wc=800&ww=1000&fmt=png`)];
	assert.ok(a.px.equals(b.px));
});

test('another hospital\'s users get 404 from every viewer address', { skip, timeout: 300000 }, async () => {
	const f = await studies();
	const urls = [`/viewer?id=${f.id}`, `/viewer?id=${f.id}&series=${f.ct}`,
	    `/viewer/image?series=${f.ct}&plane=axial&z=3&wc=40&ww=400`,
	    `/viewer/image?series=${f.ct}&plane=coronal&z=100`,
	    `/viewer/image?series=${f.film}&plane=axial&z=0&fmt=png`,
	    `/viewer/probe?series=${f.ct}&plane=axial&z=3&px=10&py=10&rmm=2`,
	    `/viewer/render?series=${f.ct}&render=bone&az=30&el=10&zoom=1&size=128`];
	const audits = () => Number(sql(`SELECT count(*) FROM audit_log WHERE action = 'image_viewed'
	    AND object_id = :'p1'`, { params: [f.ct] })[0][0]);
	const a0 = audits();
	for (const who of ['yb_attending', 'gd_chief', 'qx_doctor']) {
		const c = new Client();
		assert.equal((await c.login(who)).status, 303, `login ${who}`);
		for (const u of urls) {
			const r = await c.get(u);
			assert.equal(r.status, 404, `${who} ${u}`);
			assert.ok(!r.text.includes('黄丽群') && !r.headers.get('content-type').startsWith('image/') &&
			    !r.headers.get('content-type').startsWith('application/json'), `${who} ${u}`);
		}
	}
	assert.equal(audits(), a0, 'no image was viewed by an outsider');
	// The applicant of the application sees its images; each view is
	// audited.
	const own = new Client();
	assert.equal((await own.login('lw_apply')).status, 303);
	const r = await own.get(urls[2]);
	assert.equal(r.status, 200);
	assert.equal(r.headers.get('content-type'), 'image/jpeg');
	assert.ok(audits() > a0, 'the applicant\'s view is audited');
	// Bad addresses: past the last slice, an unknown plane, a window
	// that is no number.
	for (const u of [`/viewer/image?series=${f.ct}&plane=axial&z=${NZ}`,
	    `/viewer/image?series=${f.ct}&plane=oblique&z=1`,
	    `/viewer/image?series=${f.ct}&plane=axial&z=1&wc=1e3`,
	    `/viewer/image?series=${f.film}&plane=coronal&z=0`]) {
		const b = await own.get(u);
		assert.equal(b.status, 404, u);
		assert.match(b.text, /影像不存在或无权访问|无法显示该影像/, u);
	}
	// 三维重建: the applicant's rendering, audited as the images; bad
	// parameters and a series that is no CT stack answer 400.
	const a1 = audits();
	const v = await own.get(urls[6]);
	assert.equal(v.status, 200);
	assert.equal(v.headers.get('content-type'), 'image/jpeg');
	assert.ok(audits() >= a1 && audits() > a0);
	for (const q of ['render=vr', 'el=91', 'el=-90.5', 'zoom=0.2', 'zoom=9', 'size=16', 'size=2000',
	    'az=1e3', 'az=99999', 'ww=0&render=mip']) {
		const b = await own.get(`/viewer/render?series=${f.ct}&${q}`);
		assert.equal(b.status, 400, q);
		assert.match(b.text, /三维重建参数无效/, q);
	}
	const film = await own.get(`/viewer/render?series=${f.film}`);
	assert.equal(film.status, 400);
	assert.match(film.text, /该序列不能三维重建/);
});
