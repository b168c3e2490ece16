// tests/browser/lesiondelete.test.mjs - 删除病灶序号框 as a doctor does it
// in Chromium: on the tuberculosis reader's result, 删除 on a box's row
// asks first (cancelled: nothing happens), then the box leaves the list
// and the picture, the notice says which, and the deleted box is listed
// with who deleted it.  The result is made with SQL as the daemon writes
// it (tests/integration/filmresult.mjs); the rules are the integration
// test's (tests/integration/lesiondelete.test.mjs).
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { chromiumForFile, go, openReport, userSession } from './chromium.mjs';
import { newApplication, linkFilm, dropFilms } from '../integration/filmresult.mjs';

const BASE = process.env.ZY_URL ? process.env.ZY_URL.replace(/\/+$/, '') : '';
const OUT = path.join(process.env.ZY_OUT || 'tests/out', 'browser');
const PASSWORD = 'Zhiying2026';
const skip = BASE === '' ? 'ZY_URL is not set: start a stack first (tests/lib.sh stack_start)' : false;
const chrome = chromiumForFile(skip, OUT);

after(() => {
	if (!skip)
		dropFilms();
});

const rows = (page) => page.locator('#lesion-table tbody tr.lesion').evaluateAll(
    (trs) => trs.map((tr) => Number(tr.dataset.idx)));
// The boxes drawn on the film.  The film of filmresult.mjs has no image
// file: the page shows its still slice (a server-rendered image with the
// boxes) for want of a series the viewer can show.
const boxes = async (page) => {
	assert.equal(await page.locator('#zv').count(), 0, 'no viewer without images');
	return page.locator('#boxes g.box').evaluateAll((gs) => gs.map((g) => Number(g.dataset.idx)));
};

test('删除病灶序号框: asked first, then the box leaves the list and the picture, and is listed as deleted', { skip }, async () => {
	const app = newApplication();
	const film = linkFilm(app);
	const s = await userSession(chrome.browser, BASE, 'yb_attending', PASSWORD);
	try {
		const { page } = s;
		assert.equal((await openReport(page, BASE, app.id)).status(), 200);
		await page.goto(`${BASE}/ai/result?id=${app.id}&job=${film.job}`);
		assert.deepEqual(await rows(page), [1, 2, 3]);
		assert.deepEqual(await boxes(page), [1, 2, 3]);
		// Cancelled: nothing is deleted.
		let asked = '';
		page.once('dialog', (d) => { asked = d.message(); d.dismiss(); });
		await page.click('#delete-2');
		assert.match(asked, /^删除病灶序号框 2？/);
		assert.deepEqual(await rows(page), [1, 2, 3]);
		// Confirmed: back on the result without box 2.
		page.once('dialog', (d) => d.accept());
		await go(page, '/ai/result', () => page.click('#delete-2'));
		assert.equal((await page.textContent('#ai-notice')).trim(), '已删除病灶序号框 2');
		assert.deepEqual(await rows(page), [1, 3]);
		assert.deepEqual(await boxes(page), [1, 3]);
		assert.match(await page.textContent('#lesions-deleted'), /^已删除的病灶序号框（不显示、不上传）：2（.+，\d{4}-\d{2}-\d{2} \d{2}:\d{2}）$/);
		assert.equal(await page.locator('#lesion-2').count(), 0, 'no checkbox to upload it');
		await page.screenshot({ path: path.join(OUT, 'lesion-deleted.png'), fullPage: true });
		// A reload keeps it deleted.
		await page.reload();
		assert.deepEqual(await rows(page), [1, 3]);
		assert.deepEqual(s.errors, []);
	} finally {
		await s.context.close();
	}
});
