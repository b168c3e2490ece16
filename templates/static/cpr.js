// cpr.js - 肋骨拉直/展开: steps through the ribs (↑/↓, the list, the
// fracture table, a click on the unfolded cage), turns the straightened
// rib about its centre line (←/→ by 10°, the slider), changes the window,
// and keeps the fractures' markers on the rib shown.  The images are the
// server's (/ai/cpr/rib, /ai/cpr/cage); without this script the links and
// the form load the page again for the same result.
'use strict';

(function () {
	const root = document.getElementById('cpr');
	if (!root)
		return;
	const info = JSON.parse(root.dataset.info);
	const SVG = 'http://www.w3.org/2000/svg';
	const ribImg = document.getElementById('rib-img');
	const cageImg = document.getElementById('cage-img');
	const ribMarks = document.getElementById('rib-marks');
	const slider = document.getElementById('angle');
	const out = document.getElementById('angle-value');
	const state = { k: info.k, angle: Number(info.angle), window: info.window };

	function ribSrc(k, angle) {
		return `/ai/cpr/rib?job=${info.job}&z=${k}&az=${angle}&window=${state.window}`;
	}

	function cageSrc() {
		return `/ai/cpr/cage?job=${info.job}&az=${state.angle}&window=${state.window}`;
	}

	function load(img, src) {
		if (img.getAttribute('src') === src)
			return;
		const stage = img.parentElement;
		stage.classList.add('loading');
		stage.classList.remove('broken');
		img.onload = () => stage.classList.remove('loading');
		img.onerror = () => { stage.classList.remove('loading'); stage.classList.add('broken'); };
		img.src = src;
	}

	function pageUrl() {
		return `/ai/cpr?id=${info.app}&job=${info.job}&z=${state.k}&az=${state.angle}&window=${state.window}`;
	}

	// The markers of the rib shown: a circle on the line, its number above.
	function drawMarks() {
		const rib = info.ribs[state.k];
		ribMarks.setAttribute('viewBox', `0 0 ${rib.w} ${rib.h}`);
		while (ribMarks.firstChild)
			ribMarks.removeChild(ribMarks.firstChild);
		const mid = (rib.h - 1) / 2 + 0.5;
		const axis = document.createElementNS(SVG, 'line');
		axis.setAttribute('class', 'axis');
		axis.setAttribute('x1', '0');
		axis.setAttribute('x2', String(rib.w));
		axis.setAttribute('y1', String(mid));
		axis.setAttribute('y2', String(mid));
		ribMarks.appendChild(axis);
		for (const l of info.lesions) {
			if (l.rib !== state.k)
				continue;
			const g = document.createElementNS(SVG, 'g');
			g.setAttribute('class', 'mark');
			g.dataset.idx = String(l.idx);
			const c = document.createElementNS(SVG, 'circle');
			c.setAttribute('cx', String(l.x));
			c.setAttribute('cy', String(l.y));
			c.setAttribute('r', '9');
			const t = document.createElementNS(SVG, 'text');
			t.setAttribute('x', String(l.x));
			t.setAttribute('y', String(l.y));
			t.setAttribute('dy', '-13');
			t.setAttribute('text-anchor', 'middle');
			t.textContent = String(l.idx);
			g.appendChild(c);
			g.appendChild(t);
			ribMarks.appendChild(g);
		}
	}

	function update() {
		const rib = info.ribs[state.k];
		ribImg.width = rib.w;
		ribImg.height = rib.h;
		ribImg.alt = `${rib.zh}拉直图像`;
		load(ribImg, ribSrc(state.k, state.angle));
		load(cageImg, cageSrc());
		drawMarks();
		document.getElementById('rib-name').textContent = rib.zh;
		document.getElementById('rib-len').textContent = rib.len.toFixed(1);
		for (const a of document.querySelectorAll('#rib-list a.rib'))
			a.classList.toggle('on', Number(a.dataset.k) === state.k);
		for (const tr of document.querySelectorAll('#frac-table tbody tr'))
			tr.classList.toggle('on', Number(tr.dataset.rib) === state.k);
		for (const a of document.querySelectorAll('#windows a.win'))
			a.classList.toggle('on', a.dataset.window === state.window);
		slider.value = String(state.angle);
		out.textContent = `${state.angle}°`;
		document.getElementById('angle-z').value = String(state.k);
		document.getElementById('angle-window').value = state.window;
		history.replaceState(null, '', pageUrl());
		// The neighbours ahead, for stepping on.
		for (const n of [state.k - 1, state.k + 1])
			if (n >= 0 && n < info.ribs.length)
				new Image().src = ribSrc(n, state.angle);
	}

	function showRib(k) {
		if (k < 0 || k >= info.ribs.length || k === state.k)
			return;
		state.k = k;
		update();
	}

	function turn(angle) {
		angle = Math.max(0, Math.min(180, Math.round(angle)));
		if (angle === state.angle)
			return;
		state.angle = angle;
		update();
	}

	for (const a of document.querySelectorAll('#rib-list a.rib, #frac-table a[data-k]'))
		a.addEventListener('click', (e) => {
			e.preventDefault();
			showRib(Number(a.dataset.k));
		});
	for (const a of document.querySelectorAll('#windows a.win'))
		a.addEventListener('click', (e) => {
			e.preventDefault();
			state.window = a.dataset.window;
			update();
		});
	slider.addEventListener('input', () => turn(Number(slider.value)));
	document.getElementById('angle-form').addEventListener('submit', (e) => {
		e.preventDefault();
		turn(Number(slider.value));
	});
	// A click on the unfolded cage: the rib of that row and side.
	document.getElementById('cage-stage').addEventListener('click', (e) => {
		const b = cageImg.getBoundingClientRect();
		const x = (e.clientX - b.left) / b.width * info.cage.w;
		const y = (e.clientY - b.top) / b.height * info.cage.h;
		const row = Math.floor(y / info.cage.row_h);
		const side = x < info.cage.side_w + info.cage.gap / 2 ? 1 : 2;
		const k = info.ribs.findIndex((r) => r.row === row && r.side === side);
		if (k >= 0)
			showRib(k);
	});
	document.addEventListener('keydown', (e) => {
		if (e.altKey || e.ctrlKey || e.metaKey)
			return;
		const t = e.target;
		if (t && (t.tagName === 'TEXTAREA' || (t.tagName === 'INPUT' && t.type !== 'range')))
			return;
		switch (e.key) {
		case 'ArrowUp':
			showRib(state.k - 1);
			break;
		case 'ArrowDown':
			showRib(state.k + 1);
			break;
		case 'ArrowLeft':
			turn(state.angle - 10);
			break;
		case 'ArrowRight':
			turn(state.angle + 10);
			break;
		default:
			return;
		}
		e.preventDefault();
	});
	drawMarks();
})();
