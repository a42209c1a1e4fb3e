'use strict'
// The demo mini program's "chat files" path with a large file: a multipart upload that is paused, resumed (and
// says so), and one that is discarded.

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { createWx } = require('./wx-standin')
const { startStack } = require('./stack')
const { loadDemo, until } = require('./demo-harness')
const get = require('./http-get')

test('a large chat file: Pause, Resume (sending only the rest, marked resumed), background and back, Discard', async (t) => {
  const stack = await startStack({ CALLBACK_URL: '', UPLOAD_PROFILES: JSON.stringify({ default: { maxSize: 100 * 1024 * 1024 } }) })
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ossgate-demo-mp-'))
  t.after(async () => { await stack.stop(); fs.rmSync(dir, { recursive: true, force: true }); delete global.wx })
  const size = 14 * 1024 * 1024 + 3
  const bytes = crypto.randomBytes(size)
  const video = path.join(dir, 'wxfile_tmp_abc.mp4')
  fs.writeFileSync(video, bytes)
  const wx = createWx()
  wx.chooseMessageFile = ({ success }) => success({ tempFiles: [{ path: video, size, name: 'lecture.mp4', type: 'file', time: 1764460800 }] })
  wx.setClipboardData = () => {}
  wx.showToast = () => {}
  const page = loadDemo(wx, stack.fc)

  page.chooseChatFiles()
  const item = () => page.data.items[0]
  await until(() => item().progress >= 40)
  assert.equal(item().large, true)
  page.cancel({ currentTarget: { dataset: { id: item().id } } })
  await until(() => item().state === 'paused')
  assert.match(item().message, /^已暂停/)
  const sentBefore = wx.requests.filter((r) => r.method === 'PUT').length
  page.resume({ currentTarget: { dataset: { id: item().id } } })
  await until(() => item().state === 'done', 60000)
  assert.match(item().message, /^已续传并存储为 uploads\/u[0-9a-f]+\/default\/.+\.mp4$/)
  assert.equal(item().resumed, true)
  const parts = wx.requests.filter((r) => r.method === 'PUT')
  const sentAfter = parts.length - sentBefore
  assert.ok(sentAfter < parts.length * 0.7, 'resume sent ' + sentAfter + ' of ' + parts.length + ' part requests')
  const link = await getApp().uploader.download(item().key)
  assert.ok((await get(link.url)).body.equals(bytes))

  // the mini program goes to the background mid-upload, then comes back
  page.chooseChatFiles()
  await until(() => page.data.items.length === 2 && item().progress >= 30)
  page.onHide()
  await until(() => item().state === 'paused')
  page.onShow()
  await until(() => item().state === 'done', 60000)
  assert.equal(item().resumed, true)

  page.chooseChatFiles()
  await until(() => page.data.items.length === 3 && item().progress >= 20)
  page.cancel({ currentTarget: { dataset: { id: item().id } } })
  await until(() => item().state === 'paused')
  page.discard({ currentTarget: { dataset: { id: item().id } } })
  await until(() => item().message === '已放弃。')
  assert.equal(wx.requests.filter((r) => r.url.endsWith('/v1/multipart/abort')).length, 1)
})
