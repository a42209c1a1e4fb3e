'use strict'
// Where the session token comes from: 'none', { getToken }, or 'wechat' (wx.login + POST /v1/session,
// kept in storage until shortly before it expires; one login shared by concurrent uploads).

var errors = require('./errors.js')
var UploadError = errors.UploadError

var STORAGE_KEY = 'ossgate.session'
var EXPIRY_MARGIN_MS = 60 * 1000

function noAuth () {
  return { header: function () { return Promise.resolve(null) }, invalidate: function () { return false } }
}

// The app's own tokens: concurrent uploads share ONE in-flight getToken({ refresh }) call (one login, and one
// refresh when several uploads meet a 401 at once); once it settles, the next upload asks getToken again.
// invalidate(failed) asks for a refresh only when `failed` is still the newest header: a 401 for a token that
// a refresh has already replaced just retries with the new one.
function appTokens (getToken) {
  var refresh = false
  var pending = null
  var pendingRefresh = false
  var newest
  function ignore () {}
  return {
    header: function () {
      if (pending && !(refresh && !pendingRefresh)) return pending
      var force = refresh
      refresh = false
      var call = Promise.resolve(pending).then(ignore, ignore).then(function () {
        return getToken({ refresh: force })
      }).then(function (token) {
        newest = token ? 'Bearer ' + token : null
        return newest
      })
      pending = call
      pendingRefresh = force
      var settle = function () { if (pending === call) pending = null }
      call.then(settle, settle)
      return call
    },
    invalidate: function (failed) {
      var served = (pending && pendingRefresh) || (failed !== undefined && failed !== newest)
      if (!served) refresh = true
      return true
    }
  }
}

function wechatSessions (adapter, baseUrl, post, now) {
  var pending = null

  function cached () {
    var session = adapter.storage.get(STORAGE_KEY)
    if (session && session.token && Date.parse(session.expiresAt) - EXPIRY_MARGIN_MS > now()) return session
    return null
  }

  function login () {
    if (!pending) {
      pending = adapter.login().then(function (code) {
        return post(baseUrl + '/v1/session', { code: code }, null)
      }, function (cause) {
        throw new UploadError('login_failed', 'wx.login failed: ' + ((cause && cause.errMsg) || cause), { cause: cause })
      }).then(function (res) {
        if (res.status !== 200 || !res.body || !res.body.token) {
          var detail = errors.parseSignerError(res.body) || {}
          throw new UploadError('login_failed', 'Signing in failed: ' + (detail.message || 'HTTP ' + res.status),
            { status: res.status, requestId: detail.requestId, source: 'signer' })
        }
        adapter.storage.set(STORAGE_KEY, res.body)
        return res.body
      })
      pending.then(clear, clear)
    }
    return pending
  }

  function clear () { pending = null }

  return {
    header: function () {
      var session = cached()
      return (session ? Promise.resolve(session) : login()).then(function (s) { return 'Bearer ' + s.token })
    },
    // like appTokens: a login in flight, or a stored session newer than the failed one, serves this 401
    invalidate: function (failed) {
      var session = adapter.storage.get(STORAGE_KEY)
      var newer = failed !== undefined && session && session.token && 'Bearer ' + session.token !== failed
      if (!pending && !newer) adapter.storage.remove(STORAGE_KEY)
      return true
    }
  }
}

function createAuth (auth, adapter, baseUrl, post, now) {
  if (auth === undefined || auth === 'none') return noAuth()
  if (auth === 'wechat') return wechatSessions(adapter, baseUrl, post, now)
  if (auth && typeof auth.getToken === 'function') return appTokens(auth.getToken)
  throw new UploadError('invalid_argument', "auth must be 'none', 'wechat' or { getToken }")
}

module.exports = { createAuth: createAuth, STORAGE_KEY: STORAGE_KEY }
