'use strict'
// At most `limit` tasks run at once; the rest wait in order.

function createQueue (limit) {
  var running = 0
  var waiting = []

  function next () {
    if (running >= limit || waiting.length === 0) return
    var item = waiting.shift()
    running++
    Promise.resolve().then(item.task).then(item.resolve, item.reject).then(function () {
      running--
      next()
    })
  }

  return {
    run: function (task) {
      return new Promise(function (resolve, reject) {
        waiting.push({ task: task, resolve: resolve, reject: reject })
        next()
      })
    },
    get running () { return running },
    get waiting () { return waiting.length }
  }
}

module.exports = { createQueue: createQueue }
