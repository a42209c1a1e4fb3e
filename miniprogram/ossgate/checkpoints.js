'use strict'
// Multipart checkpoints in the platform's storage (wx.setStorageSync, uni, Taro, localStorage), one per file,
// keyed by the file's fingerprint and kept for a day (a bucket lifecycle rule usually aborts older incomplete
// uploads anyway; `make local`'s bucket does so after one day).
// An index lists them so that stale ones are dropped even when their file is never uploaded again.

var INDEX_KEY = 'ossgate.multipart'
var PREFIX = 'ossgate.multipart.'
var TTL_MS = 24 * 3600 * 1000

// The file as the platform describes it: name or path, size, and modification time where there is one.
function fingerprint (identity) {
  return JSON.stringify([identity.name || '', identity.size, identity.modified === undefined ? null : identity.modified])
}

// FNV-1a, 32 bits: a short storage key; the full fingerprint is stored in the checkpoint and compared on load.
function shortHash (text) {
  var hash = 0x811c9dc5
  for (var i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return ('0000000' + hash.toString(16)).slice(-8) + text.length.toString(36)
}

function createCheckpoints (storage, now) {
  function readIndex () {
    var index = storage.get(INDEX_KEY)
    return index && typeof index === 'object' && !Array.isArray(index) ? index : {}
  }

  function fresh (createdAt) {
    return typeof createdAt === 'number' && now() - createdAt < TTL_MS
  }

  function prune (index) {
    Object.keys(index).forEach(function (id) {
      if (!fresh(index[id])) { storage.remove(PREFIX + id); delete index[id] }
    })
    return index
  }

  function load (print) {
    var id = shortHash(print)
    var checkpoint = storage.get(PREFIX + id)
    if (!checkpoint || typeof checkpoint !== 'object' || checkpoint.fingerprint !== print) return null
    if (!fresh(checkpoint.createdAt)) { remove(print); return null }
    return checkpoint
  }

  function save (checkpoint) {
    var id = shortHash(checkpoint.fingerprint)
    var index = prune(readIndex())
    index[id] = checkpoint.createdAt
    storage.set(PREFIX + id, checkpoint)
    storage.set(INDEX_KEY, index)
  }

  // The parts known to be done changed: rewrite the checkpoint alone (the index is unchanged).
  function update (checkpoint) {
    storage.set(PREFIX + shortHash(checkpoint.fingerprint), checkpoint)
  }

  function remove (print) {
    var id = shortHash(print)
    var index = readIndex()
    storage.remove(PREFIX + id)
    if (index[id] !== undefined) { delete index[id]; storage.set(INDEX_KEY, index) }
  }

  return { load: load, save: save, update: update, remove: remove }
}

module.exports = { createCheckpoints: createCheckpoints, fingerprint: fingerprint, TTL_MS: TTL_MS, INDEX_KEY: INDEX_KEY, PREFIX: PREFIX }
