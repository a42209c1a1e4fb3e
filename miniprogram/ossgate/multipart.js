'use strict'
// Large files: a resumable multipart upload that only the signer can complete (POST /v1/multipart/*).
// Parts are read one at a time with adapter.readChunk and PUT to presigned URLs with exactly the signed headers,
// `partConcurrency` at once; a checkpoint in storage lets a later upload() of the same file send only what OSS
// lacks. Platform-neutral: it needs an adapter with canPutParts, readChunk and putPart.

var errors = require('./errors.js')
var retry = require('./retry.js')
var abortModule = require('./abort.js')
var checkpointsModule = require('./checkpoints.js')
var UploadError = errors.UploadError

var URLS_PER_CALL = 100 // the signer presigns at most 100 part URLs per call
var URL_MARGIN_MS = 60 * 1000 // part URLs this close to expiry are renewed before use
var SAVE_EVERY_MS = 2000
var FORGET_AFTER = ['file_too_large', 'already_exists', 'no_such_upload']

function createMultipart (deps) {
  var adapter = deps.adapter
  var checkpoints = checkpointsModule.createCheckpoints(adapter.storage, deps.now)
  var active = {} // fingerprint -> the upload of that file running now

  // The file's identity for its fingerprint: a File's name and lastModified; a path with the lastModified the app
  // gives (then its filename stands for the temp path, which changes between launches); else path and stat time.
  function identify (params, size) {
    if (params.file) return Promise.resolve({ name: params.file.name || params.filename, size: size, modified: params.file.lastModified })
    if (params.lastModified !== undefined) {
      return Promise.resolve({ name: params.filename || params.filePath, size: size, modified: params.lastModified })
    }
    var modified = typeof adapter.fileModified === 'function'
      ? adapter.fileModified(params).then(null, function () { return undefined })
      : Promise.resolve(undefined)
    return modified.then(function (m) { return { name: params.filePath, size: size, modified: m } })
  }

  function upload (job, params) {
    return identify(params, job.size).then(function (identity) {
      var print = checkpointsModule.fingerprint(identity)
      // The same file again while its upload is still running (or still winding down after a pause):
      // wait for it, then resume from its checkpoint or start anew.
      if (active[print]) {
        var after = function () { return upload(job, params) }
        return active[print].then(after, after)
      }
      var saved = checkpoints.load(print)
      if (saved && !sameUpload(saved, job)) {
        abortOnOss(saved).then(null, function () {}) // the same file for another profile or type: of no use
        checkpoints.remove(print)
        saved = null
      }
      var running = run(job, print, saved, false)
      active[print] = running
      var done = function () { if (active[print] === running) delete active[print] }
      running.then(done, done)
      return running
    })
  }

  function sameUpload (saved, job) {
    var request = job.ticketRequest
    return saved.size === job.size && saved.contentType === (request.contentType || null) &&
      saved.profile === (request.profile || null)
  }

  // One multipart upload from initiate (or resume) to complete; a vanished upload begins again once.
  function run (job, print, saved, restarted) {
    var state = null
    var begin = saved ? resume(saved, job) : initiate(job, print)
    return begin.then(function (s) {
      state = s
      return sendParts(state, job)
    }).then(function () {
      return complete(state, job)
    }).then(function (body) {
      if (print) checkpoints.remove(print)
      var result = { key: body.key || state.checkpoint.key, size: typeof body.size === 'number' ? body.size : job.size }
      if (body.etag) result.etag = String(body.etag).replace(/"/g, '')
      if (body.data && typeof body.data === 'object') result.data = body.data
      if (state.resumed) result.resumed = true
      return result
    }, function (error) {
      var completing = state && state.completing
      var hadUpload = Boolean(saved || state)
      if (!restarted && hadUpload && !completing && retry.decide(error, deps.rules) === 'restart') {
        if (print) checkpoints.remove(print)
        return run(job, print, null, true)
      }
      var over = FORGET_AFTER.indexOf(error.signerCode) >= 0 || error.ossCode === 'NoSuchUpload' || error.code === 'callback_failed'
      if (print && over) {
        checkpoints.remove(print)
      }
      throw error
    })
  }

  function initiate (job, print) {
    var payload = Object.assign({}, job.ticketRequest)
    if (deps.partSize) payload.partSize = deps.partSize
    return deps.withRetries(function (used) {
      return deps.callSigner('/v1/multipart/uploads', payload, job.signal, function (body) {
        return body.uploadId && body.key && body.partSize > 0 && Array.isArray(body.parts)
      }, used)
    }, job.signal).then(function (body) {
      var checkpoint = {
        fingerprint: print, key: body.key, uploadId: body.uploadId, partSize: body.partSize,
        partCount: body.partCount || Math.ceil(job.size / body.partSize), size: job.size, maxSize: body.maxSize,
        contentType: job.ticketRequest.contentType || null, profile: job.ticketRequest.profile || null,
        filename: job.filename || null, createdAt: deps.now(), done: []
      }
      if (print) checkpoints.save(checkpoint)
      return newState(checkpoint, body, {}, false)
    })
  }

  // Ask the signer what OSS already holds (a page of up to 1,000 parts per call); parts of the wrong size are
  // sent again. The first call also brings URLs for up to 100 parts believed missing.
  function resume (checkpoint, job) {
    var sent = {}
    checkpoint.done.forEach(function (n) { sent[n] = true })
    var ask = missingParts(checkpoint, sent).slice(0, URLS_PER_CALL)
    var done = {}
    var first = null
    function page (after) {
      var payload = { key: checkpoint.key, uploadId: checkpoint.uploadId, partNumbers: after ? [] : ask, listUploaded: true }
      if (after) payload.uploadedAfter = after
      return deps.withRetries(function (used) {
        return deps.callSigner('/v1/multipart/parts', payload, job.signal, function (body) { return Array.isArray(body.parts) }, used)
      }, job.signal).then(function (body) {
        if (!first) first = body
        ;(body.uploaded || []).forEach(function (part) {
          if (part.size === partLength(checkpoint, part.partNumber)) done[part.partNumber] = true
        })
        var next = body.nextUploadedAfter
        return typeof next === 'number' && next > (after || 0) ? page(next) : null
      })
    }
    return page(0).then(function () {
      checkpoint.done = Object.keys(done).map(Number)
      if (checkpoint.fingerprint) checkpoints.update(checkpoint)
      return newState(checkpoint, first, done, true)
    })
  }

  function newState (checkpoint, body, done, resumed) {
    var state = { checkpoint: checkpoint, urls: {}, expiresAt: 0, done: done, resumed: resumed, fetching: null, completing: false }
    remember(state, body)
    return state
  }

  function remember (state, body) {
    ;(body.parts || []).forEach(function (part) { state.urls[part.partNumber] = part })
    var expires = Date.parse(body.expiresAt)
    state.expiresAt = isNaN(expires) ? Infinity : expires
  }

  function sendParts (state, job) {
    var checkpoint = state.checkpoint
    var pending = missingParts(checkpoint, state.done)
    var loading = {}
    var controller = abortModule.createAbortController()
    var failure = null
    var doneBytes = 0
    Object.keys(state.done).forEach(function (n) { doneBytes += partLength(checkpoint, Number(n)) })
    var savedAt = deps.now()

    function report () {
      var loaded = doneBytes
      Object.keys(loading).forEach(function (n) { loaded += loading[n] })
      job.progress({ loaded: loaded, progress: loaded / job.size })
    }
    report()

    // The parts done are only a hint for resuming (OSS's list is the truth): saved every few seconds, and at the end,
    // so that thousands of parts do not mean thousands of synchronous storage writes.
    function save (force) {
      if (!checkpoint.fingerprint || (!force && deps.now() - savedAt < SAVE_EVERY_MS)) return
      savedAt = deps.now()
      checkpoints.update(checkpoint)
    }

    var stopLinking = deps.whenAborted(job.signal, function () { save(true); controller.abort() })

    function worker () {
      if (failure || controller.signal.aborted) return Promise.resolve()
      var n = pending.shift()
      if (n === undefined) return Promise.resolve()
      return sendPart(state, job, n, pending, controller.signal, function (loaded) {
        loading[n] = loaded
        report()
      }).then(function () {
        delete loading[n]
        state.done[n] = true
        doneBytes += partLength(checkpoint, n)
        checkpoint.done.push(n)
        save(false)
        report()
        return worker()
      }, function (error) {
        delete loading[n]
        if (!failure) failure = error
        controller.abort() // one part failed for good: stop the others
      })
    }

    var workers = []
    for (var i = 0; i < Math.min(deps.partConcurrency, pending.length); i++) workers.push(worker())
    return Promise.all(workers).then(function () {
      stopLinking()
      save(true)
      if (job.signal && job.signal.aborted) throw deps.abortError()
      if (failure) throw failure
    })
  }

  function sendPart (state, job, n, pending, signal, onLoaded) {
    var checkpoint = state.checkpoint
    var position = (n - 1) * checkpoint.partSize
    var length = partLength(checkpoint, n)
    return deps.withRetries(function () {
      onLoaded(0)
      return partTarget(state, n, pending, signal).then(function (target) {
        return adapter.readChunk({ filePath: job.filePath, file: job.file }, position, length).then(null, function (cause) {
          throw new UploadError('file_unreadable', 'Could not read the file: ' + deps.describe(cause), { cause: cause })
        }).then(function (data) {
          return deps.send('putPart', {
            url: target.url, method: target.method || 'PUT', headers: target.headers || {}, data: data,
            timeout: deps.timeout, signal: signal,
            onProgress: function (e) { if (e && e.loaded >= 0) onLoaded(Math.min(length, e.loaded)) }
          })
        })
      }).then(function (res) {
        if (res.status === 200) return
        var oss = errors.parseOssError(res.data) || {}
        throw new UploadError('oss_rejected', 'OSS refused part ' + n + ': ' + (oss.code || 'HTTP ' + res.status) +
          (oss.message ? ' (' + oss.message + ')' : ''), {
          status: res.status, ossCode: oss.code, ossMessage: oss.message, requestId: oss.requestId,
          hint: errors.ossHint(oss.code, oss.message), source: 'oss'
        })
      }, function (cause) {
        if (cause && (cause.code === 'aborted' || cause.name === 'UploadError')) throw cause
        throw new UploadError('network', 'Part ' + n + ' did not reach OSS: ' + deps.describe(cause),
          { hint: errors.networkHint(deps.describe(cause)), cause: cause, source: 'oss' })
      })
    }, signal, function (action) {
      if (action === 'new_ticket') state.urls = {} // they all expire together
    })
  }

  // A presigned URL for part n, fetched with the next parts' in one call when missing or about to expire.
  function partTarget (state, n, pending, signal) {
    var valid = function () { return state.urls[n] && deps.now() < state.expiresAt - URL_MARGIN_MS }
    if (valid()) return Promise.resolve(state.urls[n])
    function fetch (round) {
      if (!state.fetching) {
        var numbers = [n].concat(pending.filter(function (m) { return m !== n })).slice(0, URLS_PER_CALL)
        state.fetching = deps.callSigner('/v1/multipart/parts',
          { key: state.checkpoint.key, uploadId: state.checkpoint.uploadId, partNumbers: numbers }, signal,
          function (body) { return Array.isArray(body.parts) }).then(function (body) {
          state.urls = {} // the new URLs' expiry applies to all: older ones may expire sooner
          remember(state, body)
          return numbers
        })
        var clear = function () { state.fetching = null }
        state.fetching.then(clear, clear)
      }
      return state.fetching.then(function (asked) {
        if (state.urls[n]) return state.urls[n]
        if (asked.indexOf(n) >= 0 || round >= 3) {
          throw new UploadError('signer_unavailable', 'The signer gave no URL for part ' + n, { source: 'signer' })
        }
        return fetch(round + 1)
      })
    }
    return fetch(0)
  }

  function complete (state, job) {
    state.completing = true
    var checkpoint = state.checkpoint
    var payload = { key: checkpoint.key, uploadId: checkpoint.uploadId }
    function call () {
      var interrupted = null // the failure (network, 5xx) before a retry: the complete may have happened anyway
      return deps.withRetries(function (used) {
        return deps.callSigner('/v1/multipart/complete', payload, job.signal, function (body) { return body.key }, used)
      }, job.signal, function (action, error) { interrupted = error }).then(null, function (error) {
        if (error.signerCode === 'no_such_upload' && interrupted) return unanswered(checkpoint, interrupted, error)
        if (error.signerCode === 'callback_failed') error.code = 'callback_failed' // stored; the callback failed
        throw error
      })
    }
    return call().then(null, function (error) {
      if (error.signerCode !== 'incomplete_upload' || state.resent) throw refused(error)
      // OSS lacks a part we believe was sent: ask what it holds and send the rest, then complete once more.
      state.resent = true
      state.completing = false
      return resume(checkpoint, job).then(function (fresh) {
        fresh.resumed = state.resumed
        fresh.resent = true
        state = fresh
        return sendParts(fresh, job)
      }).then(function () {
        state.completing = true
        return call().then(null, function (e) { throw refused(e) })
      })
    })
  }

  // A retried complete found the upload gone: most likely the first attempt completed it and its answer was lost
  // (network), or OSS stored the object but the upload callback failed (5xx). Say so, with the key to check.
  function unanswered (checkpoint, interrupted, gone) {
    gone.message = 'The upload is no longer open: the earlier attempt to complete it (' + interrupted.message +
      ') most likely stored ' + checkpoint.key + ' without its answer arriving.'
    gone.key = checkpoint.key
    return Promise.reject(gone)
  }

  function refused (error) {
    if (error.code === 'ticket_refused') error.code = 'complete_refused'
    return error
  }

  // uploader.discard({ filePath | file }): abort a paused upload on OSS and forget its checkpoint.
  function discard (params, size) {
    return identify(params, size).then(function (identity) {
      var print = checkpointsModule.fingerprint(identity)
      var settled = active[print] ? active[print].then(null, function () {}) : Promise.resolve()
      return settled.then(function () { return checkpoints.load(print) })
    }).then(function (saved) {
      if (!saved) return { discarded: false }
      var print = saved.fingerprint
      return abortOnOss(saved, params.signal).then(function () {
        checkpoints.remove(print)
        return { discarded: true, key: saved.key }
      })
    })
  }

  function abortOnOss (checkpoint, signal) {
    return deps.withRetries(function (used) {
      return deps.callSigner('/v1/multipart/abort', { key: checkpoint.key, uploadId: checkpoint.uploadId }, signal,
        function (body) { return body.aborted }, used)
    }, signal).then(null, function (error) {
      if (error.signerCode === 'no_such_upload' || error.signerCode === 'forbidden') return // already gone, or not ours
      throw error
    })
  }

  return { upload: upload, discard: discard, identify: identify }
}

function partLength (checkpoint, n) {
  return Math.min(checkpoint.partSize, checkpoint.size - (n - 1) * checkpoint.partSize)
}

function missingParts (checkpoint, done) {
  var missing = []
  for (var n = 1; n <= checkpoint.partCount; n++) if (!done[n]) missing.push(n)
  return missing
}

module.exports = { createMultipart: createMultipart, partLength: partLength }
