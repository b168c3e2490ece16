// nginx in front of the workers: compression of pages, CSS and JS for a
// client that accepts it, and the cache life of static files, long for
// the fingerprinted names the pages write and short for plain names.
// Raw HTTP (node:http does not decompress), through the test stack's
// nginx and workers.
import test from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Client, URL_BASE, ROOT_DIR, unescapeHtml } from './helpers.mjs';

const skip = URL_BASE ? false : 'ZY_URL is not set';
const STATIC = `${ROOT_DIR}/templates/static`;

// GET path; the body as it came over the wire, and decompressed.
function get(path, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(URL_BASE + path, { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const gz = res.headers['content-encoding'] === 'gzip';
        resolve({ status: res.statusCode, headers: res.headers, raw, body: gz ? gunzipSync(raw) : raw });
      });
    });
    req.on('error', reject);
  });
}

// The 64-bit FNV-1a of a file's bytes, in hex: its fingerprint.
function fnv1a64(buf) {
  let h = 0xcbf29ce484222325n;
  for (const b of buf) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h.toString(16).padStart(16, '0');
}

const GZIP = { 'accept-encoding': 'gzip' };

test('pages are compressed for a client that accepts gzip, and only then', { skip }, async () => {
  const z = await get('/login', GZIP);
  assert.equal(z.status, 200);
  assert.equal(z.headers['content-encoding'], 'gzip');
  assert.match(z.headers.vary, /Accept-Encoding/);
  assert.match(z.body.toString('utf8'), /用户登录/);
  assert.ok(z.raw.length < z.body.length * 0.7, `${z.raw.length} bytes for ${z.body.length}`);
  const plain = await get('/login');
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.match(plain.body.toString('utf8'), /用户登录/);
});

test('a logged-in page from the workers is compressed too', { skip }, async () => {
  const c = new Client();
  await c.login('yb_resident');
  const z = await get('/worklist', { ...GZIP, cookie: c.cookieHeader() });
  assert.equal(z.status, 200);
  assert.equal(z.headers['content-encoding'], 'gzip');
  assert.match(z.body.toString('utf8'), /待诊断/);
  console.log(`# /worklist: ${z.raw.length} bytes compressed, ${z.body.length} bytes`);
});

test('static CSS and JS: fingerprinted names, compressed, cached for a year; plain names briefly', { skip }, async () => {
  const c = new Client();
  await c.login('yb_resident');
  const page = await get('/worklist', { cookie: c.cookieHeader() });
  const html = page.body.toString('utf8');
  const urls = [...html.matchAll(/(?:href|src)="([^"]*)"/g)].map((m) => unescapeHtml(m[1]))
    .filter((u) => u.startsWith('/static/'));
  const css = urls.find((u) => /^\/static\/zhiying\.[0-9a-f]{16}\.css$/.test(u));
  const js = urls.find((u) => /^\/static\/lists\.[0-9a-f]{16}\.js$/.test(u));
  assert.ok(css, `the stylesheet by its fingerprint: ${urls}`);
  assert.ok(js, `the list script by its fingerprint: ${urls}`);
  assert.ok(!urls.some((u) => /^\/static\/[a-z]+\.(css|js)$/.test(u)), `no plain names: ${urls}`);

  for (const [url, file, type] of [[css, 'zhiying.css', /^text\/css/], [js, 'lists.js', /javascript/]]) {
    const want = readFileSync(`${STATIC}/${file}`);
    // The fingerprint is that of the file's content.
    assert.equal(url.split('.')[1], fnv1a64(want), url);
    const z = await get(url, GZIP);
    assert.equal(z.status, 200, url);
    assert.match(z.headers['content-type'], type);
    assert.equal(z.headers['content-encoding'], 'gzip', url);
    assert.deepEqual(z.body, want);
    assert.equal(z.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(z.headers['x-content-type-options'], 'nosniff');
    console.log(`# ${url}: ${z.raw.length} bytes compressed, ${want.length} bytes`);
    // The plain name: the same file, kept five minutes.
    const p = await get(`/static/${file}`, GZIP);
    assert.equal(p.status, 200);
    assert.equal(p.headers['content-encoding'], 'gzip');
    assert.equal(p.headers['cache-control'], 'max-age=300');
    assert.deepEqual(p.body, want);
  }
  // A fingerprinted name of a file that is not there.
  assert.equal((await get('/static/nothere.0123456789abcdef.css')).status, 404);
  // Nothing outside the folder: a name is one path segment (nginx refuses
  // the encoded slashes, or finds no such file).
  assert.ok([400, 404].includes((await get('/static/..%2F..%2Fzhiying.0123456789abcdef.sh')).status));
});
