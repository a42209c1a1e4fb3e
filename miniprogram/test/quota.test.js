'use strict'
// Quotas end to end: `make local` with a redis-server (LOCAL_REDIS=1), the wx adapter on real HTTP.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { createUploader } = require('../ossgate')
const { createWx } = require('./wx-standin')
const { startStack } = require('./stack')

let stack
let dir

test.before(async () => {
  stack = await startStack({ LOCAL_REDIS: '1', QUOTAS: JSON.stringify({ '*': { uploadsPerDay: 2 } }) })
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ossgate-quota-'))
})
test.after(async () => {
  if (stack) await stack.stop()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

test('over the daily quota: quota_exceeded with retryAfter, asked once, nothing sent to OSS', async () => {
  assert.equal(stack.quotas, true)
  const wx = createWx()
  const uploader = createUploader({ baseUrl: stack.fc, platform: 'wx', api: wx, auth: 'wechat', retryDelays: [5, 5, 5] })
  const filePath = path.join(dir, 'a.txt')
  fs.writeFileSync(filePath, 'hello')
  await uploader.upload({ filePath, contentType: 'text/plain' })
  await uploader.upload({ filePath, contentType: 'text/plain' })
  const ticketCalls = () => wx.requests.filter((r) => r.url.endsWith('/v1/uploads')).length
  assert.equal(ticketCalls(), 2)
  await assert.rejects(uploader.upload({ filePath, contentType: 'text/plain' }), (e) =>
    e.code === 'quota_exceeded' && e.status === 429 && e.signerCode === 'quota_exceeded' &&
    e.retryAfter > 5 && e.retryAfter <= 24 * 3600 && /uploadsPerDay/.test(e.message))
  assert.equal(ticketCalls(), 3) // final at once: no retry
  assert.equal(wx.uploads.length, 2)
})
