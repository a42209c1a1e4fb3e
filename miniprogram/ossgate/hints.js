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

// The same hints in Chinese (a rule's `zh`): pass hintFor rules whose `hint` is their `zh` to word them so.
var DOMAIN_ZH = '该地址的域名不在小程序的合法域名列表中：在 mp.weixin.qq.com → 开发管理 → 开发设置 → 服务器域名中，把签名服务的域名加入“request 合法域名”，把 Bucket 的上传域名加入“uploadFile 合法域名”；开发时可在微信开发者工具中勾选“不校验合法域名”。'
var NOT_DECLARED_ZH = '小程序的用户隐私保护指引中没有声明此接口：请在小程序管理后台（设置 → 服务内容声明）声明所需的照片、视频或文件访问，然后重新发布。'
var NOT_AUTHORIZED_ZH = '用户尚未同意小程序的用户隐私保护指引：请展示隐私协议（wx.onNeedPrivacyAuthorization，或 open-type="agreePrivacyAuthorization" 的按钮），用户同意后再次调用。'

// Each rule: `when` is a list of alternatives; an alternative matches when all its fields do (a RegExp tests a
// string field, anything else must be equal).
var RULES = [
  { id: 'domain_not_listed', when: [{ errno: 600002 }, { errMsg: /url not in domain list|not in domain list|合法域名/i }], hint: DOMAIN, zh: DOMAIN_ZH },
  { id: 'privacy_not_declared', when: [{ errno: 112 }, { errMsg: /not declared in the privacy agreement/i }], hint: NOT_DECLARED, zh: NOT_DECLARED_ZH },
  { id: 'privacy_not_authorized', when: [{ errno: 104 }, { errMsg: /privacy permission is not authorized/i }], hint: NOT_AUTHORIZED, zh: NOT_AUTHORIZED_ZH },
  {
    id: 'clock_skew',
    when: [{ ossCode: 'RequestTimeTooSkewed' }],
    hint: 'The clock that signed the request is more than 15 minutes off OSS\'s: set the device\'s (or the signer\'s) time automatically; the client asks for a fresh ticket once.',
    zh: '签名请求的时钟与 OSS 相差超过 15 分钟：请开启设备（或签名服务）的自动对时；客户端会自动重新申请一次凭证。'
  },
  {
    id: 'policy_expired',
    when: [{ ossCode: 'AccessDenied', ossMessage: /Policy expired/i }],
    hint: 'The upload ticket expired before the file reached OSS (a slow network, a long pause, or a device clock far off): upload again for a fresh ticket; for large files on slow networks raise TICKET_TTL_SECONDS or the profile\'s ttl.',
    zh: '上传凭证在文件到达 OSS 之前已过期（网络太慢、暂停太久，或设备时钟偏差很大）：请重新上传以获取新凭证；慢速网络下的大文件可调大 TICKET_TTL_SECONDS 或档位的 ttl。'
  },
  { id: 'user_cancelled', when: [{ errMsg: /:fail cancel$/i }], hint: 'The user closed the picker: nothing to do.', zh: '已关闭选择器，无需处理。' }
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
