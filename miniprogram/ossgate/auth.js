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

function appTokens (getToken) {
  var refresh = false
  return {
    header: function () {
      var force = refresh
      refresh = false
      return Promise.resolve(getToken({ refresh: force })).then(function (token) {
        return token ? 'Bearer ' + token : null
      })
    },
    invalidate: function () { refresh = true; return true }
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
    invalidate: function () { adapter.storage.remove(STORAGE_KEY); return true }
  }
}

function createAuth (auth, adapter, baseUrl, post, now) {
  if (auth === undefined || auth === 'none') return noAuth()
  if (auth === 'wechat') return wechatSessions(adapter, baseUrl, post, now)
  if (auth && typeof auth.getToken === 'function') return appTokens(auth.getToken)
  throw new UploadError('invalid_argument', "auth must be 'none', 'wechat' or { getToken }")
}

module.exports = { createAuth: createAuth, STORAGE_KEY: STORAGE_KEY }
