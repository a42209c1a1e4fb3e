'use strict'
// The multipart core (ossgate/multipart.js) through createUploader, over a fake adapter and an in-memory
// signer + OSS: parts, concurrency, retries, expired URLs, pause and resume, discard and the refusals.

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { createUploader } = require('../ossgate')
const checkpoints = require('../ossgate/checkpoints')
const { createFakeAdapter, ticketAnswer, ossError } = require('./fake-adapter')
const { createFakeMultipart, chunkReader } = require('./fake-multipart')

const FILE = 'wxfile://tmp/movie.mp4'

function setup (bytes, serverOptions = {}, uploaderOptions = {}, adapter) {
  const server = createFakeMultipart(serverOptions)
  adapter = adapter || createFakeAdapter({})
  Object.assign(adapter, { canPutParts: true })
  const script = { request: server.request, putPart: server.putPart, readChunk: chunkReader(bytes) }
  adapter.request = (req) => { adapter.calls.request.push(req); return script.request(req) }
  adapter.putPart = (req) => { adapter.calls.putPart.push(req); return script.putPart(req) }
  adapter.readChunk = (params, position, length) => { adapter.calls.readChunk.push({ position, length }); return script.readChunk(params, position, length) }
  adapter.fileModified = () => Promise.resolve(1700000000)
  const uploader = createUploader(Object.assign({ adapter, baseUrl: 'https://signer.example', retryDelays: [1, 1, 1], multipartThreshold: 10 }, uploaderOptions))
  return { server, adapter, uploader }
}

function storedCheckpoints (adapter) {
  return Object.keys(adapter.store).filter((k) => k.startsWith(checkpoints.PREFIX)).map((k) => adapter.store[k])
}

test('from the threshold on, parts are read by position and PUT with exactly the signed headers', async () => {
  const bytes = crypto.randomBytes(30)
  const { server, adapter, uploader } = setup(bytes)
  const events = []
  const res = await uploader.upload({ filePath: FILE, size: 30, contentType: 'video/mp4', profile: 'videos', onProgress: (e) => events.push(e) })
  assert.equal(server.completed.length, 1)
  assert.ok(server.completed[0].bytes.equals(bytes), 'the stored object is the file')
  assert.deepEqual(server.calls('/v1/multipart/uploads'), [{ size: 30, contentType: 'video/mp4', filename: 'movie.mp4', profile: 'videos' }])
  assert.equal(res.key, server.completed[0].key)
  assert.equal(res.size, 30)
  assert.match(res.etag, /^[0-9A-F]{32}-8$/)
  assert.equal(res.resumed, undefined)
  assert.deepEqual(adapter.calls.readChunk.map((c) => [c.position, c.length]).sort((a, b) => a[0] - b[0]),
    [[0, 4], [4, 4], [8, 4], [12, 4], [16, 4], [20, 4], [24, 4], [28, 2]])
  for (const put of adapter.calls.putPart) assert.deepEqual(put.headers, { 'Content-Type': 'video/mp4' })
  assert.equal(adapter.calls.uploadFile.length, 0)
  for (let i = 1; i < events.length; i++) assert.ok(events[i].progress > events[i - 1].progress)
  assert.deepEqual(events[events.length - 1], { progress: 1, loaded: 30, total: 30 })
  assert.deepEqual(storedCheckpoints(adapter), [], 'the checkpoint is forgotten once complete')
})

test('below the threshold, and on adapters that cannot PUT parts, one form upload', async () => {
  const { adapter, uploader } = setup(crypto.randomBytes(9))
  adapter.calls.request.length = 0
  const formOnly = createFakeAdapter({ request: [ticketAnswer()], uploadFile: [{ status: 200, data: '' }] })
  await createUploader({ adapter: formOnly, baseUrl: 'https://s', multipartThreshold: 10 }).upload({ filePath: 'a', size: 50 })
  assert.equal(formOnly.calls.uploadFile.length, 1)
  assert.equal(formOnly.calls.request[0].url, 'https://s/v1/uploads')
  await assert.rejects(uploader.upload({ filePath: 'small', size: 9 }), { code: 'ticket_refused' })
  assert.equal(adapter.calls.request[0].url, 'https://signer.example/v1/uploads', 'a small file asks for a form ticket')
})

test('parts run partConcurrency at once; all requests share the limit of 10 in flight', async () => {
  const one = setup(crypto.randomBytes(40), { delayMs: 5 })
  await one.uploader.upload({ filePath: FILE, size: 40 })
  assert.equal(one.server.peak, 3, 'default partConcurrency 3')

  const bytes = crypto.randomBytes(80)
  const many = setup(bytes, { delayMs: 5 }, { concurrency: 6, partConcurrency: 5 })
  const files = Array.from({ length: 6 }, (_, i) => many.uploader.upload({ filePath: 'f' + i, size: 80 }))
  await Promise.all(files)
  assert.equal(many.server.completed.length, 6)
  assert.equal(many.server.peak, 10, '6 uploads x 5 parts are held to 10 requests in flight')
})

test('memory: at most partConcurrency chunks are read and not yet sent', async () => {
  const bytes = crypto.randomBytes(64)
  let held = 0
  let peak = 0
  const { adapter, uploader } = setup(bytes, { delayMs: 3 })
  const read = adapter.readChunk
  const put = adapter.putPart
  adapter.readChunk = (p, pos, len) => { held++; peak = Math.max(peak, held); return read(p, pos, len) }
  adapter.putPart = (req) => put(req).then((r) => { held--; return r }, (e) => { held--; throw e })
  await uploader.upload({ filePath: FILE, size: 64 })
  assert.ok(peak <= 3, 'peak chunks held ' + peak)
  assert.ok(adapter.calls.readChunk.every((c) => c.length <= 4))
})

test('a part is retried after a network failure and a 503, the others are not re-sent', async () => {
  const bytes = crypto.randomBytes(24)
  const { server, adapter, uploader } = setup(bytes, {
    fail: (n, attempt) => n === 2 && attempt === 1 ? { errMsg: 'request:fail socket hang up' }
      : n === 4 && attempt === 1 ? ossError(503, 'ServiceUnavailable', 'busy') : null
  })
  await uploader.upload({ filePath: FILE, size: 24 })
  assert.ok(server.completed[0].bytes.equals(bytes))
  assert.equal(adapter.calls.putPart.length, 6 + 2)
})

test('an expired part URL fetches fresh URLs from /parts instead of failing', async () => {
  const bytes = crypto.randomBytes(24)
  let expired = false
  const ctx = setup(bytes, { onPart: (n) => { if (n === 2 && !expired) { expired = true; ctx.server.expireUrls() } } }, { partConcurrency: 1 })
  const res = await ctx.uploader.upload({ filePath: FILE, size: 24 })
  assert.ok(ctx.server.completed[0].bytes.equals(bytes))
  const refreshed = ctx.server.calls('/v1/multipart/parts')
  assert.equal(refreshed.length, 1)
  assert.deepEqual(refreshed[0].partNumbers, [3, 4, 5, 6])
  assert.equal(res.resumed, undefined)
})

test('URLs beyond the first batch, or about to expire, are fetched in batches before use', async () => {
  const bytes = crypto.randomBytes(40)
  const { server, uploader } = setup(bytes, { firstUrls: 2 }, { partConcurrency: 1 })
  await uploader.upload({ filePath: FILE, size: 40 })
  assert.deepEqual(server.calls('/v1/multipart/parts').map((b) => b.partNumbers), [[3, 4, 5, 6, 7, 8, 9, 10]])

  let clock = Date.parse('2026-11-30T00:00:00Z')
  const soon = setup(bytes, { now: () => clock, ttlMs: 90e3 }, { partConcurrency: 1, now: () => clock })
  const put = soon.adapter.putPart
  soon.adapter.putPart = (req) => { clock += 20e3; return put(req) }
  await soon.uploader.upload({ filePath: FILE, size: 40 })
  assert.ok(soon.server.calls('/v1/multipart/parts').length >= 2, 'URLs within a minute of expiry are renewed')
  assert.ok(soon.server.completed[0].bytes.equals(bytes))
})

test('pause keeps a checkpoint; a new uploader with the same storage sends only what OSS lacks', async () => {
  const bytes = crypto.randomBytes(40)
  const controller = new AbortController()
  const first = setup(bytes, { onPart: (n) => { if (first.server.uploads.values().next().value.parts.size === 5) controller.abort() } })
  const events = []
  await assert.rejects(first.uploader.upload({ filePath: FILE, size: 40, contentType: 'video/mp4', signal: controller.signal }), { code: 'aborted' })
  const [saved] = storedCheckpoints(first.adapter)
  const upload = [...first.server.uploads.entries()][0]
  assert.equal(saved.uploadId, upload[0])
  assert.equal(saved.key, upload[1].key)
  assert.equal(saved.partSize, 4)
  assert.equal(saved.size, 40)
  assert.equal(saved.contentType, 'video/mp4')
  assert.equal(saved.profile, null)
  const held = upload[1].parts.size
  assert.equal(held, 5)

  // the next launch: a new uploader over the same storage and the same signer
  const second = setup(bytes, {}, {}, first.adapter)
  second.server.uploads.set(upload[0], upload[1])
  second.adapter.calls.putPart.length = 0
  const res = await second.uploader.upload({ filePath: FILE, size: 40, contentType: 'video/mp4', onProgress: (e) => events.push(e) })
  assert.equal(res.resumed, true)
  assert.equal(res.key, saved.key)
  assert.ok(second.server.completed[0].bytes.equals(bytes))
  const resent = second.adapter.calls.putPart.map((p) => Number(new URL(p.url).searchParams.get('partNumber'))).sort((a, b) => a - b)
  assert.equal(resent.length, 10 - held)
  assert.deepEqual(second.server.calls('/v1/multipart/uploads'), [])
  assert.equal(second.server.calls('/v1/multipart/parts')[0].listUploaded, true)
  assert.equal(events[0].loaded, held * 4, 'progress starts where the upload was')
  assert.deepEqual(storedCheckpoints(first.adapter), [])
})

test('a part OSS holds with the wrong size is sent again', async () => {
  const bytes = crypto.randomBytes(20)
  const ctx = setup(bytes)
  const print = checkpoints.fingerprint({ name: FILE, size: 20, modified: 1700000000 })
  // a checkpoint from an earlier run, whose part 2 landed truncated
  const init = JSON.parse((await ctx.server.request({ url: 'https://s/v1/multipart/uploads', body: JSON.stringify({ size: 20 }) })).data)
  const upload = ctx.server.uploads.get(init.uploadId)
  upload.parts.set(1, bytes.subarray(0, 4))
  upload.parts.set(2, bytes.subarray(4, 6))
  checkpoints.createCheckpoints(ctx.adapter.storage, Date.now).save({ fingerprint: print, key: init.key, uploadId: init.uploadId,
    partSize: 4, partCount: 5, size: 20, contentType: 'video/mp4', profile: null, createdAt: Date.now(), done: [1, 2] })
  const res = await ctx.uploader.upload({ filePath: FILE, size: 20 }) // no contentType: inferred from .mp4, as saved
  assert.equal(res.resumed, true)
  const sent = ctx.adapter.calls.putPart.map((p) => Number(new URL(p.url).searchParams.get('partNumber'))).sort()
  assert.deepEqual(sent, [2, 3, 4, 5])
  assert.ok(ctx.server.completed[0].bytes.equals(bytes))
})

test('a vanished upload (NoSuchUpload) starts cleanly from scratch', async () => {
  const bytes = crypto.randomBytes(20)
  const controller = new AbortController()
  const ctx = setup(bytes, { onPart: () => controller.abort() })
  await assert.rejects(ctx.uploader.upload({ filePath: FILE, size: 20, signal: controller.signal }), { code: 'aborted' })
  const [saved] = storedCheckpoints(ctx.adapter)
  ctx.server.uploads.delete(saved.uploadId) // the lifecycle rule removed it
  const res = await ctx.uploader.upload({ filePath: FILE, size: 20 })
  assert.equal(res.resumed, undefined)
  assert.notEqual(res.key, saved.key)
  assert.equal(ctx.server.calls('/v1/multipart/uploads').length, 2)
  assert.ok(ctx.server.completed[0].bytes.equals(bytes))
})

test('a part answered NoSuchUpload mid-upload begins again once, then fails plainly', async () => {
  const bytes = crypto.randomBytes(20)
  const ctx = setup(bytes, { fail: (n) => n === 3 ? ossError(404, 'NoSuchUpload', 'The specified upload does not exist.') : null })
  await assert.rejects(ctx.uploader.upload({ filePath: FILE, size: 20 }), { code: 'oss_rejected', ossCode: 'NoSuchUpload' })
  assert.equal(ctx.server.calls('/v1/multipart/uploads').length, 2)
  assert.deepEqual(storedCheckpoints(ctx.adapter), [])
})

test('discard aborts the paused upload on OSS and forgets it; the next upload starts fresh', async () => {
  const bytes = crypto.randomBytes(20)
  const controller = new AbortController()
  const ctx = setup(bytes, { onPart: () => controller.abort() })
  await assert.rejects(ctx.uploader.upload({ filePath: FILE, size: 20, signal: controller.signal }), { code: 'aborted' })
  const [saved] = storedCheckpoints(ctx.adapter)
  const gone = await ctx.uploader.discard({ filePath: FILE, size: 20 })
  assert.deepEqual(gone, { discarded: true, key: saved.key })
  assert.deepEqual(ctx.server.calls('/v1/multipart/abort'), [{ key: saved.key, uploadId: saved.uploadId }])
  assert.equal(ctx.server.uploads.size, 0)
  assert.deepEqual(storedCheckpoints(ctx.adapter), [])
  assert.deepEqual(await ctx.uploader.discard({ filePath: FILE, size: 20 }), { discarded: false })
  await assert.rejects(ctx.uploader.discard({}), { code: 'invalid_argument' })
  const res = await ctx.uploader.upload({ filePath: FILE, size: 20 })
  assert.equal(res.resumed, undefined)
})

test('complete refusals: 413 and 409 are final and forget the checkpoint; a missing part is sent again', async () => {
  const bytes = crypto.randomBytes(20)
  const big = setup(bytes, { maxSize: 10 })
  await assert.rejects(big.uploader.upload({ filePath: FILE, size: 20 }), (e) =>
    e.code === 'complete_refused' && e.status === 413 && e.signerCode === 'file_too_large' && e.source === 'signer')
  assert.deepEqual(storedCheckpoints(big.adapter), [])

  const exists = setup(bytes, { signer: (path) => path === '/v1/multipart/complete' && { status: 409, data: JSON.stringify({ error: { code: 'already_exists', message: 'exists', requestId: 'r' } }) } })
  await assert.rejects(exists.uploader.upload({ filePath: FILE, size: 20 }), { code: 'complete_refused', signerCode: 'already_exists' })
  assert.deepEqual(storedCheckpoints(exists.adapter), [])

  let dropped = false
  const lossy = setup(bytes, { signer: (path, body) => {
    if (path === '/v1/multipart/complete' && !dropped) { dropped = true; lossy.server.uploads.get(body.uploadId).parts.delete(3) }
    return null
  } })
  const res = await lossy.uploader.upload({ filePath: FILE, size: 20 })
  assert.ok(lossy.server.completed[0].bytes.equals(bytes))
  assert.equal(lossy.server.calls('/v1/multipart/complete').length, 2)
  assert.equal(res.size, 20)
})

test('a part that keeps failing ends the upload with its error; the checkpoint stays for a later resume', async () => {
  const bytes = crypto.randomBytes(20)
  const ctx = setup(bytes, { fail: (n) => n === 2 ? { errMsg: 'request:fail timeout' } : null })
  await assert.rejects(ctx.uploader.upload({ filePath: FILE, size: 20 }), (e) => e.code === 'network' && /Part 2/.test(e.message))
  assert.equal(storedCheckpoints(ctx.adapter).length, 1)
  const refused = setup(bytes, { fail: (n) => n === 1 ? ossError(403, 'SignatureDoesNotMatch', 'no') : null })
  await assert.rejects(refused.uploader.upload({ filePath: FILE, size: 20 }), { code: 'oss_rejected', ossCode: 'SignatureDoesNotMatch' })
  assert.equal(refused.adapter.calls.putPart.filter((p) => /partNumber=1&/.test(p.url)).length, 1, 'a 403 is not retried')
})

test('checkpoints last a day; another profile or type for the same file starts anew and aborts the old one', async () => {
  const bytes = crypto.randomBytes(20)
  let clock = Date.now()
  const controller = new AbortController()
  const ctx = setup(bytes, { onPart: () => controller.abort() }, { now: () => clock })
  await assert.rejects(ctx.uploader.upload({ filePath: FILE, size: 20, signal: controller.signal }), { code: 'aborted' })
  const [old] = storedCheckpoints(ctx.adapter)
  clock += checkpoints.TTL_MS + 1
  const res = await ctx.uploader.upload({ filePath: FILE, size: 20 })
  assert.equal(res.resumed, undefined)
  assert.notEqual(res.key, old.key)

  const again = new AbortController()
  const other = setup(bytes, { onPart: () => again.abort() })
  await assert.rejects(other.uploader.upload({ filePath: FILE, size: 20, profile: 'a', signal: again.signal }), { code: 'aborted' })
  const [first] = storedCheckpoints(other.adapter)
  await other.uploader.upload({ filePath: FILE, size: 20, profile: 'b' })
  assert.deepEqual(other.server.calls('/v1/multipart/abort'), [{ key: first.key, uploadId: first.uploadId }])
})

test('the fingerprint: path or name, size and modification time; lastModified or a File override the stat', async () => {
  const seen = []
  const bytes = crypto.randomBytes(12)
  const ctx = setup(bytes)
  ctx.adapter.fileModified = (params) => { seen.push(params.filePath); return Promise.resolve(42) }
  await ctx.uploader.upload({ filePath: FILE, size: 12 })
  assert.deepEqual(seen, [FILE])
  await ctx.uploader.upload({ filePath: 'wxfile://tmp/other', filename: 'chat.pdf', lastModified: 7, size: 12 })
  assert.equal(seen.length, 1, 'lastModified given: no stat')
  assert.equal(checkpoints.fingerprint({ name: 'a', size: 1, modified: 2 }), '["a",1,2]')
  assert.notEqual(checkpoints.fingerprint({ name: 'a', size: 1, modified: 2 }), checkpoints.fingerprint({ name: 'a', size: 1, modified: 3 }))
  assert.equal(checkpoints.fingerprint({ name: 'a', size: 1 }), '["a",1,null]')
})

test('stale checkpoints of files never uploaded again are pruned from storage', () => {
  const store = {}
  const storage = { get: (k) => store[k] || null, set: (k, v) => { store[k] = v }, remove: (k) => { delete store[k] } }
  let clock = 1e12
  const cps = checkpoints.createCheckpoints(storage, () => clock)
  cps.save({ fingerprint: '["a",1,null]', createdAt: clock, done: [] })
  clock += checkpoints.TTL_MS + 5
  cps.save({ fingerprint: '["b",1,null]', createdAt: clock, done: [] })
  assert.equal(Object.keys(store).filter((k) => k.startsWith(checkpoints.PREFIX)).length, 1)
  assert.equal(cps.load('["a",1,null]'), null)
  assert.equal(cps.load('["b",1,null]').fingerprint, '["b",1,null]')
  assert.equal(Object.keys(store[checkpoints.INDEX_KEY]).length, 1)
})

test('resume reads every page of what OSS holds (1,000 parts a page on OSS; 2 here)', async () => {
  const bytes = crypto.randomBytes(40)
  const controller = new AbortController()
  const ctx = setup(bytes, { listPage: 2, onPart: () => { if ([...ctx.server.uploads.values()][0].parts.size === 7) controller.abort() } })
  await assert.rejects(ctx.uploader.upload({ filePath: FILE, size: 40, signal: controller.signal }), { code: 'aborted' })
  ctx.adapter.calls.putPart.length = 0
  const res = await ctx.uploader.upload({ filePath: FILE, size: 40 })
  assert.equal(res.resumed, true)
  const pages = ctx.server.calls('/v1/multipart/parts').filter((b) => b.listUploaded)
  assert.deepEqual(pages.map((b) => b.uploadedAfter), [undefined, 2, 4, 6])
  assert.equal(ctx.adapter.calls.putPart.length, 3)
  assert.ok(ctx.server.completed[0].bytes.equals(bytes))
})

test('complete answered 502 callback_failed (stored, the callback failed): callback_failed at once, checkpoint gone', async () => {
  const bytes = crypto.randomBytes(20)
  const ctx = setup(bytes, { signer: (path) => path === '/v1/multipart/complete' &&
    { status: 502, data: JSON.stringify({ error: { code: 'callback_failed', message: 'the object was stored but its upload callback failed', requestId: 'r' } }) } })
  await assert.rejects(ctx.uploader.upload({ filePath: FILE, size: 20 }), (e) =>
    e.code === 'callback_failed' && e.signerCode === 'callback_failed' && e.status === 502 && /callback failed/.test(e.message))
  assert.equal(ctx.server.calls('/v1/multipart/complete').length, 1, 'not retried')
  assert.deepEqual(storedCheckpoints(ctx.adapter), [])
})

test('a complete retried after a 502 or a lost answer finds the upload gone: the error names the key it most likely stored', async () => {
  for (const interruption of ['502', 'lost']) {
    const bytes = crypto.randomBytes(20)
    let answered = 0
    const ctx = setup(bytes, { signer: (path, body) => {
      if (path !== '/v1/multipart/complete' || answered++ > 0) return null
      ctx.server.request({ url: 'https://s/v1/multipart/complete', body: JSON.stringify(body) }) // OSS completes it
      return interruption === '502' ? { status: 502, data: JSON.stringify({ error: { code: 'upstream_error', message: 'the object was stored but its upload callback failed', requestId: 'r' } }) } : null
    } })
    if (interruption === 'lost') {
      const request = ctx.adapter.request
      let lost = false
      ctx.adapter.request = (req) => {
        const sent = request(req)
        if (lost || !/complete$/.test(req.url)) return sent
        lost = true
        return sent.then(() => Promise.reject({ errMsg: 'request:fail timeout' }))
      }
    }
    await assert.rejects(ctx.uploader.upload({ filePath: FILE, size: 20 }), (e) => {
      assert.equal(e.code, 'complete_refused')
      assert.equal(e.signerCode, 'no_such_upload')
      assert.equal(e.key, ctx.server.completed[0].key, interruption + ': ' + e.message)
      assert.match(e.message, /most likely stored uploads\/u\/default\/up[0-9a-f]+\.bin/)
      return true
    })
    assert.deepEqual(storedCheckpoints(ctx.adapter), [], 'a later upload() does not resume a finished upload')
  }
})

test('complete while OSS cannot be reached: retried, then the error; the checkpoint stays', async () => {
  const bytes = crypto.randomBytes(20)
  const ctx = setup(bytes, { signer: (path) => path === '/v1/multipart/complete' &&
    { status: 502, data: JSON.stringify({ error: { code: 'upstream_error', message: 'OSS could not be reached to complete; retry shortly', requestId: 'r' } }) } })
  await assert.rejects(ctx.uploader.upload({ filePath: FILE, size: 20 }), { code: 'signer_unavailable', signerCode: 'upstream_error' })
  assert.equal(ctx.server.calls('/v1/multipart/complete').length, 4)
  assert.equal(storedCheckpoints(ctx.adapter).length, 1)
})

test('the upload callback\'s answer from complete comes back as data', async () => {
  const bytes = crypto.randomBytes(12)
  const data = { key: 'k', size: 12, etag: 'E', mimeType: 'video/mp4' }
  const ctx = setup(bytes, { signer: (path) => path === '/v1/multipart/complete' &&
    { status: 200, data: JSON.stringify({ key: 'k', size: 12, etag: '"E-3"', data }) } })
  const res = await ctx.uploader.upload({ filePath: FILE, size: 12 })
  assert.deepEqual(res, { key: 'k', size: 12, etag: 'E-3', data })
})

test('the checkpoint is written at initiate, every few seconds and when paused, not once per part', async () => {
  const bytes = crypto.randomBytes(160)
  const controller = new AbortController()
  const ctx = setup(bytes, { onPart: () => { if ([...ctx.server.uploads.values()][0].parts.size === 30) controller.abort() } })
  const writes = []
  const set = ctx.adapter.storage.set
  ctx.adapter.storage.set = (k, v) => { if (k.startsWith(checkpoints.PREFIX)) writes.push(v.done.length); set(k, v) }
  await assert.rejects(ctx.uploader.upload({ filePath: FILE, size: 160, signal: controller.signal }), { code: 'aborted' })
  await new Promise((resolve) => setTimeout(resolve, 20)) // the parts in flight wind down
  assert.ok(writes.length <= 3, 'writes: ' + writes)
  assert.equal(writes[0], 0, 'written at initiate')
  assert.equal(writes[writes.length - 1], 30, 'the parts done when paused')
  const [saved] = storedCheckpoints(ctx.adapter)
  const held = [...[...ctx.server.uploads.values()][0].parts.keys()]
  assert.deepEqual([...saved.done].sort((a, b) => a - b), held.sort((a, b) => a - b))
})
