'use strict'
// Hints: what a person can do about a failure, in plain words. The rules are data, tried in order; the first
// whose every condition matches gives the hint. hintFor() takes an UploadError (code, signerCode, ossCode,
// ossMessage, status, and the platform failure as cause) or a platform API failure itself, such as what
// wx.chooseMedia's fail callback receives ({ errMsg, errno }), so a page can explain picker errors too.
// Sources:
//   WeChat errno (104, 112, 600002): https://developers.weixin.qq.com/miniprogram/dev/framework/usability/PublicErrno.html
//   Legal domains: https://developers.weixin.qq.com/miniprogram/dev/framework/ability/network.html
//   Privacy guide: https://developers.weixin.qq.com/miniprogram/dev/framework/user-privacy/PrivacyAuthorize.html
//   OSS error codes: https://help.aliyun.com/zh/oss/support/http-status-code-4xx

var DOMAIN = 'The URL\'s domain is not on the mini program\'s legal domain list: add the signer\'s domain to "request" and the bucket\'s upload domain to "uploadFile" (mp.weixin.qq.com → 开发管理 → 开发设置 → 服务器域名), or tick 不校验合法域名 in WeChat DevTools while developing.'
var NOT_DECLARED = 'This API is not declared in the mini program\'s privacy guide (用户隐私保护指引): declare the photo, video or file access it needs in the mini program admin console (设置 → 服务内容声明), then publish again.'
var NOT_AUTHORIZED = 'The user has not agreed to the mini program\'s privacy guide: show it (wx.onNeedPrivacyAuthorization, or a button with open-type="agreePrivacyAuthorization") and call the API again once the user agrees.'

// Each rule: `when` is a list of alternatives; an alternative matches when all its fields do (a RegExp tests a
// string field, anything else must be equal).
var RULES = [
  { id: 'domain_not_listed', when: [{ errno: 600002 }, { errMsg: /url not in domain list|not in domain list|合法域名/i }], hint: DOMAIN },
  { id: 'privacy_not_declared', when: [{ errno: 112 }, { errMsg: /not declared in the privacy agreement/i }], hint: NOT_DECLARED },
  { id: 'privacy_not_authorized', when: [{ errno: 104 }, { errMsg: /privacy permission is not authorized/i }], hint: NOT_AUTHORIZED },
  {
    id: 'clock_skew',
    when: [{ ossCode: 'RequestTimeTooSkewed' }],
    hint: 'The clock that signed the request is more than 15 minutes off OSS\'s: set the device\'s (or the signer\'s) time automatically; the client asks for a fresh ticket once.'
  },
  {
    id: 'policy_expired',
    when: [{ ossCode: 'AccessDenied', ossMessage: /Policy expired/i }],
    hint: 'The upload ticket expired before the file reached OSS (a slow network, a long pause, or a device clock far off): upload again for a fresh ticket; for large files on slow networks raise TICKET_TTL_SECONDS or the profile\'s ttl.'
  },
  { id: 'user_cancelled', when: [{ errMsg: /:fail cancel$/i }], hint: 'The user closed the picker: nothing to do.' }
]

function causeOf (error) {
  return error && typeof error.cause === 'object' && error.cause ? error.cause : {}
}

function field (error, name) {
  if (!error || typeof error !== 'object') return undefined
  if (error[name] !== undefined) return error[name]
  var cause = causeOf(error)
  if (cause[name] !== undefined) return cause[name]
  if (name === 'errMsg') return error.message
  return undefined
}

function matches (error, alternatives) {
  return alternatives.some(function (when) { return matchesAll(error, when) })
}

function matchesAll (error, when) {
  return Object.keys(when).every(function (name) {
    var value = field(error, name)
    var expected = when[name]
    if (expected instanceof RegExp) return typeof value === 'string' && expected.test(value)
    return value === expected
  })
}

// The first matching rule: { id, hint }, or undefined.
function explain (error, rules) {
  var list = rules || RULES
  for (var i = 0; i < list.length; i++) {
    if (matches(error, list[i].when)) return { id: list[i].id, hint: list[i].hint }
  }
  return undefined
}

// A hint for the person (a string), or undefined when no rule applies.
function hintFor (error, rules) {
  var found = explain(error, rules)
  return found && found.hint
}

module.exports = { hintFor: hintFor, explain: explain, RULES: RULES }
