'use strict'
// A minimal AbortController for runtimes without one (WeChat, Alipay): { signal, abort() }.

function createAbortController () {
  if (typeof AbortController === 'function') return new AbortController() // eslint-disable-line no-undef
  var listeners = []
  var signal = {
    aborted: false,
    addEventListener: function (type, listener) { if (type === 'abort') listeners.push(listener) },
    removeEventListener: function (type, listener) {
      var index = listeners.indexOf(listener)
      if (index >= 0) listeners.splice(index, 1)
    }
  }
  return {
    signal: signal,
    abort: function () {
      if (signal.aborted) return
      signal.aborted = true
      listeners.slice().forEach(function (listener) { listener() })
    }
  }
}

module.exports = { createAbortController: createAbortController }
