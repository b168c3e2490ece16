// ai.js - the “粤医智影” result page around the viewer (viewer.js, which
// draws the result's boxes and labels): a click on a lesion row (or
// Enter on it) and the 层面 and key-slice links move the viewer to the
// slice; what the viewer shows goes into 设为关键图像, 上传影像结论 and
// 删除, and into the page's address; 显示左右肋骨、椎骨编号 turns the
// labels on or off; the lesion table sorts by a click on its header.
// Without scripts the page shows one still slice (in <noscript>) and
// every link and form still works, one page load at a time.
(function () {
	'use strict';

	var zv = document.getElementById('zv');
	var table = document.getElementById('lesion-table');

	document.documentElement.classList.add('js');

	// Say so when the table is wider than its panel (it scrolls
	// sideways; ai.css keeps 选择, 序号 and 层面 in sight).
	function wideHint() {
		var box = table && table.parentNode, hint = document.getElementById('lesion-wide');
		if (box && hint)
			hint.hidden = !(box.scrollWidth > box.clientWidth + 1);
	}
	wideHint();
	window.addEventListener('resize', wideHint);

	function setParam(href, key, value) {
		var u = new URL(href, window.location.href);
		u.searchParams.set(key, String(value));
		return u.pathname + u.search + u.hash;
	}

	// The server's window nearest to the viewer's (window_nearest() of
	// ai.c): its presets by name, another CT window as the nearest of
	// them, a film's always its own.
	var WINDOWS = { lung: [-600, 1500], mediastinum: [40, 400], bone: [400, 1800] };
	function windowName(d) {
		var best = 'auto', bd = Infinity;
		if (!d.ct || d.preset === 'auto')
			return 'auto';
		if (WINDOWS[d.preset])
			return d.preset;
		Object.keys(WINDOWS).forEach(function (n) {
			var x = Math.abs(d.wc - WINDOWS[n][0]) + Math.abs(d.ww - WINDOWS[n][1]) / 2;
			if (x < bd) {
				bd = x;
				best = n;
			}
		});
		return best;
	}

	// What the viewer shows: slice z of the result (-1: an image that is
	// not one of its slices) in window win.
	function shown(d) {
		var z = d.z, win = windowName(d), here = z >= 0;
		var keyZ = document.getElementById('key-z');
		var keyBtn = document.getElementById('btn-key-set');
		var keyOther = document.getElementById('key-other');
		var keyHere = document.getElementById('key-here');
		var keyed = false, no = document.getElementById('slice-no');
		if (no !== null)
			no.textContent = here ? '第 ' + (z + 1) + ' / ' +
			    document.getElementById('viewer').dataset.n + ' 层' : '当前影像不是AI分析的层面';
		if (keyZ !== null && here) {
			keyZ.value = String(z);
			document.getElementById('key-window').value = win;
		}
		// 设为关键图像 takes a slice of the result only.
		if (keyBtn !== null && keyBtn.getAttribute('aria-describedby') !== 'key-off') {
			keyBtn.disabled = !here;
			keyOther.hidden = here;
		}
		if (!here)
			return;
		['upload-z', 'upload-window'].forEach(function (id, i) {
			var e = document.getElementById(id);
			if (e !== null)
				e.value = i === 0 ? String(z) : win;
		});
		// 删除 comes back to the slice and window shown.
		document.querySelectorAll('form.lesion-delete').forEach(function (f) {
			f.elements.z.value = String(z);
			f.elements.window.value = win;
		});
		document.querySelectorAll('#key-slices a.key-slice').forEach(function (a) {
			var on = Number(a.dataset.slice) === z;
			a.classList.toggle('on', on);
			keyed = keyed || on;
		});
		if (keyHere !== null)
			keyHere.hidden = !keyed;
		document.querySelectorAll('#lesion-table tbody tr').forEach(function (tr) {
			tr.classList.toggle('here', Number(tr.dataset.slice) === z);
		});
		document.querySelectorAll('a.goto').forEach(function (a) {
			a.href = setParam(a.href, 'window', win);
		});
		document.querySelectorAll('#lesion-sort a.order').forEach(function (a) {
			a.href = setParam(setParam(a.href, 'z', z), 'window', win);
		});
		// A reload shows what is shown now.
		var u = new URL(window.location.href);
		u.searchParams.set('z', String(z));
		u.searchParams.set('window', win);
		u.hash = '';
		window.history.replaceState(null, '', u.pathname + u.search);
	}

	// The viewer to slice z (and box idx marked), in view.
	function show(z, idx) {
		if (zv === null || !zv.zv)
			return false;
		zv.zv.show(z, idx);
		if (zv.getBoundingClientRect().top < 0)
			zv.scrollIntoView({ block: 'nearest' });
		return true;
	}

	if (zv !== null) {
		zv.addEventListener('zv-change', function (ev) {
			shown(ev.detail);
		});
		// 关键影像, the key slices and the 层面 links of the table.
		document.querySelectorAll('a.goto').forEach(function (a) {
			a.addEventListener('click', function (ev) {
				var tr = a.closest('#lesion-table tr');
				if (show(Number(a.dataset.slice), tr !== null ? Number(tr.dataset.idx) : undefined))
					ev.preventDefault();
			});
		});
		// 显示左右肋骨、椎骨编号: the labels over the slice, on or off.
		var ovlToggle = document.getElementById('toggle-overlays');
		if (ovlToggle !== null)
			ovlToggle.addEventListener('change', function () {
				if (zv.zv)
					zv.zv.labels(ovlToggle.checked);
			});
	}

	// The lesion table: a click on a row (not on its checkbox), or Enter
	// on it, shows the lesion's slice with its box marked; a click on a
	// header sorts by that column, again the other way round.
	function setupTable() {
		if (table === null)
			return;
		var tbody = table.tBodies[0];
		tbody.addEventListener('click', function (ev) {
			var tr = ev.target.closest('tr');
			if (tr === null || ev.target.closest('input, label, a, button') !== null)
				return;
			show(Number(tr.dataset.slice), Number(tr.dataset.idx));
		});
		Array.prototype.forEach.call(tbody.rows, function (tr) {
			tr.tabIndex = 0;
			tr.setAttribute('title', '回车或点击：在影像中显示该病灶');
		});
		tbody.addEventListener('keydown', function (ev) {
			var tr = ev.target;
			if (ev.key !== 'Enter' || tr.tagName !== 'TR')
				return;
			ev.preventDefault();
			show(Number(tr.dataset.slice), Number(tr.dataset.idx));
		});
		tbody.addEventListener('change', function (ev) {
			var box = ev.target;
			if (box.type !== 'checkbox')
				return;
			box.closest('tr').classList.toggle('unpicked', !box.checked);
		});
		var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
		heads.forEach(function (th, col) {
			if (!th.classList.contains('sortable'))
				return;
			th.tabIndex = 0;
			function sort() {
				var asc = th.getAttribute('aria-sort') !== 'ascending';
				var num = th.dataset.type === 'num';
				var rows = Array.prototype.slice.call(tbody.rows);
				var keyed = rows.map(function (tr, i) {
					var td = tr.cells[col];
					var raw = td.dataset.sort !== undefined ?
					    td.dataset.sort : td.textContent.trim();
					var v = num ? parseFloat(raw) : raw;
					return { tr: tr, v: v, i: i };
				});
				keyed.sort(function (a, b) {
					var c;
					if (num) {
						// Cells without a number go last
						// either way.
						var an = isNaN(a.v), bn = isNaN(b.v);
						if (an || bn)
							return an === bn ? a.i - b.i : an ? 1 : -1;
						c = a.v - b.v;
					} else
						c = a.v.localeCompare(b.v, 'zh-CN');
					return (asc ? c : -c) || a.i - b.i;
				});
				keyed.forEach(function (k) {
					tbody.appendChild(k.tr);
				});
				heads.forEach(function (h) {
					h.removeAttribute('aria-sort');
				});
				th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
			}
			th.addEventListener('click', sort);
			th.addEventListener('keydown', function (ev) {
				if (ev.key === 'Enter' || ev.key === ' ') {
					ev.preventDefault();
					sort();
				}
			});
		});
	}

	// 删除病灶序号框 asks first: a deleted box does not come back.
	document.querySelectorAll('form.lesion-delete').forEach(function (f) {
		f.addEventListener('submit', function (ev) {
			if (!window.confirm('删除病灶序号框 ' + f.dataset.idx +
			    '？删除后该框不再显示，也不会随影像结论上传。'))
				ev.preventDefault();
		});
	});

	setupTable();
})();
