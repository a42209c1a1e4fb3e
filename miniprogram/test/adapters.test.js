'use strict'
// Each platform adapter turns the core's calls into that platform's API shapes.

const test = require('node:test')
const assert = require('node:assert/strict')
const { resolve } = require('../ossgate/adapters')

function fakeMiniProgram (answer) {
  const calls = []
  const progress = []
  const api = {
    calls,
    request (opts) { calls.push(['request', opts]); setImmediate(() => opts.success(answer.request)); return { abort () {} } },
    uploadFile (opts) {
      calls.push(['uploadFile', opts])
      setImmediate(() => { progress.forEach((l) => l({ progress: 50, totalBytesSent: 5, totalBytesWritten: 5 })); opts.success(answer.upload) })
      return { onProgressUpdate (l) { progress.push(l) }, abort () { calls.push(['abort']) } }
    },
    login (opts) { setImmediate(() => opts.success({ code: 'c1' })) },
    getFileInfo (opts) { opts.success({ size: 77 }) },
    getStorageSync (k) { return api.store[k] },
    setStorageSync (k, v) { api.store[k] = v },
    removeStorageSync (k) { delete api.store[k] },
    store: {}
  }
  return api
}

const UPLOAD = { url: 'https://b.oss', fields: { key: 'k', policy: 'p' }, filePath: '/tmp/a.png', contentType: 'image/png' }

for (const platform of ['wx', 'uni', 'taro']) {
  test(platform + ': request, uploadFile with name "file" and formData, progress, login, storage', async () => {
    const api = fakeMiniProgram({ request: { statusCode: 200, data: '{"a":1}', header: { x: '1' } }, upload: { statusCode: 200, data: '' } })
    const adapter = resolve(platform, { api })
    assert.deepEqual(await adapter.request({ url: 'u', method: 'POST', headers: { h: '1' }, body: '{}' }), { status: 200, data: '{"a":1}', headers: { x: '1' } })
    assert.equal(api.calls[0][1].header.h, '1')
    const seen = []
    assert.equal((await adapter.uploadFile(Object.assign({ onProgress: (e) => seen.push(e) }, UPLOAD))).status, 200)
    const opts = api.calls[1][1]
    assert.equal(opts.name, 'file')
    assert.deepEqual(opts.formData, UPLOAD.fields)
    assert.equal(opts.filePath, '/tmp/a.png')
    assert.deepEqual(seen, [{ loaded: 5, progress: 0.5 }])
    assert.equal(await adapter.login(), 'c1')
    assert.equal(await adapter.fileSize({ filePath: 'x' }), 77)
    adapter.storage.set('s', { t: 1 })
    assert.deepEqual(adapter.storage.get('s'), { t: 1 })
    adapter.storage.remove('s')
    assert.equal(adapter.storage.get('s'), null)
  })
}

test('my (Alipay): fileName and fileType instead of name, headers instead of header, object storage calls', async () => {
  const api = fakeMiniProgram({ upload: { statusCode: 204, data: '' } })
  api.request = (opts) => { api.calls.push(['request', opts]); setImmediate(() => opts.success({ status: 200, data: 'ok', headers: {} })) }
  api.getStorageSync = ({ key }) => ({ data: api.store[key] })
  api.setStorageSync = ({ key, data }) => { api.store[key] = data }
  api.removeStorageSync = ({ key }) => { delete api.store[key] }
  const adapter = resolve('my', { api })
  assert.equal((await adapter.request({ url: 'u', method: 'POST', headers: { h: '1' }, body: '{}' })).status, 200)
  assert.equal(api.calls[0][1].headers.h, '1')
  await adapter.uploadFile(Object.assign({ onProgress () {} }, UPLOAD, { contentType: 'video/mp4' }))
  const opts = api.calls[1][1]
  assert.equal(opts.fileName, 'file')
  assert.equal(opts.fileType, 'video')
  assert.equal(opts.name, undefined)
  adapter.storage.set('s', 1)
  assert.equal(adapter.storage.get('s'), 1)
  await assert.rejects(adapter.login(), { code: 'invalid_argument' })
})

test('abort calls the task\'s abort and rejects with aborted', async () => {
  const api = fakeMiniProgram({})
  api.uploadFile = (opts) => { api.calls.push(['uploadFile', opts]); return { onProgressUpdate () {}, abort () { api.calls.push(['abort']) } } }
  const controller = new AbortController()
  const pending = resolve('wx', { api }).uploadFile(Object.assign({ onProgress () {}, signal: controller.signal }, UPLOAD))
  controller.abort()
  await assert.rejects(pending, { code: 'aborted' })
  assert.deepEqual(api.calls[api.calls.length - 1], ['abort'])
})

test('a missing platform global is a clear error at call time, not at import', async () => {
  const adapter = resolve('uni')
  await assert.rejects(adapter.request({ url: 'u', method: 'GET' }), { code: 'invalid_argument', message: /"uni" is not available/ })
})

test('browser: fetch for JSON, FormData fields in order then the file, XHR progress', async () => {
  const sent = {}
  const saved = {}
  for (const name of ['fetch', 'FormData', 'XMLHttpRequest', 'localStorage']) saved[name] = globalThis[name]
  try {
    globalThis.fetch = async (url, init) => { sent.fetch = [url, init]; return { status: 201, text: async () => 'body' } }
    globalThis.FormData = class { constructor () { this.parts = [] } append (...a) { this.parts.push(a) } }
    globalThis.XMLHttpRequest = class {
      constructor () { this.upload = {} }
      open (method, url) { sent.open = [method, url] }
      send (form) {
        sent.form = form.parts
        this.upload.onprogress({ lengthComputable: true, loaded: 3, total: 4 })
        this.status = 200
        this.responseText = '{"key":"k"}'
        this.onload()
      }
      getResponseHeader (name) { return name === 'ETag' ? '"E1"' : null }
      abort () {}
    }
    const adapter = resolve('browser')
    assert.deepEqual(await adapter.request({ url: 'u', method: 'POST', headers: {}, body: '{}' }), { status: 201, data: 'body', headers: {} })
    const file = { name: 'a.png', size: 4 }
    const progress = []
    const res = await adapter.uploadFile(Object.assign({}, UPLOAD, { file, onProgress: (e) => progress.push(e) }))
    assert.deepEqual(sent.form.map((p) => p[0]), ['key', 'policy', 'file'])
    assert.equal(sent.form[2][1], file)
    assert.deepEqual(progress, [{ loaded: 3, progress: 0.75 }])
    assert.equal(res.headers.ETag, '"E1"')
    assert.equal(await adapter.fileSize({ file }), 4)
  } finally {
    for (const name of Object.keys(saved)) globalThis[name] = saved[name]
  }
})

test('browser: a signer request that never answers times out', async () => {
  const saved = globalThis.fetch
  try {
    globalThis.fetch = (url, init) => new Promise((resolve, reject) => {
      init.signal.addEventListener('abort', () => reject(new Error('The operation was aborted.')))
    })
    await assert.rejects(resolve('browser').request({ url: 'u', method: 'POST', headers: {}, body: '{}', timeout: 20 }),
      (e) => /timeout after 20 ms/.test(e.errMsg))
  } finally {
    globalThis.fetch = saved
  }
})

for (const platform of ['wx', 'uni', 'taro']) {
  test(platform + ': parts are read with readFile({position, length}) and PUT with exactly the signed headers', async () => {
    const api = fakeMiniProgram({ request: { statusCode: 200, data: '', header: { ETag: '"e"' } } })
    const reads = []
    api.getFileSystemManager = () => ({
      readFile (opts) { reads.push(opts); setImmediate(() => opts.success({ data: new ArrayBuffer(opts.length) })) },
      stat (opts) { setImmediate(() => opts.success({ stats: { size: 9, lastModifiedTime: 1764460800 } })) },
      getFileInfo (opts) { opts.success({ size: 9 }) }
    })
    const adapter = resolve(platform, { api })
    assert.equal(adapter.canPutParts, true)
    const chunk = await adapter.readChunk({ filePath: '/tmp/v.mp4' }, 4, 3)
    assert.equal(chunk.byteLength, 3)
    assert.deepEqual([reads[0].filePath, reads[0].position, reads[0].length, reads[0].encoding], ['/tmp/v.mp4', 4, 3, undefined])
    const res = await adapter.putPart({ url: 'https://b.oss/k?partNumber=1', method: 'PUT', headers: { 'Content-Type': 'video/mp4' }, data: chunk, timeout: 5 })
    assert.equal(res.status, 200)
    const opts = api.calls[0][1]
    assert.equal(opts.method, 'PUT')
    assert.deepEqual(opts.header, { 'Content-Type': 'video/mp4' })
    assert.equal(opts.data, chunk)
    assert.equal(await adapter.fileModified({ filePath: '/tmp/v.mp4' }), 1764460800)
  })
}

test('without readFile (an old base library) or on Alipay, no parts: one form upload', () => {
  const api = fakeMiniProgram({})
  assert.equal(resolve('wx', { api }).canPutParts, false)
  api.getFileSystemManager = () => ({ getFileInfo () {} })
  assert.equal(resolve('wx', { api }).canPutParts, false)
  api.getFileSystemManager = () => ({ readFile () {} })
  assert.equal(resolve('wx', { api }).canPutParts, true)
  const alipay = resolve('my', { api })
  assert.equal(alipay.canPutParts, false)
  assert.equal(alipay.putPart, undefined)
  assert.equal(resolve('uni').canPutParts, false, 'no uni global: no parts, and no throw')
})

test('browser: parts are Blob slices sent with XHR PUT, the signed headers only, upload progress', async () => {
  const saved = globalThis.XMLHttpRequest
  const sent = {}
  try {
    globalThis.XMLHttpRequest = class {
      constructor () { this.upload = {}; this.headers = {} }
      open (method, url) { sent.open = [method, url] }
      setRequestHeader (name, value) { this.headers[name] = value }
      send (body) {
        sent.body = body
        sent.headers = this.headers
        this.upload.onprogress({ lengthComputable: true, loaded: 2, total: 3 })
        this.status = 200
        this.responseText = ''
        this.onload()
      }
      abort () {}
    }
    const adapter = resolve('browser')
    assert.equal(adapter.canPutParts, true)
    const file = new Blob(['abcdefgh'], { type: 'text/plain' })
    const chunk = await adapter.readChunk({ file }, 2, 3)
    assert.equal(await chunk.text(), 'cde')
    const progress = []
    const res = await adapter.putPart({ url: 'https://b.oss/k?partNumber=2', method: 'PUT', headers: { 'Content-Type': 'text/plain' }, data: chunk, onProgress: (e) => progress.push(e) })
    assert.equal(res.status, 200)
    assert.deepEqual(sent.open, ['PUT', 'https://b.oss/k?partNumber=2'])
    assert.deepEqual(sent.headers, { 'Content-Type': 'text/plain' })
    assert.equal(sent.body, chunk)
    assert.deepEqual(progress, [{ loaded: 2 }])
  } finally {
    globalThis.XMLHttpRequest = saved
  }
})
