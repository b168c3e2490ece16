// apply-upload.js - the 申请 form with its images and records.
// Files chosen on the form go once the application exists: the form is
// posted as it is without them, and when it lands on the new
// application, the DICOM files and then the records are uploaded to it
// with a progress bar (the same upload as on the application page, with
// the form's CSRF token in a header).  A form with errors comes back as
// it would without files.  Without files the form is posted as usual.
'use strict';

(function () {
  var form = document.getElementById('apply-form');
  var dicom = document.getElementById('apply-dicom');
  var att = document.getElementById('apply-attachments');
  var bar = document.getElementById('apply-progress');
  var status = document.getElementById('apply-status');
  var list = document.getElementById('apply-results');
  var button = document.getElementById('submit');
  var busy = false;

  if (!form || !dicom || !att)
    return;

  function chosen(input) {
    return input.files ? Array.prototype.slice.call(input.files) : [];
  }

  function show(files) {
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

  // Upload files of one kind to application id; done(answer or null).
  function upload(kind, label, id, files, done) {
    var data = new FormData();
    var xhr = new XMLHttpRequest();

    files.forEach(function (f) { data.append('files', f, f.name); });
    xhr.open('POST', '/upload/' + kind + '?id=' + encodeURIComponent(id));
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('X-CSRF-Token', form.querySelector('input[name=csrf]').value);
    bar.hidden = false;
    bar.value = 0;
    status.textContent = '正在上传' + label + '…';
    xhr.upload.addEventListener('progress', function (e) {
      if (e.lengthComputable) {
        bar.value = Math.round(e.loaded * 100 / e.total);
        status.textContent = '正在上传' + label + ' ' + bar.value + '%';
      }
    });
    xhr.upload.addEventListener('load', function () {
      status.textContent = label + '上传完成，正在检查文件…';
    });
    xhr.addEventListener('load', function () {
      var res = null;
      try { res = JSON.parse(xhr.responseText); } catch (e) { res = null; }
      done(res, xhr.status);
    });
    xhr.addEventListener('error', function () { done(null, 0); });
    xhr.send(data);
  }

  function finish(id, ok, bad, held) {
    var href = '/application?id=' + encodeURIComponent(id) + '&created=1';
    var a;

    status.textContent = '申请已提交。文件成功 ' + ok + ' 个，未通过 ' + bad + ' 个' +
      (held ? '，其中 ' + held + ' 个影像的患者信息与申请单不一致，待核对' : '');
    if (bad === 0) {
      status.textContent += '，正在打开申请单';
      window.location.replace(href);
      return;
    }
    // Something was refused: the reasons stay in view.
    a = document.createElement('a');
    a.href = href;
    a.id = 'apply-open';
    a.className = 'button';
    a.textContent = '查看申请单';
    status.appendChild(document.createTextNode('。'));
    status.parentNode.appendChild(a);
  }

  function sendFiles(id) {
    var d = chosen(dicom), t = chosen(att);
    var ok = 0, bad = 0, held = 0;

    function tally(res, code, files) {
      if (res && res.files) {
        show(res.files);
        res.files.forEach(function (f) { if (f.ok) ok++; else bad++; });
        held += res.held || 0;
      } else {
        bad += files.length;
        show(files.map(function (f) {
          return { name: f.name, ok: false,
            message: '上传未完成（' + code + '），请在申请单页重新上传' };
        }));
      }
    }
    function records() {
      if (t.length === 0)
        return finish(id, ok, bad, held);
      upload('attachment', '病历附件', id, t, function (res, code) {
        tally(res, code, t);
        finish(id, ok, bad, held);
      });
    }
    if (d.length === 0)
      return records();
    upload('dicom', '影像文件', id, d, function (res, code) {
      tally(res, code, d);
      records();
    });
  }

  form.addEventListener('submit', function (e) {
    var body;

    if (busy) {
      e.preventDefault();
      return;
    }
    if (chosen(dicom).length + chosen(att).length === 0)
      return;
    e.preventDefault();
    busy = true;
    button.disabled = true;
    list.textContent = '';
    status.textContent = '正在提交申请…';
    body = new URLSearchParams(new FormData(form));
    fetch(form.getAttribute('action'), { method: 'POST', body: body, credentials: 'same-origin' })
      .then(function (r) {
        var u = new URL(r.url);
        if (r.ok && u.pathname === '/application' && u.searchParams.get('id')) {
          sendFiles(u.searchParams.get('id'));
          return null;
        }
        // Not created (a field to correct): that page, as a plain post
        // would show it.
        return r.text().then(function (html) {
          document.open();
          document.write(html);
          document.close();
        });
      })
      .catch(function () {
        busy = false;
        button.disabled = false;
        status.textContent = '网络错误，申请未提交，请重试';
      });
  });
})();
