'use strict'
// A `wx` stand-in built on real HTTP, for end-to-end tests in Node: wx.request (a JSON body, or an ArrayBuffer
// for PUT; the default content-type application/json unless the caller sets one, as WeChat does), wx.uploadFile
// (multipart as WeChat sends it: formData fields, then the file part named `name`; progress events; abort),
// wx.login, getFileSystemManager().getFileInfo / stat / readFile({position, length}) and the sync storage calls.
// File paths are local paths. It counts the bytes it sends and the requests in flight (WeChat allows 10).

const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')
const crypto = require('node:crypto')

function send (url, method, headers, body, onProgress, onBytes) {
  const target = new URL(url)
  let request
  const promise = new Promise((resolve, reject) => {
    request = http.request({ hostname: target.hostname, port: target.port, path: target.pathname + target.search, method, headers }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ statusCode: res.statusCode, data: Buffer.concat(chunks).toString('utf8'), header: res.headers }))
      res.on('error', reject)
    })
    request.on('error', reject)
    if (!body) return request.end()
    let sent = 0
    const step = 64 * 1024
    const writeNext = () => {
      if (request.destroyed) return
      if (sent >= body.length) return request.end()
      const chunk = body.subarray(sent, sent + step)
      sent += chunk.length
      if (onBytes) onBytes(chunk.length)
      request.write(chunk, () => {
        if (onProgress) onProgress(sent, body.length)
        setImmediate(writeNext)
      })
    }
    writeNext()
  })
  return { promise, abort: () => request && request.destroy(new Error('abort')) }
}

function createWx (options = {}) {
  const storage = options.storage || new Map()
  const user = (options.user || 'wxtest') + crypto.randomBytes(4).toString('hex') // one WeChat user per stand-in
  let logins = 0
  let inFlight = 0
  function track (promise) {
    inFlight++
    wx.peakInFlight = Math.max(wx.peakInFlight, inFlight)
    const done = () => { inFlight-- }
    promise.then(done, done)
    return promise
  }
  const wx = {
    requests: [],
    uploads: [],
    bytesSent: 0,
    peakInFlight: 0,
    request ({ url, method = 'GET', header = {}, data, success, fail }) {
      const headers = { 'content-type': 'application/json' }
      for (const [name, value] of Object.entries(header)) {
        if (name.toLowerCase() === 'content-type') delete headers['content-type']
        headers[name] = value
      }
      let body
      if (data instanceof ArrayBuffer) body = Buffer.from(data)
      else if (data !== undefined) body = Buffer.from(typeof data === 'string' ? data : JSON.stringify(data))
      wx.requests.push({ url, method, header: headers, bytes: body ? body.length : 0 })
      if (body) headers['content-length'] = body.length
      const call = send(url, method, headers, body, null, (n) => { wx.bytesSent += n })
      let aborted = false
      track(call.promise).then(success, (e) => fail({ errMsg: aborted ? 'request:fail abort' : 'request:fail ' + e.message }))
      return { abort () { aborted = true; call.abort() } }
    },
    uploadFile ({ url, filePath, name, formData = {}, header = {}, success, fail }) {
      const listeners = []
      let aborted = false
      const boundary = '----WeChatFormBoundary' + crypto.randomBytes(8).toString('hex')
      const parts = []
      for (const [field, value] of Object.entries(formData)) {
        parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"\r\n\r\n${value}\r\n`))
      }
      let file
      try { file = fs.readFileSync(filePath) } catch (e) {
        setImmediate(() => fail({ errMsg: 'uploadFile:fail file not found' }))
        return { onProgressUpdate () {}, abort () {} }
      }
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${path.basename(filePath)}"\r\nContent-Type: application/octet-stream\r\n\r\n`))
      parts.push(file, Buffer.from(`\r\n--${boundary}--\r\n`))
      const body = Buffer.concat(parts)
      wx.uploads.push({ url, filePath, fields: Object.keys(formData) })
      const headers = Object.assign({}, header, { 'content-type': 'multipart/form-data; boundary=' + boundary, 'content-length': body.length })
      const call = send(url, 'POST', headers, body, (sent, total) => {
        const event = { progress: Math.floor(sent / total * 100), totalBytesSent: Math.max(0, sent - (total - file.length)), totalBytesExpectedToSend: file.length }
        listeners.forEach((l) => l(event))
      }, (n) => { wx.bytesSent += n })
      track(call.promise).then((res) => success({ statusCode: res.statusCode, data: res.data }),
        (e) => fail({ errMsg: aborted ? 'uploadFile:fail abort' : 'uploadFile:fail ' + e.message }))
      return {
        onProgressUpdate (listener) { listeners.push(listener) },
        abort () { aborted = true; call.abort() }
      }
    },
    login ({ success }) {
      logins++
      setImmediate(() => success({ code: user + '-' + logins, errMsg: 'login:ok' }))
    },
    getFileSystemManager () {
      return {
        getFileInfo ({ filePath, success, fail }) {
          fs.stat(filePath, (err, stat) => err ? fail({ errMsg: 'getFileInfo:fail no such file or directory ' + filePath }) : success({ size: stat.size }))
        },
        stat ({ path: filePath, success, fail }) {
          fs.stat(filePath, (err, stat) => err ? fail({ errMsg: 'stat:fail no such file or directory ' + filePath })
            : success({ stats: { size: stat.size, mode: stat.mode, lastModifiedTime: Math.floor(stat.mtimeMs / 1000), lastAccessedTime: Math.floor(stat.atimeMs / 1000) } }))
        },
        // Without `encoding`, an ArrayBuffer of [position, position + length) (base library 2.10.0).
        readFile ({ filePath, position = 0, length, encoding, success, fail }) {
          if (encoding) return setImmediate(() => fail({ errMsg: 'readFile:fail the stand-in reads bytes only' }))
          fs.open(filePath, 'r', (err, fd) => {
            if (err) return fail({ errMsg: 'readFile:fail no such file or directory ' + filePath })
            fs.fstat(fd, (e, stat) => {
              const size = length === undefined ? stat.size - position : length
              if (e || position + size > stat.size || size < 0) {
                fs.close(fd, () => {})
                return fail({ errMsg: 'readFile:fail the value of "position" or "length" is out of range' })
              }
              const buffer = new ArrayBuffer(size)
              fs.read(fd, new Uint8Array(buffer), 0, size, position, (readError) => {
                fs.close(fd, () => {})
                readError ? fail({ errMsg: 'readFile:fail ' + readError.message }) : success({ data: buffer })
              })
            })
          })
        }
      }
    },
    getStorageSync (key) { return storage.has(key) ? storage.get(key) : '' },
    setStorageSync (key, value) { storage.set(key, value) },
    removeStorageSync (key) { storage.delete(key) },
    get loginCount () { return logins }
  }
  return wx
}

module.exports = { createWx }
