'use strict'
// A real browser: Playwright (playwright-core) drives Debian's chromium through the demo page served by
// `make local`'s FC server; the file must land byte-identical. A screenshot is saved under test-output/.
// The page follows the browser's language: Chinese for zh*, English otherwise.

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const get = require('./http-get')
const { startStack, ROOT } = require('./stack')

const CHROMIUM = process.env.OSSGATE_CHROMIUM || '/usr/bin/chromium'
const OUTPUT = path.join(ROOT, 'test-output')
const READY_ZH = 'text=就绪：请选择或拖入文件。'


test('the browser demo uploads a file that lands byte-identical', async (t) => {
  assert.ok(fs.existsSync(CHROMIUM), 'chromium is missing: `make test` installs Debian\'s chromium package')
  const { chromium } = require('playwright-core')
  const stack = await startStack()
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
  t.after(async () => { await browser.close(); await stack.stop() })
  const page = await browser.newPage({ viewport: { width: 900, height: 700 }, locale: 'zh-CN' })
  const pageErrors = []
  page.on('pageerror', (e) => pageErrors.push(e.message))
  await page.goto(stack.fc + '/demo/')
  await page.waitForSelector(READY_ZH, { timeout: 15000 })
  assert.equal(await page.locator('h1').textContent(), 'ossgate 浏览器演示')
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN')

  const header = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.from([0, 0, 2, 128, 0, 0, 1, 224])])
  const bytes = Buffer.concat([header, crypto.randomBytes(300 * 1024)])
  await page.setInputFiles('#files', { name: 'Screenshot 2026.PNG', mimeType: 'image/png', buffer: bytes })
  const item = page.locator('li.done')
  await item.waitFor({ timeout: 20000 })
  const key = await item.getAttribute('data-key')
  assert.match(key, /^uploads\/u[0-9a-f]{31}\/default\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{32}\.png$/)
  const href = await item.locator('a.download').getAttribute('href', { timeout: 10000 })
  const fetched = await get(href)
  assert.equal(fetched.status, 200)
  assert.ok(fetched.body.equals(bytes), 'the stored object is byte-identical')
  assert.equal(await item.locator('progress').evaluate((p) => p.value), 1)
  assert.equal(await item.locator('.stored').textContent(), '已存储：image/png，' + bytes.length + ' 字节，640×480')
  assert.match(await item.locator('a.download').textContent(), /^下载（链接有效期至 \d{4}-/)
  assert.deepEqual(pageErrors, [])

  fs.mkdirSync(OUTPUT, { recursive: true })
  await page.screenshot({ path: path.join(OUTPUT, 'browser-demo.png'), fullPage: true })
})

// Large files: the same page, the browser adapter's Blob.slice + XHR PUT parts against the local OSS.
test('the browser demo: a 100 MB multipart upload, then a pause, a page reload and a resume', async (t) => {
  assert.ok(fs.existsSync(CHROMIUM), 'chromium is missing: `make test` installs Debian\'s chromium package')
  const os = require('node:os')
  const { chromium } = require('playwright-core')
  const stack = await startStack({ CALLBACK_URL: '', UPLOAD_PROFILES: JSON.stringify({ default: { maxSize: 200 * 1024 * 1024 } }) })
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ossgate-browser-'))
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
  t.after(async () => { await browser.close(); await stack.stop(); fs.rmSync(dir, { recursive: true, force: true }) })
  const page = await browser.newPage({ viewport: { width: 900, height: 700 }, locale: 'zh-CN' })
  const pageErrors = []
  page.on('pageerror', (e) => pageErrors.push(e.message))
  const puts = []
  page.on('request', (r) => { if (r.method() === 'PUT') puts.push(new URL(r.url()).searchParams.get('partNumber')) })
  await page.goto(stack.fc + '/demo/')
  await page.waitForSelector(READY_ZH, { timeout: 15000 })

  // Playwright passes big files by path (buffers are limited to 50 MB)
  const big = path.join(dir, 'video.mp4')
  const bytes = crypto.randomBytes(100 * 1024 * 1024)
  fs.writeFileSync(big, bytes)
  await page.setInputFiles('#files', big)
  const item = page.locator('li.done')
  await item.waitFor({ timeout: 120000 })
  const key = await item.getAttribute('data-key')
  const href = await item.locator('a.download').getAttribute('href', { timeout: 10000 })
  const fetched = await get(href)
  assert.ok(fetched.body.equals(bytes), 'the stored object is byte-identical')
  assert.match(key, /\.mp4$/)
  assert.ok(puts.length >= 10, 'sent as parts: ' + puts.length)
  assert.equal(await item.locator('.resumed').textContent(), '')

  // pause at about half, reload the page (the checkpoint is in localStorage), choose the file again
  const medium = path.join(dir, 'talk.mov')
  const mediumBytes = crypto.randomBytes(24 * 1024 * 1024)
  fs.writeFileSync(medium, mediumBytes)
  await page.evaluate(() => { document.getElementById('list').textContent = '' })
  puts.length = 0
  await page.setInputFiles('#files', medium)
  await page.waitForFunction(() => { const p = document.querySelector('li progress'); return p && p.value >= 0.5 }, null, { timeout: 60000, polling: 20 })
  await page.click('li button.pause')
  await page.locator('li.paused').waitFor({ timeout: 10000 })
  const sentBefore = new Set(puts)
  await page.reload()
  await page.waitForSelector(READY_ZH, { timeout: 15000 })
  puts.length = 0
  await page.setInputFiles('#files', medium)
  const resumed = page.locator('li.done')
  await resumed.waitFor({ timeout: 60000 })
  assert.match(await resumed.locator('.resumed').textContent(), /^已续传/)
  assert.ok(puts.filter((n) => sentBefore.has(n)).length <= 3, 'only the parts in flight at the pause are sent again')
  assert.ok(puts.length < 24 * 0.6, 'about half is sent after the reload: ' + puts.length)
  const again = await get(await resumed.locator('a.download').getAttribute('href', { timeout: 10000 }))
  assert.ok(again.body.equals(mediumBytes))
  assert.deepEqual(pageErrors, [])
  fs.mkdirSync(OUTPUT, { recursive: true })
  await page.screenshot({ path: path.join(OUTPUT, 'browser-demo-resumed.png'), fullPage: true })
})

test('two files picked at once in an English browser: English text, one login, both land, both download links work', async (t) => {
  const { chromium } = require('playwright-core')
  const stack = await startStack()
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
  t.after(async () => { await browser.close(); await stack.stop() })
  const page = await browser.newPage({ locale: 'en-US' })
  const pageErrors = []
  page.on('pageerror', (e) => pageErrors.push(e.message))
  const logins = []
  page.on('request', (r) => { if (r.url().endsWith('/v1/session')) logins.push(r.url()) })
  await page.goto(stack.fc + '/demo/')
  await page.waitForSelector('text=Ready: choose or drop files.', { timeout: 15000 })
  assert.equal(await page.locator('h1').textContent(), 'ossgate browser demo')
  assert.equal(await page.locator('#drop').textContent(), 'Drop files here, or click to choose')
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en')

  const files = ['first.txt', 'second.txt'].map((name) => ({ name, mimeType: 'text/plain', buffer: crypto.randomBytes(2048) }))
  await page.setInputFiles('#files', files)
  await page.waitForFunction(() => document.querySelectorAll('li a.download').length === 2 ||
    document.querySelectorAll('li.failed').length > 0, null, { timeout: 20000 })
  assert.equal(await page.locator('li.failed').count(), 0, await page.locator('li.failed').allTextContents().then(String))
  assert.equal(logins.length, 1, 'files picked together share one login')
  for (const file of files) {
    const item = page.locator('li', { hasText: file.name })
    const href = await item.locator('a.download').getAttribute('href')
    const fetched = await get(href)
    assert.equal(fetched.status, 200, file.name + ' downloads')
    assert.ok(fetched.body.equals(file.buffer), file.name + ' is byte-identical')
    assert.match(await item.locator('a.download').textContent(), /^download \(link valid until \d{4}-/)
  }
  assert.deepEqual(pageErrors, [])
})

test('with MODERATION=wechat the browser demo shows "检测中…" and then each verdict', async (t) => {
  const { chromium } = require('playwright-core')
  const stack = await startStack({ MODERATION: 'wechat', LOCAL_WECHAT_PUSH_DELAY: '0.1' })
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
  t.after(async () => { await browser.close(); await stack.stop() })
  const page = await browser.newPage({ locale: 'zh-CN' })
  const pageErrors = []
  page.on('pageerror', (e) => pageErrors.push(e.message))
  const checking = []
  await page.exposeFunction('sawChecking', (text) => checking.push(text))
  await page.goto(stack.fc + '/demo/')
  await page.waitForSelector(READY_ZH, { timeout: 15000 })
  await page.evaluate(() => new MutationObserver(() => {
    document.querySelectorAll('.check').forEach((line) => { if (line.textContent === '检测中…') window.sawChecking(line.textContent) })
  }).observe(document.body, { subtree: true, childList: true, characterData: true }))

  const png = Buffer.from('89504e470d0a1a0a', 'hex')
  await page.setInputFiles('#files', [
    { name: 'clean.png', mimeType: 'image/png', buffer: Buffer.concat([png, crypto.randomBytes(1024)]) },
    { name: 'risky.png', mimeType: 'image/png', buffer: Buffer.concat([png, Buffer.from('OSSGATE-RISKY')]) }])
  await page.waitForFunction(() => Array.from(document.querySelectorAll('li .check'))
    .filter((line) => line.textContent !== '检测中…').length === 2, null, { timeout: 30000 })
  assert.equal(await page.locator('li', { hasText: 'clean.png' }).locator('.check').textContent(),
    '已通过微信内容安全检测')
  const risky = page.locator('li', { hasText: 'risky.png' })
  assert.equal(await risky.locator('.check').textContent(), '已移除：微信判定其有风险')
  assert.equal(await risky.getAttribute('class'), 'failed')
  assert.ok(checking.length > 0, 'the page said "检测中…" while WeChat checked')
  assert.deepEqual(pageErrors, [])
})
