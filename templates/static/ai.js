// ai.js - the “粤医智影” result page: slice navigation without reloading
// (上一层/下一层, the slider, the mouse wheel and the arrow keys), the
// window buttons, the ribs' and vertebrae's labels on or off, a click on
// a lesion row to its slice, and the lesion
// table sorted by a click on its header.  Without it every link and form
// of the page still works, one page load at a time.
(function () {
	'use strict';

	var viewer = document.getElementById('viewer');
	var table = document.getElementById('lesion-table');

	document.documentElement.classList.add('js');

	// 显示左右肋骨、椎骨编号: the ribs' and vertebrae's labels over the
	// slice, on or off.
	var ovlToggle = document.getElementById('toggle-overlays');
	var ovl = document.getElementById('overlays');
	if (ovlToggle !== null && ovl !== null)
		ovlToggle.addEventListener('change', function () {
			ovl.style.display = ovlToggle.checked ? '' : 'none';
		});

	function setParam(href, key, value) {
		var u = new URL(href, window.location.href);
		u.searchParams.set(key, String(value));
		return u.pathname + u.search + u.hash;
	}

	// The viewer: the state is z (from 0) and the window; everything
	// shown follows from them.
	function setupViewer() {
		var img = document.getElementById('slice-img');
		if (viewer === null || img === null)
			return null;
		var stage = document.getElementById('stage');
		var range = document.getElementById('slice-range');
		var prev = document.getElementById('slice-prev');
		var next = document.getElementById('slice-next');
		var label = document.getElementById('slice-no');
		var navWindow = document.querySelector('#slice-nav input[name=window]');
		var upZ = document.getElementById('upload-z');
		var upWindow = document.getElementById('upload-window');
		var keyZ = document.getElementById('key-z');
		var keyWindow = document.getElementById('key-window');
		var keyHere = document.getElementById('key-here');
		var job = viewer.dataset.job;
		var n = Number(viewer.dataset.n);
		var z = Number(viewer.dataset.z);
		var win = viewer.dataset.window;

		img.addEventListener('load', function () {
			stage.classList.remove('loading', 'broken');
		});
		img.addEventListener('error', function () {
			stage.classList.remove('loading');
			stage.classList.add('broken');
		});

		function show(k, w) {
			k = Math.max(0, Math.min(n - 1, Math.round(k)));
			if (w === undefined)
				w = win;
			if (k === z && w === win)
				return;
			z = k;
			win = w;
			stage.classList.add('loading');
			img.src = '/ai/slice?job=' + encodeURIComponent(job) +
			    '&z=' + z + '&window=' + encodeURIComponent(win);
			img.alt = '第 ' + (z + 1) + ' 层影像';
			label.textContent = '第 ' + (z + 1) + ' / ' + n + ' 层';
			range.value = String(z);
			prev.href = setParam(prev.href, 'z', Math.max(0, z - 1));
			next.href = setParam(next.href, 'z', Math.min(n - 1, z + 1));
			prev.classList.toggle('off', z <= 0);
			next.classList.toggle('off', z >= n - 1);
			if (navWindow !== null)
				navWindow.value = win;
			if (upZ !== null)
				upZ.value = String(z);
			if (upWindow !== null)
				upWindow.value = win;
			// 设为关键图像 takes the slice and window shown.
			if (keyZ !== null)
				keyZ.value = String(z);
			if (keyWindow !== null)
				keyWindow.value = win;
			// 删除 comes back to the slice and window shown.
			document.querySelectorAll('form.lesion-delete').forEach(function (f) {
				f.elements.z.value = String(z);
				f.elements.window.value = win;
			});
			var keyed = false;
			document.querySelectorAll('#key-slices a.key-slice').forEach(function (a) {
				var on = Number(a.dataset.slice) === z;
				a.classList.toggle('on', on);
				keyed = keyed || on;
			});
			if (keyHere !== null)
				keyHere.hidden = !keyed;
			document.querySelectorAll('#boxes .box').forEach(function (g) {
				g.classList.toggle('off', Number(g.dataset.slice) !== z);
			});
			document.querySelectorAll('#overlays .ol').forEach(function (t) {
				t.classList.toggle('off', Number(t.dataset.slice) !== z);
			});
			document.querySelectorAll('#lesion-table tbody tr').forEach(function (tr) {
				tr.classList.toggle('here', Number(tr.dataset.slice) === z);
			});
			document.querySelectorAll('#windows a.win').forEach(function (a) {
				a.classList.toggle('on', a.dataset.window === win);
				a.href = setParam(a.href, 'z', z);
			});
			document.querySelectorAll('a.goto').forEach(function (a) {
				a.href = setParam(a.href, 'window', win);
			});
			document.querySelectorAll('#lesion-sort a.order').forEach(function (a) {
				a.href = setParam(setParam(a.href, 'z', z), 'window', win);
			});
			prev.href = setParam(prev.href, 'window', win);
			next.href = setParam(next.href, 'window', win);
			// A reload shows what is shown now.
			var here = new URL(window.location.href);
			here.searchParams.set('z', String(z));
			here.searchParams.set('window', win);
			here.hash = '';
			window.history.replaceState(null, '', here.pathname + here.search);
		}

		prev.addEventListener('click', function (ev) {
			ev.preventDefault();
			show(z - 1);
		});
		next.addEventListener('click', function (ev) {
			ev.preventDefault();
			show(z + 1);
		});
		range.addEventListener('input', function () {
			show(Number(range.value));
		});
		document.querySelectorAll('#windows a.win').forEach(function (a) {
			a.addEventListener('click', function (ev) {
				ev.preventDefault();
				show(z, a.dataset.window);
			});
		});
		// The wheel steps one slice per notch over the image.
		var wheel = 0;
		stage.addEventListener('wheel', function (ev) {
			ev.preventDefault();
			wheel += ev.deltaY;
			if (Math.abs(wheel) >= 50 || ev.deltaMode !== 0) {
				show(z + (wheel > 0 ? 1 : -1));
				wheel = 0;
			}
		}, { passive: false });
		document.addEventListener('keydown', function (ev) {
			var t = ev.target;
			if (ev.altKey || ev.ctrlKey || ev.metaKey ||
			    (t !== null && /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(t.tagName)))
				return;
			var step = { ArrowUp: -1, ArrowLeft: -1, PageUp: -10,
			    ArrowDown: 1, ArrowRight: 1, PageDown: 10 }[ev.key];
			if (ev.key === 'Home')
				show(0);
			else if (ev.key === 'End')
				show(n - 1);
			else if (step !== undefined)
				show(z + step);
			else
				return;
			ev.preventDefault();
		});
		// 关键影像 and the 层面 links of the table.
		document.querySelectorAll('a.goto').forEach(function (a) {
			a.addEventListener('click', function (ev) {
				ev.preventDefault();
				show(Number(a.dataset.slice));
				stage.scrollIntoView({ block: 'nearest' });
			});
		});
		return show;
	}

	// The lesion table: a click on a row (not on its checkbox) shows the
	// lesion's slice; a click on a header sorts by that column, again
	// the other way round.
	function setupTable(show) {
		if (table === null)
			return;
		var tbody = table.tBodies[0];
		tbody.addEventListener('click', function (ev) {
			var tr = ev.target.closest('tr');
			if (tr === null || ev.target.closest('input, label, a, button') !== null ||
			    show === null)
				return;
			show(Number(tr.dataset.slice));
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

	setupTable(setupViewer());
})();
