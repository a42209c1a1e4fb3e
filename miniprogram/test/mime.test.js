'use strict'
// mime.js: content types from file extensions, for uploads that give none; never an active type.
const test = require('node:test')
const assert = require('node:assert/strict')
const { createUploader, inferContentType } = require('../ossgate')
const { CONTENT_TYPES } = require('../ossgate/mime.js')
const { createFakeAdapter, ticketAnswer } = require('./fake-adapter')

test('common photo, video, audio and document extensions, any case, from paths and temp URLs', () => {
  const expected = {
    'wxfile://tmp_a1b2.jpg': 'image/jpeg', 'http://tmp/photo.JPEG': 'image/jpeg', 'a.png': 'image/png', 'a.gif': 'image/gif',
    'a.webp': 'image/webp', 'IMG_0001.HEIC': 'image/heic', 'clip.mp4': 'video/mp4', 'clip.MOV': 'video/quicktime',
    'song.mp3': 'audio/mpeg', 'voice.m4a': 'audio/mp4', 'voice.aac': 'audio/aac', 'voice.wav': 'audio/wav',
    'doc.pdf': 'application/pdf', 'notes.txt': 'text/plain', 'bundle.zip': 'application/zip',
    'C:\\Users\\me\\Pictures\\cat.png': 'image/png', 'https://x.example/a.jpg?x=1#y': 'image/jpeg'
  }
  for (const [name, type] of Object.entries(expected)) assert.equal(inferContentType(name), type, name)
})

test('unknown, missing and active types give nothing', () => {
  for (const name of ['a.html', 'a.htm', 'a.svg', 'a.js', 'a.mjs', 'a.xml', 'a.xhtml', 'a.css', 'a.exe', 'a', 'a.', '', undefined, null, 7]) {
    assert.equal(inferContentType(name), undefined, String(name))
  }
  const active = /html|svg|javascript|ecmascript|\/xml|\+xml|css/
  assert.deepEqual(Object.values(CONTENT_TYPES).filter((type) => active.test(type)), [])
})

test('an upload without contentType asks for the inferred type; a given contentType wins', async () => {
  const adapter = createFakeAdapter({ request: () => Promise.resolve(ticketAnswer()), uploadFile: () => Promise.resolve({ status: 200, data: '' }) })
  const uploader = createUploader({ adapter, baseUrl: 'https://signer.example' })
  await uploader.upload({ filePath: 'wxfile://tmp_a1b2.jpg', size: 10 })
  await uploader.upload({ filePath: 'wxfile://tmp_a1b2.jpg', size: 10, contentType: 'image/png' })
  await uploader.upload({ filePath: 'wxfile://tmp_a1b2.unknown', size: 10 })
  const bodies = adapter.calls.request.map((call) => JSON.parse(call.body))
  assert.equal(bodies[0].contentType, 'image/jpeg')
  assert.equal(bodies[1].contentType, 'image/png')
  assert.equal(bodies[2].contentType, undefined)
  assert.equal(adapter.calls.uploadFile[0].contentType, 'image/jpeg')
})
