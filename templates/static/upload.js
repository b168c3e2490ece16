// upload.js - upload files to an application with a progress bar.
// The files go by XMLHttpRequest with the form's CSRF token in a header
// (an upload streams its body, so the token cannot come in it) and the
// answer (JSON) is listed under the form, then the page reloads to show
// the new studies.
'use strict';

(function () {
  function show(list, files) {
    list.textContent = '';
    files.forEach(function (f) {
      var li = document.createElement('li');
      var name = document.createElement('span');
      li.className = f.ok ? 'ok' : 'bad';
      name.className = 'fname';
      name.textContent = f.name;
      li.appendChild(name);
      li.appendChild(document.createTextNode('：' + f.message));
      list.appendChild(li);
    });
  }

  function send(form) {
    var input = form.querySelector('input[type=file]');
    var bar = form.querySelector('.upload-progress');
    var status = form.querySelector('.upload-status');
    var list = form.parentNode.querySelector('.upload-results');
    var button = form.querySelector('button');
    var data, xhr, i;

    if (!input.files || input.files.length === 0) {
      status.textContent = '请选择要上传的文件';
      return;
    }
    data = new FormData();
    for (i = 0; i < input.files.length; i++) {
      data.append('files', input.files[i], input.files[i].name);
    }
    xhr = new XMLHttpRequest();
    xhr.open('POST', form.getAttribute('action'));
    xhr.setRequestHeader('Accept', 'application/json');
    // The token goes in a header, never in the URL, where logs keep it.
    xhr.setRequestHeader('X-CSRF-Token', form.querySelector('input[name=csrf]').value);
    bar.hidden = false;
    bar.value = 0;
    button.disabled = true;
    status.textContent = '正在上传…';
    xhr.upload.addEventListener('progress', function (e) {
      if (e.lengthComputable) {
        bar.value = Math.round(e.loaded * 100 / e.total);
        status.textContent = '已上传 ' + bar.value + '%';
      }
    });
    xhr.upload.addEventListener('load', function () {
      status.textContent = '上传完成，正在检查文件…';
    });
    xhr.addEventListener('load', function () {
      var res = null;
      button.disabled = false;
      try { res = JSON.parse(xhr.responseText); } catch (e) { res = null; }
      if (!res && (xhr.status === 502 || xhr.status === 504)) {
        status.textContent = '上传未完成（' + xhr.status + '）：已保存的影像不会丢失（患者信息与申请单不一致的在申请单页面待核对），' +
          '请重新上传全部文件，已保存的不会重复保存';
        return;
      }
      if (!res) {
        status.textContent = '上传失败（' + xhr.status + '），请刷新页面后重试';
        return;
      }
      show(list, res.files || []);
      status.textContent = res.error ? res.error :
        '成功 ' + ((res.stored || 0) + (res.duplicate || 0)) + ' 个，未通过 ' + (res.refused || 0) + ' 个' +
        (res.held ? '，其中 ' + res.held + ' 个的患者信息与申请单不一致，待核对' : '');
      if ((res.stored || 0) + (res.duplicate || 0) > 0) {
        status.textContent += '，页面将刷新';
        // Reload without ?created=1, whose notice belongs to the form.
        setTimeout(function () {
          var u = new URL(window.location.href);
          u.searchParams.delete('created');
          window.location.replace(u.toString());
        }, 2500);
      }
    });
    xhr.addEventListener('error', function () {
      button.disabled = false;
      status.textContent = '网络错误，上传未完成';
    });
    xhr.send(data);
  }

  document.querySelectorAll('form.upload-form').forEach(function (form) {
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      send(form);
    });
  });
})();
