'use strict'
// An in-memory signer + OSS for core multipart tests, answering as CONTRACT's "Multipart uploads" routes and
// OSS's UploadPart do: presigned part URLs that expire, parts stored per upload, complete that checks 1..n.
// Faults are injected per part attempt with `fail(partNumber, attempt)` returning an adapter answer.

const crypto = require('node:crypto')
const { ossError, signerError } = require('./fake-adapter')

function createFakeMultipart (options = {}) {
  const partSize = options.partSize || 4
  const now = options.now || Date.now
  const ttl = options.ttlMs || 600e3
  const uploads = new Map() // uploadId -> { key, size, contentType, parts: Map(n -> Buffer), urlGeneration }
  const log = [] // signer calls: [path, body]
  const attempts = {}
  let inFlight = 0
  let peak = 0
  let generation = 0
  let bytesPut = 0

  function partsFor (id, numbers) {
    const upload = uploads.get(id)
    return numbers.map((n) => ({
      partNumber: n, method: 'PUT',
      url: 'https://bucket.oss/' + upload.key + '?partNumber=' + n + '&uploadId=' + id + '&gen=' + generation,
      headers: { 'Content-Type': upload.contentType }
    }))
  }

  function json (status, body) { return Promise.resolve({ status, data: JSON.stringify(body) }) }

  function request (req) {
    const path = req.url.replace(/^https?:\/\/[^/]+/, '')
    const body = JSON.parse(req.body || '{}')
    log.push([path, body])
    if (options.signer) {
      const injected = options.signer(path, body)
      if (injected) return Promise.resolve(injected)
    }
    const expiresAt = new Date(now() + ttl).toISOString()
    if (path === '/v1/multipart/uploads') {
      const size = options.serverPartSize || body.partSize || partSize
      const id = 'up' + crypto.randomBytes(4).toString('hex')
      const count = Math.ceil(body.size / size)
      uploads.set(id, { key: 'uploads/u/default/' + id + '.bin', size: body.size, partSize: size, contentType: body.contentType || 'application/octet-stream', parts: new Map() })
      const first = Array.from({ length: Math.min(count, options.firstUrls || 100) }, (_, i) => i + 1)
      return json(200, { key: uploads.get(id).key, uploadId: id, partSize: size, partCount: count, maxSize: 1e9, expiresAt, parts: partsFor(id, first) })
    }
    const upload = uploads.get(body.uploadId)
    if (!upload || upload.key !== body.key) return Promise.resolve(signerError(404, 'no_such_upload', 'The upload does not exist'))
    if (path === '/v1/multipart/parts') {
      const answer = { parts: partsFor(body.uploadId, body.partNumbers), expiresAt }
      if (body.listUploaded) {
        const held = [...upload.parts].sort((x, y) => x[0] - y[0]).filter(([n]) => n > (body.uploadedAfter || 0))
        const page = held.slice(0, options.listPage || 1000)
        answer.uploaded = page.map(([n, b]) => ({ partNumber: n, size: b.length, etag: md5(b) }))
        if (held.length > page.length) answer.nextUploadedAfter = page[page.length - 1][0]
      }
      return json(200, answer)
    }
    if (path === '/v1/multipart/abort') {
      uploads.delete(body.uploadId)
      return json(200, { aborted: true })
    }
    if (path === '/v1/multipart/complete') {
      const numbers = [...upload.parts.keys()].sort((a, b) => a - b)
      const highest = numbers.length ? numbers[numbers.length - 1] : 0
      const missing = []
      for (let n = 1; n <= Math.max(highest, Math.ceil(upload.size / upload.partSize)); n++) if (!upload.parts.has(n)) missing.push(n)
      if (missing.length) return Promise.resolve(signerError(400, 'incomplete_upload', 'Parts missing: ' + missing.join(', ')))
      const bytes = Buffer.concat(numbers.map((n) => upload.parts.get(n)))
      if (options.maxSize && bytes.length > options.maxSize) {
        uploads.delete(body.uploadId)
        return Promise.resolve(signerError(413, 'file_too_large', 'too large'))
      }
      uploads.delete(body.uploadId)
      fake.completed.push({ key: upload.key, bytes })
      return json(200, { key: upload.key, size: bytes.length, etag: '"' + md5(bytes).toUpperCase() + '-' + numbers.length + '"' })
    }
    return Promise.resolve(signerError(404, 'not_found', path))
  }

  function putPart (req) {
    const url = new URL(req.url)
    const n = Number(url.searchParams.get('partNumber'))
    const id = url.searchParams.get('uploadId')
    attempts[n] = (attempts[n] || 0) + 1
    inFlight++
    peak = Math.max(peak, inFlight)
    const data = Buffer.from(req.data)
    return new Promise((resolve, reject) => {
      const finish = (fn) => { inFlight--; fn() }
      const onAbort = () => finish(() => reject(Object.assign(new Error('aborted'), { code: 'aborted', name: 'UploadError' })))
      if (req.signal) req.signal.addEventListener('abort', onAbort)
      setTimeout(() => {
        if (req.signal) req.signal.removeEventListener('abort', onAbort)
        if (req.signal && req.signal.aborted) return
        const injected = options.fail && options.fail(n, attempts[n])
        if (injected) return finish(() => (injected.errMsg ? reject(injected) : resolve(injected)))
        if (Number(url.searchParams.get('gen')) < generation) return finish(() => resolve(ossError(403, 'AccessDenied', 'Request has expired.')))
        const upload = uploads.get(id)
        if (!upload) return finish(() => resolve(ossError(404, 'NoSuchUpload', 'The specified upload does not exist.')))
        if (req.headers['Content-Type'] !== upload.contentType) return finish(() => resolve(ossError(403, 'SignatureDoesNotMatch', 'content-type')))
        if (req.onProgress) req.onProgress({ loaded: data.length })
        upload.parts.set(n, data)
        bytesPut += data.length
        if (options.onPart) options.onPart(n)
        finish(() => resolve({ status: 200, data: '', headers: { ETag: '"' + md5(data) + '"' } }))
      }, options.delayMs === undefined ? 2 : options.delayMs)
    })
  }

  const fake = {
    request, putPart, uploads, log, completed: [],
    expireUrls () { generation++ },
    calls (path) { return log.filter(([p]) => p === path).map(([, b]) => b) },
    get peak () { return peak },
    get bytesPut () { return bytesPut },
    resetCounters () { peak = 0; bytesPut = 0 }
  }
  return fake
}

function md5 (bytes) { return crypto.createHash('md5').update(bytes).digest('hex') }

// readChunk over a Buffer, as FileSystemManager.readFile({position, length}) gives an ArrayBuffer.
function chunkReader (bytes) {
  return (params, position, length) => {
    const slice = bytes.subarray(position, position + length)
    return Promise.resolve(slice.buffer.slice(slice.byteOffset, slice.byteOffset + slice.length))
  }
}

module.exports = { createFakeMultipart, chunkReader }
