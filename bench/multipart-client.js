'use strict'
// `make bench`, client side of multipart uploads (issue 9), against `python -m local.dev` over real HTTP with the
// wx stand-in (miniprogram/test/wx-standin.js):
//  1. bytes sent again after an interruption once 50% and 90% of a 100 MB file's bytes are on the wire, then a
//     restart (a new uploader over the same storage): one form upload (wx.uploadFile starts from zero) vs
//     multipart (only the parts in flight);
//  2. the peak memory of a node process uploading 100 MB as parts through the wx stand-in (RSS, JS heap and
//     ArrayBuffers above the process's idle level), measured in a child process per mode.
// Usage: node bench/multipart-client.js   (BENCH_CLIENT_MB to change the file size)

const { spawn } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..')
const { createUploader } = require(path.join(ROOT, 'miniprogram', 'ossgate'))
const { createWx } = require(path.join(ROOT, 'miniprogram', 'test', 'wx-standin.js'))
const { startStack } = require(path.join(ROOT, 'miniprogram', 'test', 'stack.js'))

const MiB = 1024 * 1024
const SIZE = Number(process.env.BENCH_CLIENT_MB || 100) * MiB
const PROFILES = JSON.stringify({ default: { maxSize: SIZE + MiB } })

function writeFile (dir) {
  const file = path.join(dir, 'bench.bin')
  const fd = fs.openSync(file, 'w')
  for (let written = 0; written < SIZE; written += 4 * MiB) fs.writeSync(fd, crypto.randomBytes(Math.min(4 * MiB, SIZE - written)))
  fs.closeSync(fd)
  return file
}

function uploaderFor (stack, wx, multipart) {
  return createUploader({ baseUrl: stack.fc, platform: 'wx', api: wx, auth: 'wechat',
    multipartThreshold: multipart ? undefined : Infinity })
}

// Upload, interrupt at `fraction`, then restart with a new uploader over the same storage: bytes sent in all.
async function interrupted (stack, file, multipart, fraction) {
  const storage = new Map()
  const first = createWx({ storage, user: 'bench' })
  const controller = new AbortController()
  // The connection goes away once `fraction` of the file's bytes are on the wire, wherever the parts are.
  const watch = setInterval(() => { if (first.bytesSent >= fraction * SIZE) controller.abort() }, 1)
  await uploaderFor(stack, first, multipart).upload({ filePath: file, signal: controller.signal })
    .then(() => { throw new Error('the upload finished before the interruption') }, (e) => { if (e.code !== 'aborted') throw e })
    .finally(() => clearInterval(watch))
  await new Promise((resolve) => setTimeout(resolve, 200)) // let the aborted requests settle
  const second = createWx({ storage, user: 'bench' })
  const res = await uploaderFor(stack, second, multipart).upload({ filePath: file })
  const sent = first.bytesSent + second.bytesSent
  return { sent, again: sent - SIZE, resumed: Boolean(res.resumed) }
}

// Child process: upload once, sampling memory; print one JSON line.
async function measureMemory (mode) {
  const stack = JSON.parse(process.env.BENCH_STACK)
  const wx = createWx({ user: 'mem' })
  const up = uploaderFor(stack, wx, mode === 'multipart')
  await up.upload({ filePath: path.join(os.tmpdir(), 'ossgate-bench-warmup.txt') }) // login, code paths warm
  if (global.gc) global.gc()
  await new Promise((resolve) => setTimeout(resolve, 100))
  const idle = process.memoryUsage()
  const peak = { rss: idle.rss, heapUsed: idle.heapUsed, arrayBuffers: idle.arrayBuffers, live: idle.arrayBuffers }
  const timer = setInterval(() => {
    const m = process.memoryUsage()
    peak.rss = Math.max(peak.rss, m.rss)
    peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed)
    peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers)
  }, 5)
  // What is still referenced (garbage collected first), sampled less often: the bytes the upload really holds.
  const liveTimer = setInterval(() => {
    global.gc()
    peak.live = Math.max(peak.live, process.memoryUsage().arrayBuffers)
  }, 25)
  const started = Date.now()
  await up.upload({ filePath: process.env.BENCH_FILE })
  const seconds = (Date.now() - started) / 1000
  clearInterval(timer)
  clearInterval(liveTimer)
  console.log(JSON.stringify({ mode, idle: idle.rss, rss: peak.rss - idle.rss, heap: peak.heapUsed - idle.heapUsed,
    arrayBuffers: peak.arrayBuffers - idle.arrayBuffers, live: peak.live - idle.arrayBuffers, seconds }))
}

function child (mode, stack, file) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--expose-gc', __filename, '--memory', mode], {
      env: Object.assign({}, process.env, { BENCH_STACK: JSON.stringify({ fc: stack.fc }), BENCH_FILE: file }),
      stdio: ['ignore', 'pipe', 'inherit']
    })
    let out = ''
    proc.stdout.on('data', (c) => { out += c })
    proc.on('exit', (code) => code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(mode + ' exited ' + code)))
  })
}

const mb = (bytes) => (bytes / MiB).toFixed(2) + ' MB'

async function main () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ossgate-bench-'))
  fs.writeFileSync(path.join(os.tmpdir(), 'ossgate-bench-warmup.txt'), 'warm')
  const stack = await startStack({ UPLOAD_PROFILES: PROFILES, CALLBACK_URL: '' })
  try {
    const file = writeFile(dir)
    console.log('multipart client (wx stand-in over real HTTP to local.dev; %s file; default part size and concurrency)', mb(SIZE))
    console.log('%s %s %s', 'interruption, then a restart'.padEnd(46), 'one form upload'.padStart(17), 'multipart'.padStart(17))
    for (const fraction of [0.5, 0.9]) {
      const form = await interrupted(stack, file, false, fraction)
      const parts = await interrupted(stack, file, true, fraction)
      if (!parts.resumed) throw new Error('the multipart upload did not resume')
      console.log('%s %s %s', ('bytes sent again after stopping at ' + fraction * 100 + '%').padEnd(46),
        mb(form.again).padStart(17), mb(parts.again).padStart(17))
    }
    const form = await child('form', stack, file)
    const parts = await child('multipart', stack, file)
    console.log('%s %s %s', 'peak memory above idle while uploading'.padEnd(46), 'one form upload*'.padStart(17), 'multipart'.padStart(17))
    for (const [label, name] of [['  process RSS', 'rss'], ['  JS heap used', 'heap'], ['  ArrayBuffers (incl. garbage not yet collected)', 'arrayBuffers'],
      ['  ArrayBuffers still referenced (after a GC)', 'live']]) {
      console.log('%s %s %s', label.padEnd(46), mb(form[name]).padStart(17), mb(parts[name]).padStart(17))
    }
    console.log('%s %s %s', '  upload time'.padEnd(46), (form.seconds.toFixed(1) + ' s').padStart(17), (parts.seconds.toFixed(1) + ' s').padStart(17))
    console.log('* the stand-in builds the whole form in memory; WeChat\'s native wx.uploadFile streams the file outside JS.')
    console.log('multipart holds about partConcurrency (3) x partSize (the signer\'s default 1 MiB) of file bytes; what it sends')
    console.log('again is at most the parts in flight (3 x 1 MiB): on a fast local link they have usually reached OSS already.')
  } finally {
    await stack.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[2] === '--memory') {
  measureMemory(process.argv[3]).catch((e) => { console.error(e); process.exit(1) })
} else {
  main().catch((e) => { console.error(e); process.exit(1) })
}
