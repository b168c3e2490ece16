// The viewer of the “粤医智影” result page (viewer.js with the result's
// boxes and labels) as the browser tests drive and read it: which of the
// result's slices it shows (#zv data-z, #slice-no), once the image of it
// is drawn, in which window; the boxes and labels drawn over it and where
// the image is on the screen.  Polled: the pages' CSP forbids the eval of
// waitForFunction.
import assert from 'node:assert/strict';

export const AXIAL = '#zv .zv-view[data-plane="axial"]';

// The viewer's windows as viewer.js sets them (centre/width).
export const WINDOWS = { lung: '-600/1500', mediastinum: '40/400', bone: '400/1800' };

// What the viewer shows: the result's slice z (-1: none of its), the
// axial image k, the image drawn (shown) and its window.
export async function viewerState(page) {
	return page.evaluate((sel) => {
		const zv = document.getElementById('zv');
		const ax = document.querySelector(sel);
		return {
			z: Number(zv.getAttribute('data-z')),
			k: Number(zv.getAttribute('data-index')),
			shown: Number(ax.getAttribute('data-shown')),
			window: ax.getAttribute('data-window'),
			series: Number(zv.getAttribute('data-series')),
		};
	}, AXIAL);
}

// Until cond() (maybe async) is true, polled every 100 ms for up to ms.
export async function until(what, cond, ms = 60000) {
	const end = Date.now() + ms;
	for (;;) {
		if (await cond())
			return;
		if (Date.now() > end)
			assert.fail(`${what}: not within ${ms / 1000} s`);
		await new Promise((res) => setTimeout(res, 100));
	}
}

// Wait until the viewer has drawn the image of the result's slice z (in
// window, a name of WINDOWS, when given); returns viewerState().
export async function waitSlice(page, z, window) {
	let st = null;
	for (let i = 0; i < 600; i++) {
		st = await viewerState(page).catch(() => null);
		if (st !== null && st.z === z && st.shown === st.k &&
		    (window === undefined || st.window === WINDOWS[window]))
			return st;
		await page.waitForTimeout(50);
	}
	assert.fail(`the viewer did not show slice ${z}${window ? ` in ${window}` : ''}: ${JSON.stringify(st)}`);
}

// The numbers of the boxes drawn over the image shown.
export async function shownBoxes(page) {
	return page.locator('#zv .zv-box').evaluateAll((es) => es.map((e) => Number(e.dataset.idx)));
}

// The labels drawn over the image shown: [{ text, cls }].
export async function shownLabels(page) {
	return page.locator('#zv .zv-lab').evaluateAll((es) => es.map((e) => ({
	    text: e.textContent, cls: e.className.replace(/^zv-lab /, '') })));
}

// The image of the axial view on the page: { x, y, width, height } in
// CSS pixels of the page, as viewer.js drew it (its data-rect).
export async function imageRect(page) {
	const view = await page.locator(AXIAL).boundingBox();
	const r = (await page.getAttribute(AXIAL, 'data-rect')).split(',').map(Number);
	return { x: view.x + r[0], y: view.y + r[1], width: r[2], height: r[3] };
}

// Where the voxel edges x0..x1+1, y0..y1+1 of a volume nx by ny are on the
// page when the image is at img; and the check that box b (a bounding
// box) sits there within tol pixels.
export function voxelRect(img, nx, ny, [x0, y0, x1, y1]) {
	return {
		x: img.x + x0 / nx * img.width, y: img.y + y0 / ny * img.height,
		width: (x1 - x0 + 1) / nx * img.width, height: (y1 - y0 + 1) / ny * img.height,
	};
}

export function assertAt(b, want, what, tol = 1.5) {
	for (const k of ['x', 'y', 'width', 'height'])
		assert.ok(Math.abs(b[k] - want[k]) <= tol, `${what} ${k}: ${b[k].toFixed(1)} vs ${want[k].toFixed(1)}`);
}

// A window preset of the viewer's toolbar.
export async function preset(page, name) {
	await page.click(`#zv-presets button[data-preset="${name}"]`);
}

// One notch of the mouse wheel over the axial image (down: dy > 0).
export async function wheel(page, dy) {
	await page.locator(AXIAL).hover();
	await page.mouse.wheel(0, dy);
}

// The brightest grey level (0-255) the axial view shows inside r, a
// rectangle in CSS pixels of the page (a box's bounding box): what the
// doctor sees under the box.
export async function brightestUnder(page, r) {
	return page.locator(`${AXIAL} canvas`).evaluate((c, b) => {
		const cr = c.getBoundingClientRect(), f = c.width / cr.width;
		const x = Math.max(0, Math.floor((b.x - cr.left) * f));
		const y = Math.max(0, Math.floor((b.y - cr.top) * f));
		const px = c.getContext('2d').getImageData(x, y, Math.max(1, Math.ceil(b.width * f)),
		    Math.max(1, Math.ceil(b.height * f))).data;
		let m = 0;
		for (let i = 0; i < px.length; i += 4)
			m = Math.max(m, px[i]);
		return m;
	}, r);
}
