// 统计: a change of the time granularity applies at once; the other
// fields wait for 统计.  An end date before the start date is swapped by
// the server, so nothing is refused here.
(function () {
  'use strict';
  var form = document.getElementById('stats-filter');
  var grain = document.getElementById('s-grain');
  if (!form || !grain) return;
  grain.addEventListener('change', function () { form.submit(); });
})();
