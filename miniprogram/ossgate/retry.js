'use strict'
// Retry rules as data: the first rule whose `when` matches a failure decides what happens next.
// Failures are described as { source: 'signer' | 'oss', code, status, signerCode, ossCode, ossMessage, retryAfter }.
// Actions: retry (same request after a backoff), new_ticket (fresh ticket or part URLs), relogin, restart (a
// multipart upload begins anew, once), fail.

var MAX_RETRY_AFTER_SECONDS = 5

var RULES = [
  { when: { code: 'aborted' }, then: 'fail' },
  { when: { code: 'network' }, then: 'retry' },
  { when: { source: 'oss', ossCode: 'RequestTimeTooSkewed' }, then: 'new_ticket' },
  { when: { source: 'oss', ossCode: 'AccessDenied', ossMessage: /Policy expired/i }, then: 'new_ticket' },
  { when: { code: 'ticket_refused', status: 401 }, then: 'relogin' },
  // Multipart complete: OSS stored the object but its upload callback failed; completing again cannot help.
  { when: { source: 'signer', signerCode: 'callback_failed' }, then: 'fail' },
  // An answer that asks to wait more than a few seconds (a quota that resets in a minute or tomorrow) is final:
  // asking again sooner would only be refused again.
  { when: { retryAfter: { min: MAX_RETRY_AFTER_SECONDS + 1, max: Infinity } }, then: 'fail' },
  { when: { status: 429 }, then: 'retry' },
  { when: { status: { min: 500, max: 599 } }, then: 'retry' },
  // Multipart: an expired part URL gets fresh URLs from /v1/multipart/parts; a vanished upload (aborted, or
  // removed by the bucket's lifecycle rule) or one that is no longer the caller's starts again from scratch.
  { when: { source: 'oss', ossCode: 'AccessDenied', ossMessage: /Request has expired/i }, then: 'new_ticket' },
  { when: { source: 'oss', ossCode: 'NoSuchUpload' }, then: 'restart' },
  { when: { source: 'signer', signerCode: 'no_such_upload' }, then: 'restart' },
  { when: { source: 'signer', signerCode: 'forbidden' }, then: 'restart' },
  { when: {}, then: 'fail' }
]

var DEFAULT_DELAYS = [500, 1500, 4000]

function matches (expected, actual) {
  if (expected instanceof RegExp) return expected.test(actual || '')
  if (expected && typeof expected === 'object') return typeof actual === 'number' && actual >= expected.min && actual <= expected.max
  return expected === actual
}

function decide (failure, rules) {
  rules = rules || RULES
  for (var i = 0; i < rules.length; i++) {
    var when = rules[i].when
    var ok = true
    for (var name in when) {
      if (Object.prototype.hasOwnProperty.call(when, name) && !matches(when[name], failure[name])) { ok = false; break }
    }
    if (ok) return rules[i].then
  }
  return 'fail'
}

// Exponential backoff with full jitter: a random delay up to the configured one for this attempt.
function backoff (attempt, delays, random) {
  var list = delays || DEFAULT_DELAYS
  var ceiling = list[Math.min(attempt, list.length - 1)]
  return Math.round(ceiling / 2 + (random || Math.random)() * ceiling / 2)
}

// The wait before retry number `attempt`: the backoff, but never less than the server's Retry-After.
function delayFor (failure, attempt, delays, random) {
  var wait = backoff(attempt, delays, random)
  return failure && typeof failure.retryAfter === 'number' ? Math.max(wait, failure.retryAfter * 1000) : wait
}

module.exports = { RULES: RULES, DEFAULT_DELAYS: DEFAULT_DELAYS, MAX_RETRY_AFTER_SECONDS: MAX_RETRY_AFTER_SECONDS,
  decide: decide, backoff: backoff, delayFor: delayFor }
