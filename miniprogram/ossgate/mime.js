'use strict'
// Content types inferred from a file name's extension, for uploads that give no contentType (a photo picked with
// wx.chooseMedia arrives as a temp path like wxfile://tmp_ab12.jpg). Only passive types are listed: never a type
// a browser would run or render as a page (text/html, image/svg+xml, application/javascript, text/xml, ...),
// so a stored object can never become a script on the bucket's domain. Unknown extensions give undefined (the
// signer then uses application/octet-stream).
// Types: IANA media types (https://www.iana.org/assignments/media-types/media-types.xhtml).

var TYPES = {
  jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp',
  heic: 'image/heic', heif: 'image/heif', bmp: 'image/bmp', avif: 'image/avif', tif: 'image/tiff', tiff: 'image/tiff',
  mp4: 'video/mp4', m4v: 'video/mp4', mov: 'video/quicktime', webm: 'video/webm', '3gp': 'video/3gpp',
  mp3: 'audio/mpeg', m4a: 'audio/mp4', aac: 'audio/aac', wav: 'audio/wav', amr: 'audio/amr', ogg: 'audio/ogg',
  flac: 'audio/flac', silk: 'audio/silk',
  pdf: 'application/pdf', txt: 'text/plain', csv: 'text/csv', zip: 'application/zip', gz: 'application/gzip',
  doc: 'application/msword', xls: 'application/vnd.ms-excel', ppt: 'application/vnd.ms-powerpoint',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation'
}

function extensionOf (name) {
  if (typeof name !== 'string') return undefined
  var base = name.split(/[?#]/)[0].split(/[\\/]/).pop() || ''
  var dot = base.lastIndexOf('.')
  return dot > 0 || (dot === 0 && base.length > 1) ? base.slice(dot + 1).toLowerCase() : undefined
}

// The content type for a file name or path, or undefined when the extension is unknown (or an active type).
function inferContentType (name) {
  var extension = extensionOf(name)
  return extension && Object.prototype.hasOwnProperty.call(TYPES, extension) ? TYPES[extension] : undefined
}

module.exports = { inferContentType: inferContentType, CONTENT_TYPES: TYPES }
