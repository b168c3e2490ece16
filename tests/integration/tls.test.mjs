// The production nginx configuration (nginx/production.conf) with its TLS
// server block, started for real with a throw-away certificate in front of
// the test stack's workers: cookies get the __Host- prefix and Secure, HSTS
// is sent, plain HTTP redirects to HTTPS.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { ROOT_DIR, STATE, PASSWORD, hiddenCsrf, sleep } from './helpers.mjs';

const skip = STATE ? false : 'no test stack (run through tests/run.sh)';

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function fetchTls(port, path, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, rejectUnauthorized: false }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: data }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

test('TLS server block: __Host- cookies, Secure, HSTS, HTTP redirect', { skip }, async (t) => {
  const dir = `${STATE}/tls`;
  for (const d of ['', '/client_body', '/fastcgi', '/proxy', '/uwsgi', '/scgi']) mkdirSync(dir + d, { recursive: true });
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-keyout', `${dir}/privkey.pem`, '-out', `${dir}/fullchain.pem`], { stdio: 'ignore' });
  const httpPort = await freePort(), httpsPort = await freePort();
  const fcgiPort = process.env.ZY_FCGI_PORT;
  let conf = readFileSync(`${ROOT_DIR}/nginx/production.conf`, 'utf8');
  conf = conf
    .replace(/server 127\.0\.0\.1:9000 /g, `server 127.0.0.1:${fcgiPort} `)
    .replace(/listen 80;/, `listen 127.0.0.1:${httpPort};`)
    .replace(/listen \[::\]:80;\n/, '')
    .replace(/listen 443 ssl http2;/, `listen 127.0.0.1:${httpsPort} ssl http2;`)
    .replace(/listen \[::\]:443 ssl http2;\n/, '')
    .replaceAll('zhiying.example.org', 'localhost')
    .replace('/etc/ssl/zhiying/fullchain.pem', `${dir}/fullchain.pem`)
    .replace('/etc/ssl/zhiying/privkey.pem', `${dir}/privkey.pem`)
    .replaceAll('/etc/nginx/zhiying-locations.conf', `${STATE}/nginx/locations.conf`)
    .replace('/var/log/nginx/zhiying-access.log', `${dir}/access.log`);
  assert.doesNotMatch(conf, /\/etc\/ssl\/zhiying|zhiying-locations/);
  writeFileSync(`${dir}/site.conf`, conf);
  writeFileSync(`${dir}/nginx.conf`, `
${process.getuid() === 0 ? 'user root;' : ''}
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  client_body_temp_path ${dir}/client_body;
  fastcgi_temp_path ${dir}/fastcgi;
  proxy_temp_path ${dir}/proxy;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${dir}/site.conf;
}
`);
  execFileSync('nginx', ['-p', dir, '-c', `${dir}/nginx.conf`, '-t', '-q']);
  execFileSync('nginx', ['-p', dir, '-c', `${dir}/nginx.conf`]);
  t.after(() => {
    try { process.kill(Number(readFileSync(`${dir}/nginx.pid`, 'utf8')), 'SIGTERM'); } catch { /* gone */ }
  });

  // Plain HTTP only redirects.
  const plain = await new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port: httpPort, path: '/login', headers: { host: 'localhost' } },
      (res) => { res.resume(); resolve(res); }).on('error', reject).end();
  });
  assert.equal(plain.statusCode, 301);
  assert.equal(plain.headers.location, 'https://localhost/login');

  const page = await fetchTls(httpsPort, '/login');
  assert.equal(page.status, 200);
  assert.match(page.headers['strict-transport-security'], /max-age=31536000/);
  const loginCookie = page.headers['set-cookie'].find((c) => c.startsWith('__Host-zy_login='));
  assert.ok(loginCookie, 'login cookie carries the __Host- prefix');
  assert.match(loginCookie, /; Secure/);
  assert.match(loginCookie, /HttpOnly/);
  assert.doesNotMatch(loginCookie, /Domain=/i);

  const token = loginCookie.split(';')[0].split('=')[1];
  const csrf = hiddenCsrf(page.text);
  assert.match(csrf, /^[A-Za-z0-9_-]{86}$/, 'the form carries the cookie\'s token masked');
  assert.ok(!page.text.includes(token));
  const res = await fetchTls(httpsPort, '/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `__Host-zy_login=${token}` },
    body: new URLSearchParams({ csrf, login: 'yb_resident', password: PASSWORD, next: '' }).toString(),
  });
  assert.equal(res.status, 303);
  const session = res.headers['set-cookie'].find((c) => c.startsWith('__Host-zy_session='));
  assert.ok(session);
  assert.match(session, /; Secure/);
  const home = await fetchTls(httpsPort, '/', { headers: { cookie: session.split(';')[0] } });
  assert.equal(home.status, 200);
  assert.match(home.text, /周子健/);
  // A search for a patient leaves no name in the access log.
  await fetchTls(httpsPort, `/worklist?q=${encodeURIComponent('王秘密')}`, { headers: { cookie: session.split(';')[0] } });
  // nginx writes the access log line after the response has gone out:
  // wait for it rather than race it.
  let log = '';
  for (let i = 0; i < 100 && !/"GET \/worklist HTTP\/1\.1"/.test(log); i++) {
    if (i > 0) await sleep(20);
    log = readFileSync(`${dir}/access.log`, 'utf8');
  }
  assert.match(log, /"GET \/worklist HTTP\/1\.1" 200/);
  assert.doesNotMatch(log, /%E7%8E%8B|王秘密|csrf=|\?q=/);
  // The plain cookie name means nothing over TLS.
  const plainName = await fetchTls(httpsPort, '/', { headers: { cookie: `zy_session=${session.split(';')[0].split('=')[1]}` } });
  assert.equal(plainName.status, 303);
});
