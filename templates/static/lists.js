// lists.js - small helps on the workflow lists; every page works without
// it.  保存常用筛选 saves what the filter form shows now (not only what was
// last searched); picking a date selects 自定义; on 请求协助 the upper
// hospitals shown are those of the chosen alliance; the 退回 and 取消
// popovers of a row stay inside the window.
'use strict';

// A row's popover (the form of details.act-return, details.act-cancel),
// just opened: under its link, or above it when the window has no room
// below and has it above; moved sideways so that it is whole inside the
// window (8 px from each side).
function placePopover(details) {
  const form = details.querySelector('form');
  if (!form) return;
  form.classList.remove('above');
  form.style.transform = '';
  const vw = document.documentElement.clientWidth;
  const vh = document.documentElement.clientHeight;
  const link = details.querySelector('summary').getBoundingClientRect();
  let r = form.getBoundingClientRect();
  if (r.bottom > vh - 8 && link.top - r.height - 8 >= 0) {
    form.classList.add('above');
    r = form.getBoundingClientRect();
  }
  let dx = 0;
  if (r.right > vw - 8) dx = vw - 8 - r.right;
  if (r.left + dx < 8) dx = 8 - r.left;
  if (dx !== 0) form.style.transform = `translateX(${Math.round(dx)}px)`;
  const box = form.querySelector('textarea');
  if (box) box.focus();
}

document.addEventListener('DOMContentLoaded', () => {
  // One popover open at a time; toggle does not bubble, so it is caught
  // on its way down.
  document.addEventListener('toggle', (e) => {
    const d = e.target;
    if (!(d instanceof HTMLDetailsElement) || !d.matches('.act-return, .act-cancel') || !d.open) return;
    for (const other of document.querySelectorAll('details.act-return[open], details.act-cancel[open]')) {
      if (other !== d) other.open = false;
    }
    placePopover(d);
  }, true);
  // Escape closes an open popover.
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    for (const d of document.querySelectorAll('details.act-return[open], details.act-cancel[open]')) {
      d.open = false;
      d.querySelector('summary').focus();
    }
  });
  const filter = document.getElementById('list-filter');
  const save = document.getElementById('filter-save');
  if (filter && save) {
    save.addEventListener('submit', () => {
      for (const name of ['q', 'match', 'time', 'from', 'to', 'tail', 'hospital', 'status', 'sort', 'mine']) {
        const src = filter.elements.namedItem(name);
        const dst = save.elements.namedItem(name);
        if (src && dst && 'value' in src) dst.value = src.value;
      }
    });
  }
  const time = document.getElementById('f-time');
  for (const id of ['f-from', 'f-to']) {
    const el = document.getElementById(id);
    if (el && time) el.addEventListener('change', () => { if (el.value) time.value = 'custom'; });
  }
  if (time) {
    time.addEventListener('change', () => {
      if (time.value !== 'custom') {
        for (const id of ['f-from', 'f-to']) {
          const el = document.getElementById(id);
          if (el) el.value = '';
        }
      }
    });
  }
  const alliance = document.getElementById('alliance');
  const target = document.getElementById('target');
  if (alliance && target) {
    const sync = () => {
      let first = null;
      for (const o of target.querySelectorAll('option')) {
        const on = o.dataset.alliance === alliance.value;
        o.hidden = !on;
        o.disabled = !on;
        if (on && !first) first = o;
      }
      for (const g of target.querySelectorAll('optgroup')) {
        g.hidden = !g.querySelector('option:not([disabled])');
      }
      const cur = target.selectedOptions[0];
      if ((!cur || cur.disabled) && first) first.selected = true;
    };
    alliance.addEventListener('change', sync);
    sync();
  }
});
