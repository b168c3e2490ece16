// lists.js - small helps on the workflow lists; every page works without
// it.  保存常用筛选 saves what the filter form shows now (not only what was
// last searched); picking a date selects 自定义; on 请求协助 the upper
// hospitals shown are those of the chosen alliance.
'use strict';

document.addEventListener('DOMContentLoaded', () => {
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
