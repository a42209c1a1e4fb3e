'use strict'
// hints.js: plain-words hints for WeChat's and OSS's failures, usable on an UploadError or a picker's failure.
const test = require('node:test')
const assert = require('node:assert/strict')
const { createUploader, hintFor } = require('../ossgate')
const hints = require('../ossgate/hints.js')
const { createFakeAdapter, ticketAnswer, ossError } = require('./fake-adapter')

const FAST = { retryDelays: [1, 1, 1], baseUrl: 'https://signer.example' }

test('WeChat: a URL outside the legal domain list, by errMsg or errno', () => {
  for (const failure of [{ errMsg: 'uploadFile:fail url not in domain list' }, { errMsg: 'request:fail url not in domain list' },
    { errMsg: 'uploadFile:fail', errno: 600002 }]) {
    assert.equal(hints.explain(failure).id, 'domain_not_listed', JSON.stringify(failure))
    assert.match(hintFor(failure), /legal domain list/)
    assert.match(hintFor(failure), /uploadFile/)
  }
})

test('WeChat privacy guide: errno 112 (not declared) and 104 (not agreed) from chooseMedia and friends', () => {
  const undeclared = { errMsg: 'chooseMedia:fail api scope is not declared in the privacy agreement', errno: 112 }
  const unauthorized = { errMsg: 'chooseMessageFile:fail privacy permission is not authorized', errno: 104 }
  assert.equal(hints.explain(undeclared).id, 'privacy_not_declared')
  assert.equal(hints.explain({ errno: 112 }).id, 'privacy_not_declared')
  assert.equal(hints.explain(unauthorized).id, 'privacy_not_authorized')
  assert.equal(hints.explain({ errMsg: 'chooseImage:fail privacy permission is not authorized' }).id, 'privacy_not_authorized')
  assert.match(hintFor(undeclared), /privacy guide/)
  assert.match(hintFor(unauthorized), /agreePrivacyAuthorization/)
  assert.notEqual(hintFor(undeclared), hintFor(unauthorized))
})

test('a cancelled picker says so; unknown failures get no hint', () => {
  assert.equal(hints.explain({ errMsg: 'chooseMedia:fail cancel' }).id, 'user_cancelled')
  assert.equal(hintFor({ errMsg: 'chooseMedia:fail something else', errno: 1 }), undefined)
  assert.equal(hintFor(undefined), undefined)
  assert.equal(hintFor('text'), undefined)
})

test('an UploadError is explained through its own fields and its cause', () => {
  assert.equal(hints.explain({ code: 'network', cause: { errMsg: 'uploadFile:fail url not in domain list' } }).id, 'domain_not_listed')
  assert.equal(hints.explain({ code: 'oss_rejected', ossCode: 'RequestTimeTooSkewed' }).id, 'clock_skew')
  assert.equal(hints.explain({ code: 'oss_rejected', ossCode: 'AccessDenied', ossMessage: 'Invalid according to Policy: Policy expired.' }).id, 'policy_expired')
  assert.equal(hints.explain({ code: 'oss_rejected', ossCode: 'AccessDenied', ossMessage: 'Invalid according to Policy' }), undefined)
})

test('rules are data: a custom list is used instead of the built-in one', () => {
  const rules = [{ id: 'mine', when: [{ errno: 7 }], hint: 'seven' }]
  assert.equal(hintFor({ errno: 7 }, rules), 'seven')
  assert.equal(hintFor({ errno: 112 }, rules), undefined)
})

test('every hint has a Chinese wording (zh), and rules reworded with it give Chinese hints', () => {
  const { HINT_RULES } = require('../ossgate')
  assert.equal(HINT_RULES, hints.RULES)
  for (const rule of HINT_RULES) assert.match(rule.zh || '', /[\u4e00-\u9fff]/, rule.id)
  const chinese = HINT_RULES.map((rule) => Object.assign({}, rule, { hint: rule.zh }))
  assert.match(hintFor({ errno: 104, errMsg: 'chooseMedia:fail privacy permission is not authorized' }, chinese), /^用户尚未同意/)
  assert.match(hintFor({ code: 'oss_rejected', ossCode: 'RequestTimeTooSkewed' }, chinese), /15 分钟/)
  assert.equal(hintFor({ errno: 104 }), hints.RULES.find((r) => r.id === 'privacy_not_authorized').hint, 'English stays the default')
})

async function finalError (failure) {
  const adapter = createFakeAdapter({ request: () => Promise.resolve(ticketAnswer()), uploadFile: () => Promise.resolve(failure) })
  try {
    await createUploader(Object.assign({ adapter }, FAST)).upload({ filePath: 'a.jpg', size: 10 })
  } catch (error) {
    return error
  }
  assert.fail('the upload should have failed')
}

test('uploads that keep failing on clock skew or an expired policy carry those hints', async () => {
  const skewed = await finalError(ossError(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.'))
  assert.equal(skewed.ossCode, 'RequestTimeTooSkewed')
  assert.match(skewed.hint, /15 minutes/)
  const expired = await finalError(ossError(403, 'AccessDenied', 'Invalid according to Policy: Policy expired.'))
  assert.equal(expired.ossCode, 'AccessDenied')
  assert.match(expired.hint, /ticket expired/)
})

test('an upload to a domain outside the legal list fails with that hint', async () => {
  const adapter = createFakeAdapter({ request: [ticketAnswer()], uploadFile: () => Promise.reject({ errMsg: 'uploadFile:fail url not in domain list' }) })
  await assert.rejects(createUploader(Object.assign({ adapter }, FAST)).upload({ filePath: 'a.jpg', size: 10 }), (e) => {
    assert.equal(e.code, 'network')
    assert.match(e.hint, /"uploadFile"/)
    return true
  })
})
