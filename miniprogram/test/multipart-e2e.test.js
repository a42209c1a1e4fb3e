'use strict'
// Multipart uploads end to end over real HTTP: the `wx` adapter on the wx stand-in, the local FC server's
// /v1/multipart/* routes and the local OSS (strict V4 checks on every part). A 100 MB file, a proxy that cuts
// connections mid-part, and restarts (a new uploader over the same storage) after pausing at about 50% and 90%.

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { createUploader } = require('../ossgate')
const checkpoints = require('../ossgate/checkpoints')
const { createWx } = require('./wx-standin')
const { cuttingProxy, answerLosingProxy } = require('./faulty-proxy')
const get = require('./http-get')
const { startStack } = require('./stack')

const MiB = 1024 * 1024
const PROFILES = JSON.stringify({ default: { maxSize: 200 * MiB }, small: { maxSize: 12 * MiB } })
let stack
let dir

test.before(async () => {
  stack = await startStack({ UPLOAD_PROFILES: PROFILES })
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ossgate-mp-'))
})
test.after(async () => {
  if (stack) await stack.stop()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

function writeFile (name, size) {
  const p = path.join(dir, name)
  const bytes = crypto.randomBytes(size)
  fs.writeFileSync(p, bytes)
  return { path: p, bytes, md5: crypto.createHash('md5').update(bytes).digest('hex') }
}

function puts (wx) {
  return wx.requests.filter((r) => r.method === 'PUT')
}

function partNumber (url) {
  return Number(new URL(url).searchParams.get('partNumber'))
}

async function stored (uploader, key) {
  const link = await uploader.download(key)
  const res = await get(link.url)
  assert.equal(res.status, 200)
  return crypto.createHash('md5').update(res.body).digest('hex')
}

test('a 100 MB file through the wx stand-in: parts with exactly the signed headers, 10 requests at most', async () => {
  const file = writeFile('movie.mp4', 100 * MiB)
  const storage = new Map()
  const wx = createWx({ storage })
  const reads = []
  const fileSystem = wx.getFileSystemManager
  wx.getFileSystemManager = () => {
    const manager = fileSystem()
    return Object.assign({}, manager, { readFile (opts) { reads.push(opts.length); return manager.readFile(opts) } })
  }
  const uploader = createUploader({ baseUrl: stack.fc, platform: 'wx', api: wx, auth: 'wechat' })
  const events = []
  const res = await uploader.upload({ filePath: file.path, contentType: 'video/mp4', onProgress: (e) => events.push(e) })
  assert.equal(res.size, 100 * MiB)
  assert.match(res.key, /^uploads\/u[0-9a-f]{31}\/default\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{32}.*\.mp4$/)
  assert.equal(res.resumed, undefined)
  assert.equal(res.data.key, res.key, 'the verified upload callback answered through the complete')
  assert.equal(res.data.size, 100 * MiB)
  assert.equal(res.data.mimeType, 'video/mp4')
  const parts = puts(wx)
  assert.ok(parts.length >= 10, 'several parts: ' + parts.length)
  assert.equal(parts.reduce((sum, p) => sum + p.bytes, 0), 100 * MiB, 'each byte sent once')
  for (const part of parts) {
    assert.deepEqual(Object.keys(part.header).filter((h) => h !== 'content-length').map((h) => h.toLowerCase()), ['content-type'])
    assert.notEqual(Object.values(part.header)[0], 'application/json', 'wx.request\'s default content-type must not leak')
  }
  assert.equal(wx.requests.filter((r) => r.url.endsWith('/v1/uploads')).length, 0, 'no form ticket')
  assert.ok(wx.peakInFlight <= 10, 'peak in flight ' + wx.peakInFlight)
  assert.equal(reads.length, parts.length)
  assert.ok(Math.max(...reads) <= 5 * MiB, 'the file is read a part at a time, never whole')
  for (let i = 1; i < events.length; i++) assert.ok(events[i].progress > events[i - 1].progress)
  assert.deepEqual(events[events.length - 1], { progress: 1, loaded: 100 * MiB, total: 100 * MiB })
  assert.equal(await stored(uploader, res.key), file.md5)
  assert.deepEqual([...storage.keys()].filter((k) => k.startsWith(checkpoints.PREFIX)), [], 'the checkpoint is gone')
})

for (const pauseAt of [0.5, 0.9]) {
  test('pause at ' + pauseAt * 100 + '% then restart: only the parts that were in flight are sent twice', async () => {
    const size = 24 * MiB + 12345
    const file = writeFile('restart' + pauseAt + '.bin', size)
    const storage = new Map()
    const firstWx = createWx({ storage, user: 'restart' })
    const controller = new AbortController()
    const first = createUploader({ baseUrl: stack.fc, platform: 'wx', api: firstWx, auth: 'wechat', partSize: MiB })
    await assert.rejects(first.upload({
      filePath: file.path, signal: controller.signal,
      onProgress: (e) => { if (e.progress >= pauseAt) controller.abort() }
    }), { code: 'aborted' })
    const saved = [...storage.entries()].filter(([k]) => k.startsWith(checkpoints.PREFIX)).map(([, v]) => v)
    assert.equal(saved.length, 1, 'a checkpoint stays')
    assert.equal(saved[0].size, size)
    assert.equal(saved[0].partSize, MiB)
    const done = new Set(saved[0].done)
    const attempted = new Set(puts(firstWx).map((p) => partNumber(p.url)))
    assert.ok(done.size >= Math.floor(pauseAt * saved[0].partCount) - 1, 'paused at about ' + pauseAt)

    // the next launch: a new uploader over the same storage (the session token is reused from it)
    const secondWx = createWx({ storage, user: 'restart' })
    const second = createUploader({ baseUrl: stack.fc, platform: 'wx', api: secondWx, auth: 'wechat', partSize: MiB })
    const events = []
    const res = await second.upload({ filePath: file.path, onProgress: (e) => events.push(e) })
    assert.equal(res.resumed, true)
    assert.equal(res.key, saved[0].key)
    const sentAgain = puts(secondWx).map((p) => partNumber(p.url))
    const missing = []
    for (let n = 1; n <= saved[0].partCount; n++) if (!done.has(n)) missing.push(n)
    assert.ok(sentAgain.every((n) => missing.includes(n)), 'no part OSS held is sent again')
    const twice = sentAgain.filter((n) => attempted.has(n))
    assert.ok(twice.length <= 3, 'at most the 3 parts in flight are sent twice: ' + twice)
    assert.ok(events[0].progress >= done.size / saved[0].partCount - 0.01, 'progress resumes where it was')
    assert.equal(secondWx.requests.filter((r) => r.url.endsWith('/v1/multipart/uploads')).length, 0)
    assert.equal(await stored(second, res.key), file.md5)
    assert.equal([...storage.keys()].filter((k) => k.startsWith(checkpoints.PREFIX)).length, 0)
  })
}

test('a proxy that cuts part uploads at random offsets: the parts are retried and the object is the file', async () => {
  const size = 16 * MiB + 777
  const file = writeFile('flaky.bin', size)
  const cutsPerPart = {}
  const proxy = await cuttingProxy(stack.oss, (req) => {
    if (req.method !== 'PUT') return null
    const n = partNumber('http://x' + req.url)
    cutsPerPart[n] = (cutsPerPart[n] || 0) + 1
    // every part but one is cut on its first attempt, some on the second too: 3 failures never in a row
    if (cutsPerPart[n] === 1 && n !== 2) return Math.floor(Math.random() * MiB)
    if (cutsPerPart[n] === 2 && n % 3 === 0) return Math.floor(Math.random() * MiB)
    return null
  })
  try {
    const wx = createWx()
    const viaProxy = Object.assign(Object.create(wx), {
      request (opts) { return wx.request(Object.assign({}, opts, { url: opts.url.replace(stack.oss, proxy.url) })) }
    })
    const uploader = createUploader({ baseUrl: stack.fc, platform: 'wx', api: viaProxy, auth: 'wechat', partSize: MiB, retryDelays: [5, 5, 5] })
    const res = await uploader.upload({ filePath: file.path })
    assert.ok(proxy.cuts.length >= 16, 'connections were cut: ' + proxy.cuts.length)
    assert.equal(await stored(uploader, res.key), file.md5)
  } finally {
    proxy.close()
  }
})

test('discard aborts a paused upload on OSS; the same file then starts anew', async () => {
  const file = writeFile('discard.bin', 12 * MiB)
  const wx = createWx()
  const uploader = createUploader({ baseUrl: stack.fc, platform: 'wx', api: wx, auth: 'wechat', partSize: MiB })
  const controller = new AbortController()
  await assert.rejects(uploader.upload({ filePath: file.path, signal: controller.signal, onProgress: (e) => { if (e.progress > 0.3) controller.abort() } }), { code: 'aborted' })
  const result = await uploader.discard({ filePath: file.path })
  assert.equal(result.discarded, true)
  assert.equal(wx.requests.filter((r) => r.url.endsWith('/v1/multipart/abort')).length, 1)
  assert.deepEqual(await uploader.discard({ filePath: file.path }), { discarded: false })
  const res = await uploader.upload({ filePath: file.path })
  assert.equal(res.resumed, undefined)
  assert.notEqual(res.key, result.key)
  assert.equal(await stored(uploader, res.key), file.md5)
})

test('a file above the profile\'s maxSize is refused at initiate; a vanished upload starts from scratch', async () => {
  const big = writeFile('big.bin', 13 * MiB)
  const storage = new Map()
  const wx = createWx({ storage })
  const uploader = createUploader({ baseUrl: stack.fc, platform: 'wx', api: wx, auth: 'wechat', partSize: MiB })
  await assert.rejects(uploader.upload({ filePath: big.path, profile: 'small' }),
    (e) => e.code === 'ticket_refused' && e.status === 413 && e.signerCode === 'file_too_large')
  assert.equal(puts(wx).length, 0)

  const file = writeFile('vanish.bin', 11 * MiB)
  const controller = new AbortController()
  await assert.rejects(uploader.upload({ filePath: file.path, signal: controller.signal, onProgress: (e) => { if (e.progress > 0.2) controller.abort() } }), { code: 'aborted' })
  const [[name, saved]] = [...storage.entries()].filter(([k]) => k.startsWith(checkpoints.PREFIX))
  // aborted on OSS behind the client's back (another device, the lifecycle rule): the checkpoint outlives it
  assert.equal((await uploader.discard({ filePath: file.path })).key, saved.key)
  storage.set(name, saved)
  const initiates = () => wx.requests.filter((r) => r.url.endsWith('/v1/multipart/uploads')).length
  const before = initiates()
  const res = await uploader.upload({ filePath: file.path })
  assert.equal(res.resumed, undefined)
  assert.notEqual(res.key, saved.key)
  assert.equal(initiates(), before + 1, 'one new upload after no_such_upload')
  assert.ok(wx.requests.some((r) => r.url.endsWith('/v1/multipart/parts')), 'it asked to resume first')
  assert.equal(await stored(uploader, res.key), file.md5)
})

test('WeChat\'s default content-type leaking into a part is refused by OSS (why parts carry exactly the signed headers)', async () => {
  const file = writeFile('leak.bin', 11 * MiB)
  const wx = createWx()
  const leaky = Object.assign(Object.create(wx), {
    request (opts) {
      const header = Object.assign({}, opts.header)
      if (opts.method === 'PUT') delete header['Content-Type'] // a client that forgot the signed header
      return wx.request(Object.assign({}, opts, { header }))
    }
  })
  const uploader = createUploader({ baseUrl: stack.fc, platform: 'wx', api: leaky, auth: 'wechat', partSize: MiB })
  await assert.rejects(uploader.upload({ filePath: file.path }), (e) => {
    assert.equal(e.code, 'oss_rejected')
    assert.equal(e.status, 403)
    assert.equal(e.ossCode, 'SignatureDoesNotMatch')
    assert.ok(e.requestId)
    return true
  })
  const put = wx.requests.find((r) => r.method === 'PUT')
  assert.equal(put.header['content-type'], 'application/json')
})

test('complete\'s answer lost on the way: the retry finds the stored object (the server looks it up)', async () => {
  const file = writeFile('lost.bin', 11 * MiB)
  let completes = 0
  const proxy = await answerLosingProxy(stack.fc, (req) => req.url === '/v1/multipart/complete' && ++completes === 1)
  try {
    const storage = new Map()
    const wx = createWx({ storage })
    const uploader = createUploader({ baseUrl: proxy.url, platform: 'wx', api: wx, auth: 'wechat', partSize: MiB, retryDelays: [5, 5, 5] })
    const result = await uploader.upload({ filePath: file.path })
    assert.deepEqual(proxy.lost, ['/v1/multipart/complete'])
    assert.equal(completes, 2)
    assert.equal(result.size, 11 * MiB)
    assert.equal(await stored(uploader, result.key), file.md5, 'the key the answer names holds the file')
    assert.equal([...storage.keys()].filter((k) => k.startsWith(checkpoints.PREFIX)).length, 0)
  } finally {
    proxy.close()
  }
})
