'use strict'
// UploadError: one error type for every failure, with a stable `code` and, from OSS, its own error code.

// WeChat's failures, clock skew and expired tickets: hints.js (rules as data); the OSS codes below otherwise.
var hints = require('./hints.js')

var HINTS = {
  SignatureDoesNotMatch: 'OSS could not verify the signature: send the ticket\'s fields exactly as given, in order, with the file last (field name "file").',
  AccessDenied: 'OSS refused the form: a field the ticket pins (key, type, overwrite) was changed, or the ticket is for another bucket.',
  EntityTooLarge: 'The file is bigger than the profile allows.',
  EntityTooSmall: 'The file is empty.',
  FileAlreadyExists: 'This ticket was already used: each ticket uploads one file once.',
  InvalidAccessKeyId: 'The signer\'s credentials are not valid for this bucket.',
  cors: 'The browser blocked the request: check the bucket\'s CORS rule and the signer\'s CORS_ALLOW_ORIGINS.',
  network: 'The network request failed: check connectivity and that the URL is reachable over HTTPS.'
}

function UploadError (code, message, details) {
  var error = new Error(message)
  Object.setPrototypeOf(error, UploadError.prototype)
  error.name = 'UploadError'
  error.code = code
  details = details || {}
  var names = ['status', 'signerCode', 'ossCode', 'ossMessage', 'requestId', 'hint', 'cause', 'source', 'key',
    'retryAfter']
  for (var i = 0; i < names.length; i++) {
    if (details[names[i]] !== undefined) error[names[i]] = details[names[i]]
  }
  return error
}
UploadError.prototype = Object.create(Error.prototype, {
  constructor: { value: UploadError, writable: true, configurable: true }
})

function xmlTag (text, tag) {
  var match = new RegExp('<' + tag + '>([\\s\\S]*?)</' + tag + '>').exec(text || '')
  return match ? match[1] : undefined
}

// OSS answers errors as XML: <Error><Code/><Message/><RequestId/>…</Error>
function parseOssError (text) {
  if (typeof text !== 'string' || text.indexOf('<Error>') < 0) return null
  return { code: xmlTag(text, 'Code'), message: xmlTag(text, 'Message'), requestId: xmlTag(text, 'RequestId') }
}

// The signer answers errors as {"error": {"code", "message", "requestId"}}
function parseSignerError (data) {
  var body = typeof data === 'string' ? safeJson(data) : data
  return body && body.error && typeof body.error === 'object' ? body.error : null
}

// Seconds to wait before asking again: the Retry-After header (seconds or an HTTP date) or the body's retryAfter.
function retryAfterSeconds (headers, detail, now) {
  var value
  for (var name in headers || {}) {
    if (name.toLowerCase() === 'retry-after') value = headers[name]
  }
  if (value === undefined || value === null || value === '') value = detail && detail.retryAfter
  if (typeof value === 'number') return value >= 0 ? Math.ceil(value) : undefined
  if (typeof value !== 'string') return undefined
  if (/^\s*\d+\s*$/.test(value)) return parseInt(value, 10)
  var date = Date.parse(value)
  return isNaN(date) ? undefined : Math.max(0, Math.ceil((date - (now || Date.now)()) / 1000))
}

function safeJson (text) {
  try { return JSON.parse(text) } catch (e) { return null }
}

function ossHint (ossCode, ossMessage) {
  var hint = hints.hintFor({ ossCode: ossCode, ossMessage: ossMessage })
  if (hint) return hint
  return HINTS[ossCode]
}

function networkHint (errMsg) {
  var text = String(errMsg || '')
  var hint = hints.hintFor({ errMsg: text })
  if (hint) return hint
  if (/Failed to fetch|CORS|NetworkError when attempting/i.test(text)) return HINTS.cors
  return HINTS.network
}

module.exports = {
  UploadError: UploadError,
  parseOssError: parseOssError,
  parseSignerError: parseSignerError,
  retryAfterSeconds: retryAfterSeconds,
  ossHint: ossHint,
  networkHint: networkHint,
  safeJson: safeJson,
  HINTS: HINTS
}
