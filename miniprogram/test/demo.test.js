'use strict'
// The demo mini program's page logic, run in Node with the real-HTTP wx stand-in: choose files, upload each
// with progress, plain-word results (in Chinese), download links.

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { createWx } = require('./wx-standin')
const { startStack } = require('./stack')
const { loadDemo, until } = require('./demo-harness')

test('the demo page uploads chosen files and reports each in plain words', async (t) => {
  const stack = await startStack()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ossgate-demo-'))
  t.after(async () => { await stack.stop(); fs.rmSync(dir, { recursive: true, force: true }); delete global.wx })
  const photo = path.join(dir, 'tmp_photo.jpg')
  const empty = path.join(dir, 'empty.txt')
  fs.writeFileSync(photo, crypto.randomBytes(50000))
  fs.writeFileSync(empty, '')
  const wx = createWx()
  const clipboard = []
  wx.chooseMedia = ({ success }) => success({ tempFiles: [{ tempFilePath: photo, size: 50000, fileType: 'image' }] })
  wx.chooseMessageFile = ({ success }) => success({ tempFiles: [{ path: empty, size: 0, name: 'empty.txt' }] })
  wx.setClipboardData = ({ data }) => clipboard.push(data)
  wx.showToast = () => {}
  const page = loadDemo(wx, stack.fc)

  page.chooseImages()
  page.chooseChatFiles()
  await until(() => page.data.items.length === 2 && page.data.items.every((i) => i.state !== 'uploading'))
  const [emptyItem, photoItem] = page.data.items
  assert.equal(emptyItem.state, 'failed')
  assert.equal(emptyItem.message, '文件是空的。')
  assert.equal(photoItem.state, 'done')
  assert.equal(photoItem.progress, 100)
  assert.match(photoItem.message, /^已存储为 uploads\/u[0-9a-f]+\/default\/.+\.jpg$/)

  const big = path.join(dir, 'big.bin')
  fs.writeFileSync(big, crypto.randomBytes(3 * 1024 * 1024))
  wx.chooseMessageFile = ({ success }) => success({ tempFiles: [{ path: big, size: 3 * 1024 * 1024, name: 'big.bin' }] })
  page.chooseChatFiles()
  const bigItem = () => page.data.items[0]
  await until(() => bigItem().progress > 0)
  page.cancel({ currentTarget: { dataset: { id: bigItem().id } } })
  await until(() => bigItem().state === 'failed')
  assert.equal(bigItem().message, '已取消。')

  page.copyLink({ currentTarget: { dataset: { key: photoItem.key } } })
  await until(() => clipboard.length === 1)
  assert.match(clipboard[0], /x-oss-signature=/)
})

test('with MODERATION=wechat the demo shows "检测中…" and then WeChat\'s verdict', async (t) => {
  const stack = await startStack({ MODERATION: 'wechat', LOCAL_WECHAT_PUSH_DELAY: '0.1' })
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ossgate-demo-mod-'))
  t.after(async () => { await stack.stop(); fs.rmSync(dir, { recursive: true, force: true }); delete global.wx })
  const clean = path.join(dir, 'tmp_clean.png')
  const risky = path.join(dir, 'tmp_risky.jpg')
  fs.writeFileSync(clean, crypto.randomBytes(2000))
  fs.writeFileSync(risky, Buffer.concat([crypto.randomBytes(2000), Buffer.from('OSSGATE-RISKY')]))
  const wx = createWx()
  wx.chooseMedia = ({ success }) => success({ tempFiles: [
    { tempFilePath: clean, size: 2000, fileType: 'image' },
    { tempFilePath: risky, size: 2013, fileType: 'image' }] })
  const demoDir = path.join(__dirname, '..', 'demo') + path.sep
  Object.keys(require.cache).filter((file) => file.startsWith(demoDir)).forEach((file) => delete require.cache[file])
  const page = loadDemo(wx, stack.fc)
  const checks = new Set()
  const setData = page.setData
  page.setData = function (changes) {
    Object.keys(changes).filter((k) => k.endsWith('.check')).forEach((k) => checks.add(changes[k]))
    setData.call(this, changes)
  }
  page.chooseImages()
  const done = (item) => item.check && item.check !== '检测中…'
  await until(() => page.data.items.length === 2 && page.data.items.every(done), 30000)
  const [riskyItem, cleanItem] = page.data.items
  assert.ok(checks.has('检测中…'))
  assert.equal(cleanItem.check, '已通过微信内容安全检测。')
  assert.equal(riskyItem.check, '已移除：微信判定其有风险。')
  assert.equal(riskyItem.key, '') // no download link for a removed upload
})

function loadFreshDemo (wx, baseUrl) {
  const demoDir = path.join(__dirname, '..', 'demo') + path.sep
  Object.keys(require.cache).filter((file) => file.startsWith(demoDir)).forEach((file) => delete require.cache[file])
  return loadDemo(wx, baseUrl)
}

test('a picker failure is explained in Chinese; a cancelled picker says nothing', (t) => {
  t.after(() => { delete global.wx })
  const wx = createWx()
  const modals = []
  wx.showModal = (options) => modals.push(options)
  const page = loadFreshDemo(wx, 'http://127.0.0.1:9')
  wx.chooseMedia = ({ fail }) => fail({ errno: 112, errMsg: 'chooseMedia:fail api scope is not declared in the privacy agreement' })
  page.chooseImages()
  wx.chooseMessageFile = ({ fail }) => fail({ errno: 600002, errMsg: 'chooseMessageFile:fail url not in domain list' })
  page.chooseChatFiles()
  wx.chooseMedia = ({ fail }) => fail({ errMsg: 'chooseMedia:fail cancel' })
  page.chooseImages()
  assert.equal(modals.length, 2)
  assert.equal(modals[0].title, '无法选择文件')
  assert.match(modals[0].content, /^小程序的用户隐私保护指引中没有声明此接口/)
  assert.match(modals[1].content, /^该地址的域名不在小程序的合法域名列表中/)
})
