'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { createUploader, UploadError } = require('../ossgate')
const { createFakeAdapter, ticketAnswer, ossError, signerError } = require('./fake-adapter')
const retry = require('../ossgate/retry')

const FAST = { retryDelays: [1, 1, 1], baseUrl: 'https://signer.example' }

function uploader (adapter, extra) {
  return createUploader(Object.assign({ adapter }, FAST, extra || {}))
}

test('ticket then form upload, fields in order, file last', async () => {
  const adapter = createFakeAdapter({ request: [ticketAnswer()], uploadFile: [{ status: 200, data: '' }] })
  const res = await uploader(adapter).upload({ filePath: 'wxfile://tmp/a.JPG', size: 10, contentType: 'image/jpeg' })
  assert.deepEqual(res, { key: 'uploads/anonymous/default/2026/11/29/abc.jpg', size: 10 })
  const ticketCall = adapter.calls.request[0]
  assert.equal(ticketCall.url, 'https://signer.example/v1/uploads')
  assert.deepEqual(JSON.parse(ticketCall.body), { size: 10, contentType: 'image/jpeg', filename: 'a.JPG' })
  assert.equal(ticketCall.headers.Authorization, undefined)
  const upload = adapter.calls.uploadFile[0]
  assert.equal(upload.url, 'https://bucket.oss-cn-hangzhou.aliyuncs.com')
  assert.deepEqual(Object.keys(upload.fields), ['key', 'policy', 'x-oss-signature'])
  assert.equal(upload.filePath, 'wxfile://tmp/a.JPG')
})

test('the callback answer comes back as data, with its etag', async () => {
  const callback = { key: 'k', size: 10, etag: 'ABC', mimeType: 'image/png', width: 3, height: 4 }
  const adapter = createFakeAdapter({ request: [ticketAnswer()], uploadFile: [{ status: 200, data: JSON.stringify(callback) }] })
  const res = await uploader(adapter).upload({ filePath: 'a', size: 10 })
  assert.deepEqual(res.data, callback)
  assert.equal(res.etag, 'ABC')
})

test('size is read from the file when not given; 0 bytes and missing files fail plainly', async () => {
  const adapter = createFakeAdapter({ request: [ticketAnswer()], uploadFile: [{ status: 200, data: '' }], fileSize: () => Promise.resolve(42) })
  assert.equal((await uploader(adapter).upload({ filePath: 'a' })).size, 42)
  const empty = createFakeAdapter({ fileSize: () => Promise.resolve(0) })
  await assert.rejects(uploader(empty).upload({ filePath: 'a' }), { name: 'UploadError', code: 'empty_file' })
  const missing = createFakeAdapter({ fileSize: () => Promise.reject({ errMsg: 'getFileInfo:fail file not found' }) })
  await assert.rejects(uploader(missing).upload({ filePath: 'nope' }), (e) => e.code === 'file_unreadable' && /not found/.test(e.message))
  await assert.rejects(uploader(createFakeAdapter()).upload({}), { code: 'invalid_argument' })
  assert.equal(empty.calls.request.length + missing.calls.request.length, 0)
})

test('network failures and 5xx are retried with backoff, then succeed', async () => {
  const adapter = createFakeAdapter({
    request: [{ errMsg: 'request:fail timeout' }, signerError(503, 'credentials_unavailable', 'x'), ticketAnswer()],
    uploadFile: [ossError(503, 'ServiceUnavailable', 'busy'), { status: 200, data: '' }]
  })
  await uploader(adapter).upload({ filePath: 'a', size: 10 })
  assert.equal(adapter.calls.request.length, 3)
  assert.equal(adapter.calls.uploadFile.length, 2)
})

test('429 from the signer is retried', async () => {
  const adapter = createFakeAdapter({ request: [signerError(429, 'rate_limited', 'slow down'), ticketAnswer()], uploadFile: [{ status: 200, data: '' }] })
  await uploader(adapter).upload({ filePath: 'a', size: 10 })
  assert.equal(adapter.calls.request.length, 2)
})

test('an expired policy or a skewed clock gets a fresh ticket', async () => {
  for (const failure of [ossError(403, 'AccessDenied', 'Invalid according to Policy: Policy expired.'),
    ossError(403, 'RequestTimeTooSkewed', 'too skewed')]) {
    const adapter = createFakeAdapter({ request: [ticketAnswer('k1'), ticketAnswer('k2')], uploadFile: [failure, { status: 200, data: '' }] })
    const res = await uploader(adapter).upload({ filePath: 'a', size: 10 })
    assert.equal(res.key, 'k2')
    assert.equal(adapter.calls.request.length, 2)
  }
})

test('other OSS 4xx are final and carry OSS\'s code, message, request id and a hint', async () => {
  const adapter = createFakeAdapter({ request: [ticketAnswer()], uploadFile: [ossError(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match')] })
  await assert.rejects(uploader(adapter).upload({ filePath: 'a', size: 10 }), (e) => {
    assert.ok(e instanceof UploadError && e instanceof Error)
    assert.equal(e.code, 'oss_rejected')
    assert.equal(e.status, 403)
    assert.equal(e.ossCode, 'SignatureDoesNotMatch')
    assert.match(e.ossMessage, /does not match/)
    assert.equal(e.requestId, 'RID1')
    assert.match(e.hint, /fields exactly as given/)
    return true
  })
  assert.equal(adapter.calls.uploadFile.length, 1)
})

test('signer refusals are final: unknown profile, too large, unsupported type', async () => {
  for (const [status, code] of [[404, 'unknown_profile'], [413, 'file_too_large'], [415, 'unsupported_type'], [400, 'bad_request']]) {
    const adapter = createFakeAdapter({ request: [signerError(status, code, 'because')] })
    await assert.rejects(uploader(adapter).upload({ filePath: 'a', size: 10, profile: 'x' }),
      (e) => e.code === 'ticket_refused' && e.status === status && e.message === 'because' && e.requestId === 'fc-1')
    assert.equal(adapter.calls.request.length, 1)
  }
})

test('an unreachable signer ends in one network error with a hint', async () => {
  const adapter = createFakeAdapter({ request: () => Promise.reject({ errMsg: 'request:fail url not in domain list' }) })
  await assert.rejects(uploader(adapter).upload({ filePath: 'a', size: 10 }), (e) => {
    assert.equal(e.code, 'network')
    assert.match(e.hint, /legal domain list/)
    return true
  })
  assert.equal(adapter.calls.request.length, 4)
})

test('a callback failure (203) is reported, not retried', async () => {
  const adapter = createFakeAdapter({ request: [ticketAnswer()], uploadFile: [ossError(203, 'CallbackFailed', 'callback failed')] })
  await assert.rejects(uploader(adapter).upload({ filePath: 'a', size: 10 }), { code: 'callback_failed', ossCode: 'CallbackFailed' })
})

test('abort before, during the upload and during backoff', async () => {
  const before = new AbortController()
  before.abort()
  await assert.rejects(uploader(createFakeAdapter()).upload({ filePath: 'a', size: 1, signal: before.signal }), { code: 'aborted' })

  const during = new AbortController()
  const adapter = createFakeAdapter({
    request: [ticketAnswer()],
    uploadFile: [(req) => new Promise((resolve, reject) => {
      req.signal.addEventListener('abort', () => reject(new UploadError('aborted', 'aborted')))
      setTimeout(() => during.abort(), 5)
    })]
  })
  await assert.rejects(uploader(adapter).upload({ filePath: 'a', size: 1, signal: during.signal }), { code: 'aborted' })

  const backoff = new AbortController()
  const slow = createFakeAdapter({ request: [{ errMsg: 'fail' }] })
  const pending = createUploader({ adapter: slow, baseUrl: 'x', retryDelays: [10000] }).upload({ filePath: 'a', size: 1, signal: backoff.signal })
  setTimeout(() => backoff.abort(), 5)
  await assert.rejects(pending, { code: 'aborted' })
})

test('progress is monotonic, ends at 1, and never goes back on a retry', async () => {
  const events = []
  const adapter = createFakeAdapter({
    request: [ticketAnswer()],
    uploadFile: [
      (req) => { req.onProgress({ loaded: 5, progress: 0.5 }); return Promise.resolve(ossError(500, 'InternalError', 'x')) },
      (req) => { req.onProgress({ loaded: 2, progress: 0.2 }); req.onProgress({ loaded: 8, progress: 0.8 }); return Promise.resolve({ status: 200, data: '' }) }
    ]
  })
  await uploader(adapter).upload({ filePath: 'a', size: 10, onProgress: (e) => events.push(e) })
  assert.deepEqual(events.map((e) => e.progress), [0.5, 0.8, 1])
  assert.deepEqual(events[2], { progress: 1, loaded: 10, total: 10 })
})

test('the queue keeps concurrent uploads at the limit', async () => {
  let inFlight = 0
  let peak = 0
  const adapter = createFakeAdapter({
    request: () => Promise.resolve(ticketAnswer()),
    uploadFile: () => { inFlight++; peak = Math.max(peak, inFlight); return new Promise((resolve) => setTimeout(() => { inFlight--; resolve({ status: 200, data: '' }) }, 10)) }
  })
  const up = uploader(adapter, { concurrency: 2 })
  await Promise.all(Array.from({ length: 7 }, () => up.upload({ filePath: 'a', size: 1 })))
  assert.equal(peak, 2)
  const capped = uploader(createFakeAdapter(), { concurrency: 50 })
  assert.ok(capped)
})

test('auth { getToken }: bearer header, refresh after a 401', async () => {
  const asked = []
  const adapter = createFakeAdapter({ request: [signerError(401, 'unauthorized', 'expired'), ticketAnswer()], uploadFile: [{ status: 200, data: '' }] })
  const up = uploader(adapter, { auth: { getToken: (o) => { asked.push(o.refresh); return o.refresh ? 'new' : 'old' } } })
  await up.upload({ filePath: 'a', size: 1 })
  assert.deepEqual(asked, [false, true])
  assert.equal(adapter.calls.request[1].headers.Authorization, 'Bearer new')
})

test('auth { getToken }: concurrent uploads share one getToken call, and one refresh after 401s', async () => {
  const asked = []
  let release
  const gate = new Promise((resolve) => { release = resolve })
  let current = 'old' // the app's token: a refresh replaces it
  const getToken = (o) => { asked.push(o.refresh); return gate.then(() => { if (o.refresh) current = 'new'; return current }) }
  let ticketCalls = 0
  const adapter = createFakeAdapter({
    request: (req) => {
      ticketCalls++
      return Promise.resolve(req.headers.Authorization === 'Bearer old' ? signerError(401, 'unauthorized', 'expired') : ticketAnswer())
    },
    uploadFile: () => Promise.resolve({ status: 200, data: '' })
  })
  const up = uploader(adapter, { auth: { getToken }, concurrency: 3 })
  const uploads = Promise.all(['a', 'b', 'c'].map((f) => up.upload({ filePath: f, size: 1 })))
  await new Promise((resolve) => setTimeout(resolve, 5))
  release()
  await uploads
  assert.deepEqual(asked, [false, true]) // one login for three uploads, one refresh for three 401s
  assert.equal(ticketCalls, 6)
  assert.ok(adapter.calls.request.slice(3).every((r) => r.headers.Authorization === 'Bearer new'))
  // settled: a later upload asks the app again (the app decides whether its token is still good)
  await up.upload({ filePath: 'd', size: 1 })
  assert.deepEqual(asked, [false, true, false])
})

test('auth { getToken }: a 401 for a token a refresh already replaced retries without another refresh', async () => {
  const asked = []
  let current = 'old'
  const getToken = (o) => { asked.push(o.refresh); if (o.refresh) current = 'new'; return current }
  const adapter = createFakeAdapter({
    request: (req) => {
      const refused = req.headers.Authorization === 'Bearer old'
      const late = JSON.parse(req.body).filename === 'late' // its 401 arrives after the other upload refreshed
      return new Promise((resolve) => setTimeout(() => resolve(refused ? signerError(401, 'unauthorized', 'expired') : ticketAnswer()), late ? 40 : 1))
    },
    uploadFile: () => Promise.resolve({ status: 200, data: '' })
  })
  const up = uploader(adapter, { auth: { getToken } })
  await Promise.all([up.upload({ filePath: 'a', size: 1, filename: 'early' }), up.upload({ filePath: 'b', size: 1, filename: 'late' })])
  assert.equal(asked.filter(Boolean).length, 1)
})

test("auth 'wechat': one login for concurrent uploads, token kept in storage, one re-login on 401", async () => {
  const session = (t) => ({ status: 200, data: JSON.stringify({ token: t, expiresAt: new Date(Date.now() + 3600e3).toISOString(), userId: 'u1' }) })
  const adapter = createFakeAdapter({
    request: (req) => {
      if (req.url.endsWith('/v1/session')) return Promise.resolve(session('T' + adapter.calls.login))
      return Promise.resolve(ticketAnswer())
    },
    uploadFile: () => Promise.resolve({ status: 200, data: '' })
  })
  const up = uploader(adapter, { auth: 'wechat' })
  await Promise.all([up.upload({ filePath: 'a', size: 1 }), up.upload({ filePath: 'b', size: 1 })])
  assert.equal(adapter.calls.login, 1)
  assert.equal(adapter.store['ossgate.session'].token, 'T1')
  const tickets = adapter.calls.request.filter((r) => r.url.endsWith('/v1/uploads'))
  assert.ok(tickets.every((r) => r.headers.Authorization === 'Bearer T1'))

  // a second uploader (next app launch) reuses the stored session
  await uploader(adapter, { auth: 'wechat' }).upload({ filePath: 'c', size: 1 })
  assert.equal(adapter.calls.login, 1)
})

test("auth 'wechat': a stale stored session and a 401 each cause exactly one login", async () => {
  const adapter = createFakeAdapter({ request: [], uploadFile: () => Promise.resolve({ status: 200, data: '' }) })
  adapter.store['ossgate.session'] = { token: 'old', expiresAt: new Date(Date.now() + 1000).toISOString() }
  let ticketCalls = 0
  adapter.calls.request = []
  const script = (req) => {
    if (req.url.endsWith('/v1/session')) return Promise.resolve({ status: 200, data: JSON.stringify({ token: 'fresh' + adapter.calls.login, expiresAt: new Date(Date.now() + 3600e3).toISOString() }) })
    ticketCalls++
    return Promise.resolve(ticketCalls === 1 ? signerError(401, 'unauthorized', 'revoked') : ticketAnswer())
  }
  const up = createUploader(Object.assign({ adapter: Object.assign(adapter, { request: (r) => { adapter.calls.request.push(r); return script(r) } }), auth: 'wechat' }, FAST))
  await up.upload({ filePath: 'a', size: 1 })
  assert.equal(adapter.calls.login, 2)
  assert.equal(adapter.store['ossgate.session'].token, 'fresh2')
})

test("login failures surface as login_failed", async () => {
  const adapter = createFakeAdapter({ request: [signerError(401, 'invalid_code', 'code used')], login: () => Promise.resolve('c') })
  await assert.rejects(uploader(adapter, { auth: 'wechat' }).upload({ filePath: 'a', size: 1 }), { code: 'login_failed', status: 401 })
  const noWx = createFakeAdapter({ login: () => Promise.reject({ errMsg: 'login:fail' }) })
  await assert.rejects(uploader(noWx, { auth: 'wechat' }).upload({ filePath: 'a', size: 1 }), { code: 'login_failed' })
})

test('retry rules are data: the first matching rule decides', () => {
  assert.equal(retry.decide({ code: 'network' }), 'retry')
  assert.equal(retry.decide({ source: 'oss', status: 403, ossCode: 'AccessDenied', ossMessage: 'Policy expired.' }), 'new_ticket')
  assert.equal(retry.decide({ source: 'oss', status: 403, ossCode: 'AccessDenied', ossMessage: 'Policy Condition failed' }), 'fail')
  assert.equal(retry.decide({ code: 'ticket_refused', source: 'signer', status: 401 }), 'relogin')
  assert.equal(retry.decide({ code: 'login_failed', source: 'signer', status: 401 }), 'fail')
  assert.equal(retry.decide({ source: 'signer', status: 502 }), 'retry')
  assert.equal(retry.decide({ source: 'signer', status: 413 }), 'fail')
  const delays = [0, 1, 2, 3].map((n) => retry.backoff(n, [100, 200], () => 1))
  assert.deepEqual(delays, [100, 200, 200, 200])
  assert.equal(retry.backoff(0, [100], () => 0), 50)
})

test('nothing touches wx or window at import time', () => {
  const { execFileSync } = require('node:child_process')
  const out = execFileSync(process.execPath, ['-e', `
    const trap = new Proxy({}, { get () { throw new Error('touched at import') } });
    Object.defineProperty(globalThis, 'wx', { get () { throw new Error('wx touched at import') }, configurable: true });
    Object.defineProperty(globalThis, 'window', { get () { throw new Error('window touched at import') }, configurable: true });
    const m = require(${JSON.stringify(require.resolve('../ossgate'))});
    m.createUploader({ baseUrl: 'https://x', platform: 'wx' });
    m.createUploader({ baseUrl: 'https://x', platform: 'browser' });
    console.log('ok')`]).toString().trim()
  assert.equal(out, 'ok')
})

test('unknown platforms and bad options are refused', () => {
  assert.throws(() => createUploader({ baseUrl: 'x', platform: 'symbian' }), { code: 'invalid_argument' })
  assert.throws(() => createUploader({ platform: 'wx' }), { code: 'invalid_argument' })
  assert.throws(() => createUploader({ baseUrl: 'x', auth: 'password' }), { code: 'invalid_argument' })
})

test('createAbortController works without a global AbortController', async () => {
  const { execFileSync } = require('node:child_process')
  const out = execFileSync(process.execPath, ['-e', `
    delete globalThis.AbortController;
    const { createAbortController } = require(${JSON.stringify(require.resolve('../ossgate'))});
    const c = createAbortController(); let fired = 0;
    const l = () => fired++; c.signal.addEventListener('abort', l); c.signal.addEventListener('abort', () => fired++);
    c.signal.removeEventListener('abort', l); c.abort(); c.abort();
    console.log(c.signal.aborted, fired)`]).toString().trim()
  assert.equal(out, 'true 1')
})

test('an upload aborted with the stand-in controller ends in aborted', async () => {
  const { createAbortController } = require('../ossgate')
  const controller = createAbortController()
  const adapter = createFakeAdapter({
    request: [ticketAnswer()],
    uploadFile: [(req) => new Promise((resolve, reject) => {
      req.signal.addEventListener('abort', () => reject(new UploadError('aborted', 'aborted')))
      setTimeout(() => controller.abort(), 2)
    })]
  })
  await assert.rejects(uploader(adapter).upload({ filePath: 'a', size: 1, signal: controller.signal }), { code: 'aborted' })
})

test('every relative require names its .js file (WeChat resolves no directories)', () => {
  const fs = require('node:fs')
  const path = require('node:path')
  const root = path.join(__dirname, '..', 'ossgate')
  const files = ['index.js', 'uploader.js', 'errors.js', 'retry.js', 'queue.js', 'auth.js', 'abort.js', 'multipart.js', 'checkpoints.js']
    .concat(fs.readdirSync(path.join(root, 'adapters')).map((f) => 'adapters/' + f))
  for (const file of files) {
    const code = fs.readFileSync(path.join(root, file), 'utf8').replace(/^\s*\/\/.*$/gm, '')
    for (const match of code.matchAll(/require\('([^']+)'\)/g)) {
      assert.match(match[1], /^\.\.?\/[\w/]+\.js$/, file + ' requires ' + match[1])
      assert.ok(fs.existsSync(path.join(root, path.dirname(file), match[1])), file + ' requires a missing ' + match[1])
    }
  }
})

test('an upload waiting in the queue is aborted at once', async () => {
  let release
  const adapter = createFakeAdapter({
    request: () => Promise.resolve(ticketAnswer()),
    uploadFile: () => new Promise((resolve) => { release = () => resolve({ status: 200, data: '' }) })
  })
  const up = uploader(adapter, { concurrency: 1 })
  const first = up.upload({ filePath: 'a', size: 1 })
  const controller = new AbortController()
  const second = up.upload({ filePath: 'b', size: 1, signal: controller.signal })
  await new Promise((resolve) => setTimeout(resolve, 5))
  const started = Date.now()
  controller.abort()
  await assert.rejects(second, { code: 'aborted' })
  assert.ok(Date.now() - started < 100)
  release()
  await first
  assert.equal(adapter.calls.uploadFile.length, 1, 'the aborted upload never started')
})

test('the ES module entry exports what the CommonJS entry does', async () => {
  const esm = await import('../ossgate/index.mjs')
  assert.deepEqual(Object.keys(esm).filter((k) => k !== 'default').sort(), Object.keys(require('../ossgate')).sort())
  assert.equal(esm.DEFAULT_MULTIPART_THRESHOLD, 10 * 1024 * 1024)
})

function quotaError (retryAfter, where) {
  const body = { error: { code: 'quota_exceeded', message: 'quota exceeded: uploadsPerDay, 500 uploads per day', requestId: 'fc-q' } }
  if (where !== 'header') body.error.retryAfter = retryAfter
  return { status: 429, data: JSON.stringify(body), headers: where === 'body' ? {} : { 'retry-after': String(retryAfter) } }
}

test('a quota 429 asking for more than a few seconds is final: quota_exceeded with retryAfter, one request', async () => {
  for (const where of ['header', 'body', 'both']) {
    const adapter = createFakeAdapter({ request: [quotaError(3600, where), ticketAnswer()] })
    await assert.rejects(uploader(adapter).upload({ filePath: 'a', size: 10 }), (e) =>
      e instanceof UploadError && e.code === 'quota_exceeded' && e.retryAfter === 3600 && e.status === 429 &&
      e.signerCode === 'quota_exceeded' && /uploadsPerDay/.test(e.message))
    assert.equal(adapter.calls.request.length, 1, where)
    assert.equal(adapter.calls.uploadFile.length, 0)
  }
})

test('a quota 429 with a short Retry-After is retried after at least that long', async () => {
  const adapter = createFakeAdapter({ request: [quotaError(1, 'header'), ticketAnswer()], uploadFile: [{ status: 200, data: '' }] })
  const started = Date.now()
  await uploader(adapter).upload({ filePath: 'a', size: 10 })
  assert.ok(Date.now() - started >= 990, 'waited for Retry-After')
  assert.equal(adapter.calls.request.length, 2)
})

test('retry rules: a 429 with a long Retry-After fails, a short one retries; Retry-After as seconds or a date', () => {
  assert.equal(retry.decide({ source: 'signer', status: 429, code: 'quota_exceeded', retryAfter: 60 }), 'fail')
  assert.equal(retry.decide({ source: 'signer', status: 429, code: 'quota_exceeded', retryAfter: 6 }), 'fail')
  assert.equal(retry.decide({ source: 'signer', status: 429, code: 'quota_exceeded', retryAfter: 5 }), 'retry')
  assert.equal(retry.decide({ source: 'signer', status: 429, code: 'signer_unavailable' }), 'retry')
  assert.equal(retry.decide({ source: 'signer', status: 503, code: 'signer_unavailable', retryAfter: 120 }), 'fail')
  assert.equal(retry.decide({ source: 'signer', status: 503, code: 'signer_unavailable', retryAfter: 2 }), 'retry')
  assert.equal(retry.delayFor({ retryAfter: 2 }, 0, [100], () => 1), 2000)
  assert.equal(retry.delayFor({}, 0, [100], () => 1), 100)
  const errors = require('../ossgate/errors')
  const now = () => Date.parse('2026-11-30T04:00:00Z')
  assert.equal(errors.retryAfterSeconds({ 'Retry-After': 'Mon, 30 Nov 2026 04:01:00 GMT' }, null, now), 60)
  assert.equal(errors.retryAfterSeconds({}, { retryAfter: 42 }, now), 42)
  assert.equal(errors.retryAfterSeconds({}, {}, now), undefined)
})
