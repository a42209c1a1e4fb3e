'use strict'
// The platform-neutral core: ticket → form upload → result, with retries, fresh tickets, abort and a queue;
// files from `multipartThreshold` on go through multipart.js where the adapter can PUT parts.
// It talks only to an adapter (see adapters/); it never touches wx, uni, my, Taro or window itself.

var errors = require('./errors.js')
var mime = require('./mime.js')
var retry = require('./retry.js')
var queueModule = require('./queue.js')
var authModule = require('./auth.js')
var multipartModule = require('./multipart.js')
var UploadError = errors.UploadError

var MAX_CONCURRENCY = 10 // WeChat allows 10 requests in flight
var MAX_ATTEMPTS = 4
var DEFAULT_MULTIPART_THRESHOLD = 10 * 1024 * 1024
// What OSS answers a successful PostObject with (success_action_status); 203 means the callback failed.
var SUCCESS_STATUSES = [200, 201, 204]

function abortError () {
  return new UploadError('aborted', 'The upload was aborted.')
}

function whenAborted (signal, callback) {
  if (!signal) return function () {}
  if (signal.aborted) { callback(); return function () {} }
  if (typeof signal.addEventListener === 'function') {
    signal.addEventListener('abort', callback)
    return function () { signal.removeEventListener('abort', callback) }
  }
  return function () {}
}

function sleep (ms, signal) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { stop(); resolve() }, ms)
    var stop = whenAborted(signal, function () { clearTimeout(timer); reject(abortError()) })
  })
}

function createUploader (options) {
  options = options || {}
  if (!options.baseUrl) throw new UploadError('invalid_argument', 'createUploader needs baseUrl (the signer\'s URL)')
  var adapter = options.adapter || require('./adapters/index.js').resolve(options.platform, options)
  var baseUrl = String(options.baseUrl).replace(/\/+$/, '')
  var delays = options.retryDelays || retry.DEFAULT_DELAYS
  var rules = options.retryRules || retry.RULES
  var timeout = options.timeout || 60000
  var random = options.random || Math.random
  var now = options.now || Date.now
  var concurrency = Math.max(1, Math.min(options.concurrency || 3, MAX_CONCURRENCY))
  var queue = queueModule.createQueue(concurrency)
  // Every request the uploader sends (signer calls, form uploads, parts) shares WeChat's 10 in flight.
  var inFlight = queueModule.createQueue(MAX_CONCURRENCY)
  var auth = authModule.createAuth(options.auth, adapter, baseUrl, postJson, now)
  var multipartThreshold = options.multipartThreshold !== undefined ? options.multipartThreshold : DEFAULT_MULTIPART_THRESHOLD
  var multipart = multipartModule.createMultipart({
    adapter: adapter, callSigner: callSigner, send: send, withRetries: withRetries, rules: rules, now: now,
    partConcurrency: Math.max(1, Math.min(options.partConcurrency || 3, MAX_CONCURRENCY)),
    partSize: options.partSize, timeout: timeout, abortError: abortError, whenAborted: whenAborted, describe: describe
  })

  function send (method, req) {
    return inFlight.run(function () {
      if (req.signal && req.signal.aborted) throw abortError()
      return adapter[method](req)
    })
  }

  function postJson (url, payload, authorization, signal) {
    var headers = { 'Content-Type': 'application/json' }
    if (authorization) headers.Authorization = authorization
    return send('request', { url: url, method: 'POST', headers: headers, body: JSON.stringify(payload),
      timeout: timeout, signal: signal }).then(function (res) {
      return { status: res.status, body: typeof res.data === 'string' ? errors.safeJson(res.data) : res.data,
        headers: res.headers }
    }, function (cause) {
      if (cause && cause.code === 'aborted') throw cause
      throw new UploadError('network', 'Could not reach the signer at ' + url + ': ' + describe(cause),
        { hint: errors.networkHint(describe(cause)), cause: cause, source: 'signer' })
    })
  }

  // An authenticated call to the signer; `answered(body)` says whether a 200 body is the expected one.
  // `used.authorization` records the header sent, so a 401 invalidates that token and no newer one.
  function callSigner (path, payload, signal, answered, used) {
    return auth.header().then(function (authorization) {
      if (used) used.authorization = authorization
      return postJson(baseUrl + path, payload, authorization, signal)
    }).then(function (res) {
      if (res.status === 200 && res.body && answered(res.body)) return res.body
      var detail = errors.parseSignerError(res.body) || {}
      var code = res.status >= 500 || res.status === 429 ? 'signer_unavailable' : 'ticket_refused'
      if (detail.code === 'quota_exceeded') code = 'quota_exceeded'
      throw new UploadError(code, detail.message || 'The signer answered HTTP ' + res.status,
        { status: res.status, requestId: detail.requestId, signerCode: detail.code, source: 'signer',
          retryAfter: res.status === 429 || res.status === 503 ? errors.retryAfterSeconds(res.headers, detail, now) : undefined })
    })
  }

  function requestTicket (job, signal, used) {
    return callSigner('/v1/uploads', job.ticketRequest, signal, function (body) { return body.fields }, used)
  }

  function sendFile (job, ticket, signal) {
    return send('uploadFile', {
      url: ticket.url, fields: ticket.fields, filePath: job.filePath, file: job.file, fileName: job.filename,
      contentType: job.contentType, timeout: timeout, signal: signal, onProgress: job.progress
    }).then(function (res) {
      if (SUCCESS_STATUSES.indexOf(res.status) >= 0) {
        var data = typeof res.data === 'string' && res.data ? errors.safeJson(res.data) : (res.data || null)
        var etag = (res.headers && (res.headers.ETag || res.headers.etag)) || (data && data.etag)
        var result = { key: ticket.key, size: job.size }
        if (etag) result.etag = String(etag).replace(/"/g, '')
        if (data && typeof data === 'object') result.data = data
        return result
      }
      var oss = errors.parseOssError(res.data) || {}
      var code = res.status === 203 ? 'callback_failed' : 'oss_rejected'
      throw new UploadError(code, 'OSS refused the upload: ' + (oss.code || 'HTTP ' + res.status) +
        (oss.message ? ' (' + oss.message + ')' : ''), {
        status: res.status, ossCode: oss.code, ossMessage: oss.message, requestId: oss.requestId,
        hint: errors.ossHint(oss.code, oss.message), source: 'oss'
      })
    }, function (cause) {
      if (cause && cause.code === 'aborted') throw cause
      throw new UploadError('network', 'The upload to OSS failed: ' + describe(cause),
        { hint: errors.networkHint(describe(cause)), cause: cause, source: 'oss' })
    })
  }

  // Runs `task(used)` until it succeeds or the retry rules say stop; `onRetry(action, error)` runs before each
  // retry. A task passes `used` to callSigner, so a 401 invalidates the token it was refused with, no newer one.
  function withRetries (task, signal, onRetry) {
    var relogged = false
    var tries = 0
    var used = {}
    function step () {
      if (signal && signal.aborted) return Promise.reject(abortError())
      return Promise.resolve(used).then(task).catch(function (error) {
        var action = retry.decide(error, rules)
        if (action === 'relogin' && !relogged && auth.invalidate(used.authorization)) {
          relogged = true
          if (onRetry) onRetry(action, error)
          return step()
        }
        tries++
        if (tries >= MAX_ATTEMPTS || (action !== 'retry' && action !== 'new_ticket')) throw error
        if (onRetry) onRetry(action, error)
        return sleep(retry.delayFor(error, tries - 1, delays, random), signal).then(step)
      })
    }
    return step()
  }

  function attempt (job) {
    var ticket = null
    return withRetries(function (used) {
      var got = ticket ? Promise.resolve(ticket) : requestTicket(job, job.signal, used)
      return got.then(function (t) {
        ticket = t
        return sendFile(job, t, job.signal)
      })
    }, job.signal, function (action, error) {
      if (action !== 'retry' || error.source === 'signer') ticket = null
    })
  }

  function upload (params) {
    params = params || {}
    return Promise.resolve().then(function () {
      if (!params.filePath && !params.file) throw new UploadError('invalid_argument', 'upload needs filePath (or file in a browser)')
      if (params.signal && params.signal.aborted) throw abortError()
      return sizeOf(params)
    }).then(function (size) {
      if (typeof size !== 'number' || !(size >= 0) || Math.floor(size) !== size) {
        throw new UploadError('invalid_argument', 'size must be a whole number of bytes')
      }
      if (size === 0) throw new UploadError('empty_file', 'The file is empty: there is nothing to upload.')
      var job = makeJob(params, size)
      var parts = size >= multipartThreshold && adapter.canPutParts === true
      var run = queue.run(function () {
        if (job.signal && job.signal.aborted) throw abortError()
        return parts ? multipart.upload(job, params) : attempt(job)
      }).then(function (result) {
        job.progress({ progress: 1, loaded: size, total: size })
        return result
      })
      if (!job.signal) return run
      // An upload still waiting in the queue is aborted at once, not when its turn comes.
      var stop
      var aborted = new Promise(function (resolve, reject) { stop = whenAborted(job.signal, function () { reject(abortError()) }) })
      run.catch(function () {}) // its outcome is the race's, whichever settles first
      return Promise.race([run, aborted]).then(function (result) { stop(); return result }, function (error) { stop(); throw error })
    })
  }

  function makeJob (params, size) {
    var ticketRequest = { size: size }
    var filename = params.filename || (params.file && params.file.name) || baseName(params.filePath)
    // No contentType given: the file name's extension says (mime.js), so a typed profile accepts a photo.
    var contentType = params.contentType || mime.inferContentType(filename)
    if (contentType) ticketRequest.contentType = contentType
    if (filename) ticketRequest.filename = filename
    if (params.profile) ticketRequest.profile = params.profile
    var best = 0
    return {
      ticketRequest: ticketRequest, size: size, filePath: params.filePath, file: params.file,
      filename: filename, contentType: contentType, signal: params.signal,
      progress: function (event) { // monotonic: a retry never moves the bar backwards
        var loaded = Math.min(size, Math.max(0, event.loaded || 0))
        var fraction = event.progress !== undefined ? event.progress : loaded / size
        if (fraction > best && typeof params.onProgress === 'function') {
          best = Math.min(1, fraction)
          params.onProgress({ progress: best, loaded: Math.round(best * size), total: size })
        }
      }
    }
  }

  // Abort a paused multipart upload of this file on OSS and forget its checkpoint.
  function discard (params) {
    params = params || {}
    return Promise.resolve().then(function () {
      if (!params.filePath && !params.file) throw new UploadError('invalid_argument', 'discard needs filePath (or file in a browser)')
      return sizeOf(params)
    }).then(function (size) { return multipart.discard(params, size) })
  }

  function sizeOf (params) {
    if (params.size !== undefined) return params.size
    return adapter.fileSize(params).catch(function (cause) {
      throw new UploadError('file_unreadable', 'Could not read the file: ' + describe(cause), { cause: cause })
    })
  }

  return {
    upload: upload,
    discard: discard,
    download: function (key, signal) {
      return callSigner('/v1/downloads', { key: key }, signal, function (body) { return body.url })
    },
    // MODERATION=wechat: {key, moderation: 'pending' | 'pass' | 'review' | 'risky' | 'unchecked'}
    moderationStatus: function (key, signal) {
      return callSigner('/v1/moderation/status', { key: key }, signal, function (body) { return body.moderation })
    },
    get adapter () { return adapter }
  }
}

function baseName (path) {
  if (typeof path !== 'string') return undefined
  var parts = path.split(/[\\/]/)
  return parts[parts.length - 1] || undefined
}

function describe (cause) {
  if (!cause) return 'unknown error'
  return cause.errMsg || cause.message || String(cause)
}

module.exports = {
  createUploader: createUploader, UploadError: UploadError, MAX_CONCURRENCY: MAX_CONCURRENCY,
  DEFAULT_MULTIPART_THRESHOLD: DEFAULT_MULTIPART_THRESHOLD
}
