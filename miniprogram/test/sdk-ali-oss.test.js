'use strict'
// The local OSS proven by code we did not write: ali-oss (V4 header signing, signatureUrlV4) against
// `python -m local.oss`, with and without an STS token. Every call must succeed and store exactly the bytes sent;
// every tampered, expired, wrongly scoped or wrongly typed request must be refused with OSS's own error code,
// which ali-oss raises with .code, .status and .requestId. ali-oss checks no CRC itself, so the stored object's
// x-oss-hash-crc64ecma is checked here against CRC-64/XZ.

const { describe, it, before, after, mock } = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const OSS = require('ali-oss')
const { python, ROOT } = require('./stack')

const BUCKET = 'sdk-bucket'
const REGION = 'cn-hangzhou'
const ACCESS_KEY_ID = 'LTAI5tSdkMatrixKey'
const PART = 100 * 1024 // OSS's smallest part size (every part but the last)

// CRC-64/XZ (ECMA-182 polynomial, reflected), the CRC OSS returns in x-oss-hash-crc64ecma.
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let crc = BigInt(n)
  for (let bit = 0; bit < 8; bit++) crc = (crc & 1n) ? (crc >> 1n) ^ 0xC96C5795D7870F42n : crc >> 1n
  return crc
})
function crc64 (bytes) {
  const mask = 0xFFFFFFFFFFFFFFFFn
  let crc = mask
  for (const byte of bytes) crc = CRC_TABLE[Number((crc ^ BigInt(byte)) & 0xFFn)] ^ (crc >> 8n)
  return String(crc ^ mask)
}

function startLocalOss (withToken) {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'ossgate-sdk-'))
  const secret = crypto.randomBytes(18).toString('base64url')
  const token = withToken ? 'CAIS' + crypto.randomBytes(24).toString('base64url') : null
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(ALIBABA_CLOUD_|OSS_|LOCAL_OSS_)/.test(k)))
  Object.assign(env, { LOCAL_OSS_ACCESS_KEY_ID: ACCESS_KEY_ID, LOCAL_OSS_ACCESS_KEY_SECRET: secret })
  if (token) env.LOCAL_OSS_SECURITY_TOKEN = token
  const child = spawn(python(), ['-m', 'local.oss', '--port', '0', '--bucket', BUCKET, '--data', data, '--region', REGION],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (c) => { stderr += c })
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => { child.kill(); reject(new Error('local.oss did not start: ' + stderr)) }, 20000)
    child.stdout.on('data', (chunk) => {
      out += chunk
      const match = /http:\/\/[0-9.]+:(\d+)\//.exec(out)
      if (!match) return
      clearTimeout(timer)
      child.stdout.removeAllListeners('data')
      child.stdout.resume()
      const port = Number(match[1])
      resolve({
        port, secret, token, endpoint: 'http://127.0.0.1:' + port,
        stop: () => new Promise((done) => {
          const finish = () => { fs.rmSync(data, { recursive: true, force: true }); done() }
          if (child.exitCode !== null) return finish()
          child.once('exit', finish)
          child.kill('SIGTERM')
        })
      })
    })
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error('local.oss exited ' + code + ': ' + stderr)) })
  })
}

function client (server, extra = {}) {
  const options = {
    region: 'oss-' + REGION,
    accessKeyId: ACCESS_KEY_ID,
    accessKeySecret: server.secret,
    bucket: BUCKET,
    endpoint: server.endpoint, // an IP endpoint: ali-oss sends Host: <bucket>.oss-<region>.aliyuncs.com
    secure: false,
    authorizationV4: true,
    timeout: 10000,
    retryMax: 0,
    ...extra
  }
  const token = 'stsToken' in extra ? extra.stsToken : server.token
  if (token) {
    // as an app holding STS credentials does (ali-oss warns without it); within the hour it never fires
    const { accessKeyId, accessKeySecret } = options
    Object.assign(options, { stsToken: token, refreshSTSTokenInterval: 3600000, refreshSTSToken: async () => ({ accessKeyId, accessKeySecret, stsToken: token }) })
  } else {
    delete options.stsToken
  }
  return new OSS(options)
}

// A client whose presigned URLs are path-style (http://127.0.0.1:port/<bucket>/<key>), usable with no DNS.
function presigner (server, extra = {}) {
  return client(server, { sldEnable: true, ...extra })
}

function flipLastHex (hex) {
  return hex.slice(0, -1) + (hex.endsWith('0') ? '1' : '0')
}
function tamperUrl (url) {
  return url.replace(/x-oss-signature=([0-9a-f]{64})/, (_, s) => 'x-oss-signature=' + flipLastHex(s))
}

// One byte of the V4 Authorization header's signature changed, after ali-oss signed it.
function tampering (oss) {
  const sign = oss.authorizationV4.bind(oss)
  oss.authorizationV4 = (...args) => sign(...args).replace(/Signature=([0-9a-f]{64})/, (_, s) => 'Signature=' + flipLastHex(s))
  return oss
}

async function send (url, { method = 'GET', headers = {}, body } = {}) {
  const res = await fetch(url, { method, headers, body })
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) }
}

function assertRefused (err, code, status) {
  assert.equal(err.code, code, err.message)
  assert.equal(err.status, status, err.message)
  assert.ok(err.requestId, 'the error carries the request id')
  assert.ok(err.ecCode, 'the error carries OSS\'s EC')
  return true
}

// A presigned URL is sent by plain HTTP: OSS's XML error, with the request id.
function assertRawRefusal (res, code, status) {
  const text = res.body.toString('utf8')
  assert.equal(res.status, status, text)
  assert.match(text, new RegExp('<Code>' + code + '</Code>'))
  const requestId = /<RequestId>([^<]+)<\/RequestId>/.exec(text)
  assert.ok(requestId && requestId[1] === res.headers.get('x-oss-request-id'), text)
  assert.match(text, /<EC>[^<]+<\/EC>/)
}

async function assertAbsent (server, key) {
  // ali-oss reads no EC from a 404 HEAD (it has no body): code, status and request id only.
  await assert.rejects(client(server).head(key), (err) => {
    assert.equal(err.code, 'NoSuchKey', err.message)
    assert.equal(err.status, 404)
    assert.ok(err.requestId)
    return true
  })
}

// A TCP proxy that forwards until `budget` request bytes have passed, then cuts every connection and drops new ones
// (the network is down) until restore(). `sent` counts the request bytes that reached the server since then.
async function cuttingProxy (port, budget) {
  const state = { budget, sent: 0, cut: false, sockets: new Set() }
  const cutAll = () => {
    state.cut = true
    for (const s of state.sockets) s.destroy()
    state.sockets.clear()
  }
  const server = net.createServer((downstream) => {
    if (state.cut) return downstream.destroy()
    const upstream = net.connect(port, '127.0.0.1')
    state.sockets.add(downstream).add(upstream)
    downstream.on('data', (chunk) => {
      if (state.cut) return
      const allowed = state.budget === null ? chunk.length : Math.max(0, state.budget - state.sent)
      const part = chunk.subarray(0, allowed)
      state.sent += part.length
      if (part.length) upstream.write(part)
      if (state.budget !== null && state.sent >= state.budget) cutAll()
    })
    upstream.on('data', (chunk) => downstream.write(chunk))
    for (const [a, b] of [[downstream, upstream], [upstream, downstream]]) {
      a.on('error', () => b.destroy())
      a.on('close', () => { b.destroy(); state.sockets.delete(a) })
    }
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    state,
    endpoint: 'http://127.0.0.1:' + server.address().port,
    restore () { Object.assign(state, { budget: null, sent: 0, cut: false }) },
    close () { cutAll(); return new Promise((resolve) => server.close(resolve)) }
  }
}

it('CRC-64/XZ matches the catalogued check value for "123456789"', () => {
  // CRC RevEng catalogue, CRC-64/XZ: check=0x995dc9bbdf1939fa
  assert.equal(crc64(Buffer.from('123456789')), String(0x995dc9bbdf1939fan))
})

for (const withToken of [true, false]) {
  describe(withToken ? 'ali-oss with an STS token' : 'ali-oss without a token', () => {
    let server
    let dir
    before(async () => {
      server = await startLocalOss(withToken)
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ossgate-sdk-files-'))
    })
    after(async () => {
      if (server) await server.stop()
      if (dir) fs.rmSync(dir, { recursive: true, force: true })
    })

    function file (name, size) {
      const bytes = crypto.randomBytes(size)
      const p = path.join(dir, name)
      fs.writeFileSync(p, bytes)
      return { path: p, bytes }
    }

    it('put, get, head, delete', async () => {
      const oss = client(server)
      const data = crypto.randomBytes(3000)
      const put = await oss.put('sdk/ali/a.txt', data, { mime: 'text/plain' })
      assert.equal(put.res.status, 200)
      assert.equal(put.res.headers['x-oss-hash-crc64ecma'], crc64(data))
      const got = await oss.get('sdk/ali/a.txt')
      assert.deepEqual(got.content, data)
      assert.equal(got.res.headers['content-type'], 'text/plain')
      const ranged = await oss.get('sdk/ali/a.txt', { headers: { Range: 'bytes=5-14' } })
      assert.equal(ranged.res.status, 206)
      assert.deepEqual(ranged.content, data.subarray(5, 15))
      const head = await oss.head('sdk/ali/a.txt')
      assert.equal(head.res.headers['content-length'], '3000')
      assert.equal(head.res.headers.etag, '"' + crypto.createHash('md5').update(data).digest('hex').toUpperCase() + '"')
      assert.equal(head.res.headers['x-oss-hash-crc64ecma'], crc64(data))
      assert.equal((await oss.delete('sdk/ali/a.txt')).res.status, 204)
      await assertAbsent(server, 'sdk/ali/a.txt')
      await assert.rejects(oss.get('sdk/ali/a.txt'), (err) => assertRefused(err, 'NoSuchKey', 404))
    })

    it('multipartUpload with progress and checkpoints', async () => {
      const oss = client(server)
      const { path: p, bytes } = file('big.bin', 5 * PART + 4321)
      const events = []
      const result = await oss.multipartUpload('sdk/ali/big.bin', p, {
        partSize: PART, parallel: 2, mime: 'application/octet-stream', progress: (fraction, cp) => { events.push([fraction, cp ? cp.doneParts.length : null]) }
      })
      assert.equal(result.res.status, 200)
      assert.match(result.etag, /-6"$/)
      // ali-oss reports 0 with the new checkpoint, k/(n+1) with each part done, then 1 (no checkpoint) once complete
      assert.deepEqual(events[0], [0, 0])
      assert.deepEqual(events.slice(-2), [[6 / 7, 6], [1, null]])
      const got = await oss.get('sdk/ali/big.bin')
      assert.deepEqual(got.content, bytes)
      assert.equal(got.res.headers['x-oss-hash-crc64ecma'], crc64(bytes))
    })

    it('signatureUrlV4 PUT and GET', async () => {
      const signer = presigner(server)
      const data = Buffer.from('presigned by ali-oss')
      const putUrl = await signer.signatureUrlV4('PUT', 60, { headers: { 'Content-Type': 'text/plain' } }, 'sdk/ali/p.txt')
      assert.match(putUrl, /x-oss-signature-version=OSS4-HMAC-SHA256/)
      const put = await send(putUrl, { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: data })
      assert.equal(put.status, 200, put.body.toString())
      assert.equal(put.headers.get('x-oss-hash-crc64ecma'), crc64(data))
      const getUrl = await signer.signatureUrlV4('GET', 60, {}, 'sdk/ali/p.txt')
      const got = await send(getUrl)
      assert.equal(got.status, 200)
      assert.deepEqual(got.body, data)
    })

    it('a key that needs encoding: put, get, signatureUrlV4 GET', async () => {
      const key = 'sdk/ali/dir name/ä+b%20c~d=e&f;g.txt'
      const data = Buffer.from('odd key')
      assert.equal((await client(server).put(key, data)).res.status, 200)
      assert.deepEqual((await client(server).get(key)).content, data)
      const got = await send(await presigner(server).signatureUrlV4('GET', 60, {}, key))
      assert.equal(got.status, 200, got.body.toString())
      assert.deepEqual(got.body, data)
    })

    it('copy, tagging, listV2, deleteMulti, getBucketInfo', async () => {
      const oss = client(server)
      await oss.put('sdk/ali/tools/src.txt', Buffer.from('source'), { mime: 'text/plain' })
      const copied = await oss.copy('sdk/ali/tools/dst.txt', 'sdk/ali/tools/src.txt')
      assert.equal(copied.res.status, 200)
      assert.equal((await oss.get('sdk/ali/tools/dst.txt')).content.toString(), 'source')
      assert.equal((await oss.putObjectTagging('sdk/ali/tools/dst.txt', { state: 'pending' })).status, 200)
      assert.deepEqual((await oss.getObjectTagging('sdk/ali/tools/dst.txt')).tag, { state: 'pending' })
      const listed = await oss.listV2({ prefix: 'sdk/ali/tools/', 'max-keys': 1 })
      assert.equal(listed.isTruncated, true)
      const rest = await oss.listV2({ prefix: 'sdk/ali/tools/', 'continuation-token': listed.nextContinuationToken })
      assert.deepEqual([...listed.objects, ...rest.objects].map((o) => o.name), ['sdk/ali/tools/dst.txt', 'sdk/ali/tools/src.txt'])
      const removed = await oss.deleteMulti(['sdk/ali/tools/src.txt', 'sdk/ali/tools/dst.txt'])
      assert.deepEqual(removed.deleted.map((d) => d.Key).sort(), ['sdk/ali/tools/dst.txt', 'sdk/ali/tools/src.txt'])
      await assertAbsent(server, 'sdk/ali/tools/src.txt')
      const info = await oss.getBucketInfo(BUCKET)
      assert.equal(info.bucket.Name, BUCKET)
      assert.equal(info.bucket.Location, 'oss-' + REGION)
    })

    it('an interrupted multipartUpload resumes from its checkpoint', async () => {
      const { path: p, bytes } = file('cut.bin', 10 * PART + 999)
      const proxy = await cuttingProxy(server.port, Math.floor(bytes.length / 2))
      let checkpoint
      const options = { partSize: PART, parallel: 1, mime: 'application/octet-stream', progress: (_, cp) => { if (cp) checkpoint = JSON.parse(JSON.stringify(cp)) } }
      try {
        const oss = client(server, { endpoint: proxy.endpoint })
        await assert.rejects(oss.multipartUpload('sdk/ali/cut.bin', p, options))
        assert.ok(proxy.state.cut)
        assert.ok(checkpoint && checkpoint.uploadId && checkpoint.doneParts.length > 0 && checkpoint.doneParts.length < 11,
          JSON.stringify(checkpoint))
        await assertAbsent(server, 'sdk/ali/cut.bin')

        proxy.restore()
        const result = await oss.multipartUpload('sdk/ali/cut.bin', p, { ...options, checkpoint })
        assert.equal(result.res.status, 200)
        assert.ok(proxy.state.sent > 0 && proxy.state.sent < bytes.length - 3 * PART, 'only the missing parts are sent: ' + proxy.state.sent)
      } finally {
        await proxy.close()
      }
      const got = await client(server).get('sdk/ali/cut.bin')
      assert.deepEqual(got.content, bytes)
      assert.equal(got.res.headers['x-oss-hash-crc64ecma'], crc64(bytes))
    })

    // ---- refusals ----

    it('refuses a header signature with one byte changed', async () => {
      const oss = tampering(client(server))
      await assert.rejects(oss.put('sdk/ali/tampered.txt', Buffer.from('x')), (err) => assertRefused(err, 'SignatureDoesNotMatch', 403))
      await assert.rejects(oss.head('sdk/ali/tampered.txt'), (err) => assertRefused(err, 'SignatureDoesNotMatch', 403))
      await assertAbsent(server, 'sdk/ali/tampered.txt')
    })

    it('refuses a request whose Content-Type was changed after signing', async () => {
      const oss = client(server)
      const sign = oss.authorizationV4.bind(oss)
      oss.authorizationV4 = (method, request, ...rest) => {
        const authorization = sign(method, request, ...rest)
        request.headers['Content-Type'] = 'application/json'
        return authorization
      }
      await assert.rejects(oss.put('sdk/ali/ct-header.txt', Buffer.from('x'), { mime: 'text/plain' }),
        (err) => assertRefused(err, 'SignatureDoesNotMatch', 403))
      await assertAbsent(server, 'sdk/ali/ct-header.txt')
    })

    it('refuses to overwrite with x-oss-forbid-overwrite', async () => {
      const oss = client(server)
      await oss.put('sdk/ali/once.txt', Buffer.from('first'))
      await assert.rejects(oss.put('sdk/ali/once.txt', Buffer.from('second'), { headers: { 'x-oss-forbid-overwrite': 'true' } }),
        (err) => assertRefused(err, 'FileAlreadyExists', 409))
      assert.equal((await oss.get('sdk/ali/once.txt')).content.toString(), 'first')
    })

    it('refuses a presigned URL with one byte of its signature changed', async () => {
      await client(server).put('sdk/ali/t.txt', Buffer.from('t'))
      const signer = presigner(server)
      assertRawRefusal(await send(tamperUrl(await signer.signatureUrlV4('GET', 60, {}, 'sdk/ali/t.txt'))), 'SignatureDoesNotMatch', 403)
      const putUrl = await signer.signatureUrlV4('PUT', 60, { headers: { 'Content-Type': 'text/plain' } }, 'sdk/ali/t2.txt')
      assertRawRefusal(await send(tamperUrl(putUrl), { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: 'x' }), 'SignatureDoesNotMatch', 403)
      await assertAbsent(server, 'sdk/ali/t2.txt')
    })

    it('refuses an expired presigned URL', async () => {
      await client(server).put('sdk/ali/e.txt', Buffer.from('e'))
      const signer = presigner(server)
      mock.timers.enable({ apis: ['Date'], now: Date.now() - 20 * 60 * 1000 }) // signed 20 minutes ago, valid for 10
      let getUrl, putUrl, stillValid
      try {
        getUrl = await signer.signatureUrlV4('GET', 600, {}, 'sdk/ali/e.txt')
        putUrl = await signer.signatureUrlV4('PUT', 600, { headers: { 'Content-Type': 'text/plain' } }, 'sdk/ali/e2.txt')
        stillValid = await signer.signatureUrlV4('GET', 3600, {}, 'sdk/ali/e.txt') // valid for an hour
      } finally {
        mock.timers.reset()
      }
      assert.equal((await send(stillValid)).body.toString(), 'e')
      assertRawRefusal(await send(getUrl), 'AccessDenied', 403)
      assertRawRefusal(await send(putUrl, { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: 'x' }), 'AccessDenied', 403)
      await assertAbsent(server, 'sdk/ali/e2.txt')
    })

    it('refuses a presigned PUT sent with a Content-Type it did not sign', async () => {
      const putUrl = await presigner(server).signatureUrlV4('PUT', 60, { headers: { 'Content-Type': 'text/plain' } }, 'sdk/ali/ct.txt')
      assertRawRefusal(await send(putUrl, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: '{}' }), 'SignatureDoesNotMatch', 403)
      await assertAbsent(server, 'sdk/ali/ct.txt')
    })

    it('refuses a wrong security token', { skip: !withToken && 'the no-token server has no token to get wrong' }, async () => {
      const wrong = server.token.slice(0, -1) + (server.token.endsWith('x') ? 'y' : 'x')
      await assert.rejects(client(server, { stsToken: wrong }).put('sdk/ali/tok.txt', Buffer.from('x')),
        (err) => assertRefused(err, 'InvalidSecurityToken', 403))
      const getUrl = await presigner(server, { stsToken: wrong }).signatureUrlV4('GET', 60, {}, 'sdk/ali/tok.txt')
      assertRawRefusal(await send(getUrl), 'InvalidSecurityToken', 403)
      await assertAbsent(server, 'sdk/ali/tok.txt')
    })

    it('refuses an unknown access key id', async () => {
      await assert.rejects(client(server, { accessKeyId: 'LTAI5tNoSuchKeyId' }).put('sdk/ali/ak.txt', Buffer.from('x')),
        (err) => assertRefused(err, 'InvalidAccessKeyId', 403))
      await assertAbsent(server, 'sdk/ali/ak.txt')
    })

    it('refuses a signature scoped to another region', async () => {
      // Real OSS: 400 InvalidArgument "Invalid signing region in Authorization header." (EC 0002-00000226),
      // reported in github.com/aliyun/alibabacloud-oss-go-sdk-v2/issues/29.
      await assert.rejects(client(server, { region: 'oss-cn-shanghai' }).put('sdk/ali/region.txt', Buffer.from('x')),
        (err) => assertRefused(err, 'InvalidArgument', 400))
      const getUrl = await presigner(server, { region: 'oss-cn-shanghai' }).signatureUrlV4('GET', 60, {}, 'sdk/ali/region.txt')
      assertRawRefusal(await send(getUrl), 'InvalidArgument', 400)
      await assertAbsent(server, 'sdk/ali/region.txt')
    })
  })
}
