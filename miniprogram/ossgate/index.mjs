// ES module entry (bundlers, Taro, uni-app, Vite); the CommonJS entry is index.js.
import ossgate from './index.js'

export const createUploader = ossgate.createUploader
export const UploadError = ossgate.UploadError
export const createAbortController = ossgate.createAbortController
export const DEFAULT_MULTIPART_THRESHOLD = ossgate.DEFAULT_MULTIPART_THRESHOLD
export const hintFor = ossgate.hintFor
export const HINT_RULES = ossgate.HINT_RULES
export const inferContentType = ossgate.inferContentType
export default ossgate
