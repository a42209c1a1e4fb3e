// Types for the ossgate client (miniprogram/ossgate).

export type Platform = 'wx' | 'uni' | 'taro' | 'my' | 'browser'

export interface TokenSource {
  /** Return the session token for `Authorization: Bearer`; `refresh` is true after the signer answered 401. */
  getToken(options: { refresh: boolean }): string | null | Promise<string | null>
}

export interface AbortSignalLike {
  readonly aborted: boolean
  addEventListener(type: 'abort', listener: () => void): void
  removeEventListener(type: 'abort', listener: () => void): void
}

export interface RetryRule {
  when: Partial<Record<'code' | 'source' | 'signerCode' | 'ossCode' | 'ossMessage' | 'status' | 'retryAfter', unknown>>
  /** new_ticket: a fresh ticket, or fresh part URLs; restart: a multipart upload begins anew (once) */
  then: 'retry' | 'new_ticket' | 'relogin' | 'restart' | 'fail'
}

export interface UploaderOptions {
  /** The signer's base URL, e.g. https://api.example.com */
  baseUrl: string
  platform?: Platform
  /** 'none' (anonymous signer), 'wechat' (wx.login + POST /v1/session), or your own tokens */
  auth?: 'none' | 'wechat' | TokenSource
  /** Uploads in flight at once (default 3, at most 10: WeChat's limit) */
  concurrency?: number
  /** Backoff ceilings in ms for successive retries (default [500, 1500, 4000]); jittered */
  retryDelays?: number[]
  retryRules?: RetryRule[]
  /** Per request, ms (default 60000) */
  timeout?: number
  /** The platform's API object (e.g. Taro) when it is not a global */
  api?: unknown
  /** A custom adapter (tests, other platforms) */
  adapter?: Adapter
  /** Files of at least this many bytes go as resumable multipart uploads where the platform can PUT parts
   *  (wx, uni, taro, browser; not my). Default 10 MiB; Infinity turns multipart off. */
  multipartThreshold?: number
  /** Parts of one upload in flight at once (default 3); all requests together stay within 10 (WeChat's limit) */
  partConcurrency?: number
  /** A part size to suggest to the signer, in bytes (it chooses within OSS's limits) */
  partSize?: number
}

export interface ProgressEvent {
  /** 0..1, never decreasing */
  progress: number
  loaded: number
  total: number
}

export interface UploadParams {
  /** Mini programs: a temp file path (wx.chooseMedia tempFilePath, wx.chooseMessageFile path) */
  filePath?: string
  /** Browsers: a File or Blob */
  file?: Blob & { name?: string }
  /** Bytes; read from the file when omitted */
  size?: number
  contentType?: string
  /** Lends only its extension to the key */
  filename?: string
  profile?: string
  onProgress?: (event: ProgressEvent) => void
  /** Aborting cancels a form upload; it pauses a multipart one (the checkpoint stays; upload() again resumes) */
  signal?: AbortSignalLike
  /** The file's modification time where the picker gives one (wx.chooseMessageFile `time`): with `filename`,
   *  it identifies the file for resuming instead of the temp path's stat */
  lastModified?: number
}

export interface DiscardParams {
  filePath?: string
  file?: Blob & { name?: string; lastModified?: number }
  size?: number
  filename?: string
  lastModified?: number
  signal?: AbortSignalLike
}

export interface UploadResult {
  key: string
  size: number
  etag?: string
  /** The upload callback's JSON when the bucket answered with one */
  data?: { key: string; size: number; etag: string; mimeType: string; width?: number; height?: number } & Record<string, unknown>
  /** A multipart upload that continued from a checkpoint (parts OSS already held were not sent again) */
  resumed?: true
}

export interface Uploader {
  upload(params: UploadParams): Promise<UploadResult>
  /** A presigned GET for one of the caller's own keys */
  download(key: string, signal?: AbortSignalLike): Promise<{ url: string; expiresAt: string }>
  /** MODERATION=wechat: WeChat's verdict on one of the caller's uploads (`data.moderation` was "pending") */
  moderationStatus(key: string, signal?: AbortSignalLike): Promise<{ key: string; moderation: 'pending' | 'pass' | 'review' | 'risky' | 'unchecked' }>
  /** Abort this file's paused multipart upload on OSS and forget its checkpoint */
  discard(params: DiscardParams): Promise<{ discarded: boolean; key?: string }>
  readonly adapter: Adapter
}

export type UploadErrorCode =
  | 'invalid_argument' | 'file_unreadable' | 'empty_file' | 'network' | 'aborted' | 'login_failed'
  | 'ticket_refused' | 'signer_unavailable' | 'oss_rejected' | 'callback_failed'
  /** The signer refused to complete a multipart upload: signerCode file_too_large (413; the upload is aborted),
   *  already_exists (409), incomplete_upload (400, after one attempt to send the missing parts), no_such_upload (404;
   *  after a complete whose answer was lost, `key` names the object it most likely stored) */
  | 'complete_refused'
  /** A per-user quota (ticketsPerMinute, uploadsPerDay, bytesPerDay) refused the ticket: see retryAfter */
  | 'quota_exceeded'

export class UploadError extends Error {
  name: 'UploadError'
  code: UploadErrorCode
  status?: number
  /** The signer's error code, e.g. file_too_large, unknown_profile, unauthorized, incomplete_upload */
  signerCode?: string
  /** OSS's own error code, e.g. AccessDenied, SignatureDoesNotMatch */
  ossCode?: string
  ossMessage?: string
  requestId?: string
  /** What usually causes this and what to do */
  hint?: string
  source?: 'signer' | 'oss'
  cause?: unknown
  /** complete_refused with signerCode no_such_upload after an interrupted complete: the key it most likely stored */
  key?: string
  /** Seconds until asking again can succeed (a 429's Retry-After header or the error body's retryAfter) */
  retryAfter?: number
}

export interface Adapter {
  name: string
  request(req: { url: string; method: string; headers: Record<string, string>; body?: string; timeout?: number; signal?: AbortSignalLike }): Promise<{ status: number; data: unknown; headers: Record<string, string> }>
  uploadFile(req: { url: string; fields: Record<string, string>; filePath?: string; file?: Blob; fileName?: string; contentType?: string; timeout?: number; signal?: AbortSignalLike; onProgress: (e: { loaded?: number; progress?: number }) => void }): Promise<{ status: number; data: unknown; headers: Record<string, string> }>
  fileSize(params: UploadParams): Promise<number>
  login(): Promise<string>
  storage: { get(key: string): any; set(key: string, value: unknown): void; remove(key: string): void }
  /** Multipart: true where the platform can read a file by position and PUT bytes */
  readonly canPutParts?: boolean
  /** Bytes [position, position + length) of the file: an ArrayBuffer, or a Blob slice in a browser */
  readChunk?(params: { filePath?: string; file?: Blob }, position: number, length: number): Promise<ArrayBuffer | Blob>
  /** PUT one part with exactly `headers` (no platform default content type) */
  putPart?(req: { url: string; method: string; headers: Record<string, string>; data: ArrayBuffer | Blob; timeout?: number; signal?: AbortSignalLike; onProgress?: (e: { loaded: number }) => void }): Promise<{ status: number; data: unknown; headers: Record<string, string> }>
  /** The file's modification time, part of its fingerprint for resuming */
  fileModified?(params: UploadParams): Promise<number | undefined>
}

export function createUploader(options: UploaderOptions): Uploader

/** AbortController where the runtime has one, else a minimal stand-in (WeChat and Alipay have none). */
export function createAbortController(): { signal: AbortSignalLike; abort(): void }

/** multipartThreshold's default: 10 MiB */
export const DEFAULT_MULTIPART_THRESHOLD: number
/** A plain-words hint for a failure: an UploadError, or a platform API failure such as wx.chooseMedia's
 *  `{ errMsg, errno }` (legal domain list, privacy guide errno 104 / 112, clock skew, an expired ticket, ...). */
export function hintFor(error: unknown, rules?: ReadonlyArray<HintRule>): string | undefined
/** One hint rule: `when` lists alternatives; one matches when all its fields do (a RegExp tests a string field). */
export interface HintRule { id: string; when: Array<Record<string, unknown>>; hint: string; /** the hint in Chinese */ zh?: string }
/** The rules hintFor tries in order; each also has its hint in Chinese (`zh`): pass hintFor copies whose `hint` is
 *  their `zh` for Chinese hints. */
export const HINT_RULES: ReadonlyArray<HintRule>
/** The content type for a file name's extension (jpg, png, heic, mp4, mov, mp3, m4a, pdf, txt, zip, ...); never
 *  an active type such as text/html or image/svg+xml; undefined when unknown. */
export function inferContentType(filename: string): string | undefined
