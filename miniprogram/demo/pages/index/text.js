// Everything the demo page says, in Chinese (the people who use it read Chinese first). The client library's
// hints are worded in English; HINTS gives each of its rules (by id) a Chinese wording.

const { HINT_RULES, hintFor } = require('ossgate')

const TEXT = {
  waiting: '等待中…',
  uploading: '上传中…',
  stored: '已存储为 ',
  resumedAndStored: '已续传并存储为 ',
  paused: '已暂停。继续时只发送缺少的部分。',
  discarded: '已放弃。',
  pickFailed: '无法选择文件',
  checking: '检测中…',
  stillChecking: '仍在检测中，请稍后再查看。',
  checkUnavailable: '无法查询检测结果。',
  uploadFailed: '上传失败'
}

const VERDICTS = {
  pass: '已通过微信内容安全检测。',
  review: '微信已将其标记为待人工复审。',
  risky: '已移除：微信判定其有风险。'
}

// UploadError codes in plain words; for the refusals the server's or OSS's own message follows.
const FAILURES = {
  network: '网络出错。请检查网络连接，并确认域名已加入小程序的合法域名列表。',
  aborted: '已取消。',
  empty_file: '文件是空的。',
  file_unreadable: '无法读取该文件。',
  ticket_refused: '服务器拒绝了这个文件',
  signer_unavailable: '服务器繁忙，请稍后再试。',
  oss_rejected: '存储服务拒绝了这次上传',
  callback_failed: '已上传，但未能通知服务器。',
  login_failed: '登录失败。',
  complete_refused: '服务器拒绝完成这次上传',
  quota_exceeded: '上传过于频繁或已超出额度，请稍后再试。'
}
const WITH_DETAILS = ['ticket_refused', 'oss_rejected', 'complete_refused']

const HINTS = {
  domain_not_listed: '该地址的域名不在小程序的合法域名列表中：在 mp.weixin.qq.com → 开发管理 → 开发设置 → 服务器域名中，' +
    '把签名服务的域名加入“request 合法域名”，把 Bucket 的上传域名加入“uploadFile 合法域名”；开发时可在微信开发者工具中勾选“不校验合法域名”。',
  privacy_not_declared: '小程序的用户隐私保护指引中没有声明此接口：请在小程序管理后台（设置 → 服务内容声明）声明所需的照片、视频或文件访问，然后重新发布。',
  privacy_not_authorized: '用户尚未同意小程序的用户隐私保护指引：请展示隐私协议（wx.onNeedPrivacyAuthorization，' +
    '或 open-type="agreePrivacyAuthorization" 的按钮），用户同意后再次调用。',
  clock_skew: '签名请求的时钟与 OSS 相差超过 15 分钟：请开启设备（或签名服务）的自动对时；客户端会自动重新申请一次凭证。',
  policy_expired: '上传凭证在文件到达 OSS 之前已过期（网络太慢、暂停太久，或设备时钟偏差很大）：请重新上传以获取新凭证；' +
    '慢速网络下的大文件可调大 TICKET_TTL_SECONDS 或档位的 ttl。',
  user_cancelled: '已关闭选择器，无需处理。'
}
const RULES = HINT_RULES.map((rule) => Object.assign({}, rule, { hint: HINTS[rule.id] || rule.hint }))

function plainWords (error) {
  const base = FAILURES[error.code] || TEXT.uploadFailed
  return WITH_DETAILS.indexOf(error.code) >= 0 ? base + '：' + error.message : base
}

// What a person can do about a failure (an UploadError or a picker's { errMsg, errno }), in Chinese.
function hint (error) {
  return hintFor(error, RULES) || ''
}

module.exports = { TEXT, VERDICTS, HINTS, plainWords, hint }
