'use strict'
// The client with the `wx` adapter on a real-HTTP wx stand-in, against the local FC server, OSS and WeChat.

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { createUploader } = require('../ossgate')
const { createWx } = require('./wx-standin')
const get = require('./http-get')
const { startStack } = require('./stack')
const { faultyProxy } = require('./faulty-proxy')

const PROFILES = JSON.stringify({ default: { maxSize: 10485760 }, tiny: { maxSize: 100 }, images: { maxSize: 1048576, contentTypes: ['image/*'] } })
let stack
let dir

test.before(async () => {
  stack = await startStack({ UPLOAD_PROFILES: PROFILES })
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ossgate-files-'))
})
test.after(async () => {
  if (stack) await stack.stop()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

function file (name, bytes) {
  const p = path.join(dir, name)
  fs.writeFileSync(p, bytes)
  return p
}


function wxUploader (extra = {}) {
  const wx = createWx()
  return { wx, uploader: createUploader(Object.assign({ baseUrl: stack.fc, platform: 'wx', api: wx, auth: 'wechat', retryDelays: [5, 5, 5] }, extra)) }
}

test('a file lands byte-identical, with progress and the callback answer', async () => {
  const bytes = crypto.randomBytes(700 * 1024)
  const { wx, uploader } = wxUploader()
  const events = []
  const res = await uploader.upload({ filePath: file('photo.JPG', bytes), contentType: 'image/jpeg', onProgress: (e) => events.push(e) })
  assert.match(res.key, /^uploads\/u[0-9a-f]{31}\/default\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{32}\.jpg$/)
  assert.equal(res.size, bytes.length)
  assert.equal(res.data.key, res.key)
  assert.equal(res.data.size, bytes.length)
  assert.equal(res.etag.toLowerCase(), crypto.createHash('md5').update(bytes).digest('hex'))
  assert.ok(events.length >= 3, 'several progress events')
  for (let i = 1; i < events.length; i++) assert.ok(events[i].progress >= events[i - 1].progress)
  assert.deepEqual(events[events.length - 1], { progress: 1, loaded: bytes.length, total: bytes.length })
  assert.equal(wx.uploads[0].fields[0], 'key')
  const link = await uploader.download(res.key)
  const fetched = await get(link.url)
  assert.equal(fetched.status, 200)
  assert.ok(fetched.body.equals(bytes))
})

test('a retry after an injected 503 from the signer', async () => {
  let ticketRequests = 0
  const proxy = await faultyProxy(stack.fc, (req) => req.url === '/v1/uploads' && ++ticketRequests === 1 &&
    { status: 503, type: 'application/json', body: JSON.stringify({ error: { code: 'credentials_unavailable', message: 'injected', requestId: 'x' } }) })
  try {
    const wx = createWx()
    const uploader = createUploader({ baseUrl: proxy.url, platform: 'wx', api: wx, auth: 'wechat', retryDelays: [5] })
    const res = await uploader.upload({ filePath: file('retry.txt', Buffer.from('retried')) })
    assert.equal(ticketRequests, 2)
    assert.equal(res.size, 7)
  } finally {
    proxy.close()
  }
})

test('a retry after an injected 503 from OSS reuses the ticket', async () => {
  let posts = 0
  const proxy = await faultyProxy(stack.oss, (req) => req.method === 'POST' && ++posts === 1 &&
    { status: 503, type: 'application/xml', body: '<?xml version="1.0"?><Error><Code>ServiceUnavailable</Code><Message>injected</Message><RequestId>R503</RequestId></Error>' })
  try {
    const wx = createWx()
    const viaProxy = Object.assign({}, wx, {
      uploadFile (opts) { return wx.uploadFile(Object.assign({}, opts, { url: opts.url.replace(stack.oss, proxy.url) })) }
    })
    const uploader = createUploader({ baseUrl: stack.fc, platform: 'wx', api: viaProxy, auth: 'wechat', retryDelays: [5] })
    const bytes = crypto.randomBytes(5000)
    const res = await uploader.upload({ filePath: file('oss503.bin', bytes) })
    assert.equal(posts, 2)
    assert.equal(wx.requests.filter((r) => r.url.endsWith('/v1/uploads')).length, 1)
    const link = await uploader.download(res.key)
    assert.ok((await get(link.url)).body.equals(bytes))
  } finally {
    proxy.close()
  }
})

test('abort mid-upload ends in an aborted UploadError', async () => {
  const { uploader } = wxUploader()
  const controller = new AbortController()
  const pending = uploader.upload({
    filePath: file('big.bin', crypto.randomBytes(4 * 1024 * 1024)),
    signal: controller.signal,
    onProgress: (e) => { if (e.progress > 0.05) controller.abort() }
  })
  await assert.rejects(pending, { name: 'UploadError', code: 'aborted' })
})

test('each error path ends in one UploadError with a plain message', async () => {
  const { uploader } = wxUploader()
  await assert.rejects(uploader.upload({ filePath: file('empty.txt', Buffer.alloc(0)) }), { code: 'empty_file' })
  await assert.rejects(uploader.upload({ filePath: path.join(dir, 'missing.txt') }), (e) => e.code === 'file_unreadable' && /no such file/.test(e.message))
  await assert.rejects(uploader.upload({ filePath: file('a.txt', Buffer.from('abc')), profile: 'nope' }),
    (e) => e.code === 'ticket_refused' && e.status === 404 && /nope/.test(e.message) && Boolean(e.requestId))
  await assert.rejects(uploader.upload({ filePath: file('b.txt', Buffer.alloc(200, 1)), profile: 'tiny' }),
    (e) => e.code === 'ticket_refused' && e.status === 413 && e.signerCode === 'file_too_large')
  await assert.rejects(uploader.upload({ filePath: file('c.txt', Buffer.from('x')), profile: 'images', contentType: 'text/plain' }),
    (e) => e.code === 'ticket_refused' && e.status === 415)
})

test('an unreachable signer ends in a network error after the retries', async () => {
  const wx = createWx()
  const uploader = createUploader({ baseUrl: 'http://127.0.0.1:9', platform: 'wx', api: wx, auth: 'none', retryDelays: [1] })
  await assert.rejects(uploader.upload({ filePath: file('d.txt', Buffer.from('d')) }), (e) => e.code === 'network' && /connectivity/.test(e.hint))
  assert.equal(wx.requests.length, 4)
})

test('OSS refusals carry OSS\'s code, request id and a hint', async () => {
  const wx = createWx()
  const tampering = Object.assign({}, wx, {
    uploadFile (opts) { return wx.uploadFile(Object.assign({}, opts, { formData: Object.assign({}, opts.formData, { 'x-oss-forbid-overwrite': 'false' }) })) }
  })
  const uploader = createUploader({ baseUrl: stack.fc, platform: 'wx', api: tampering, auth: 'wechat' })
  await assert.rejects(uploader.upload({ filePath: file('e.txt', Buffer.from('e')) }), (e) => {
    assert.equal(e.code, 'oss_rejected')
    assert.equal(e.status, 403)
    assert.equal(e.ossCode, 'AccessDenied')
    assert.match(e.ossMessage, /Policy Condition failed/)
    assert.ok(e.requestId)
    assert.match(e.hint, /pins/)
    return true
  })
})

test('a session is reused across uploads and renewed after it is lost', async () => {
  const { wx, uploader } = wxUploader()
  await uploader.upload({ filePath: file('f.txt', Buffer.from('f')) })
  await uploader.upload({ filePath: file('g.txt', Buffer.from('g')) })
  assert.equal(wx.loginCount, 1)
  wx.setStorageSync('ossgate.session', { token: 'v1.forged.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', expiresAt: new Date(Date.now() + 3600e3).toISOString() })
  const res = await uploader.upload({ filePath: file('h.txt', Buffer.from('h')) })
  assert.ok(res.key)
  assert.equal(wx.loginCount, 2)
})

test('concurrent uploads respect the queue and all land', async () => {
  const { uploader } = wxUploader({ concurrency: 2 })
  const files = Array.from({ length: 5 }, (_, i) => crypto.randomBytes(1000 + i))
  const results = await Promise.all(files.map((bytes, i) => uploader.upload({ filePath: file('q' + i + '.bin', bytes) })))
  for (let i = 0; i < files.length; i++) {
    const link = await uploader.download(results[i].key)
    assert.ok((await get(link.url)).body.equals(files[i]))
  }
})
