'use strict'
// A `wx` stand-in built on real HTTP, for end-to-end tests in Node: wx.request, wx.uploadFile (multipart as
// WeChat sends it: formData fields, then the file part named `name`; progress events; abort), wx.login,
// getFileSystemManager().getFileInfo and the sync storage calls. File paths are local paths.

const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')
const crypto = require('node:crypto')

function send (url, method, headers, body, onProgress) {
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
  const storage = new Map()
  const user = (options.user || 'wxtest') + crypto.randomBytes(4).toString('hex') // one WeChat user per stand-in
  let logins = 0
  const wx = {
    requests: [],
    uploads: [],
    request ({ url, method = 'GET', header = {}, data, success, fail }) {
      wx.requests.push({ url, method, header })
      const body = data === undefined ? undefined : Buffer.from(typeof data === 'string' ? data : JSON.stringify(data))
      const headers = Object.assign({ 'content-type': 'application/json' }, header)
      if (body) headers['content-length'] = body.length
      const call = send(url, method, headers, body)
      call.promise.then(success, (e) => fail({ errMsg: 'request:fail ' + e.message }))
      return { abort: call.abort }
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
      })
      call.promise.then((res) => success({ statusCode: res.statusCode, data: res.data }),
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
