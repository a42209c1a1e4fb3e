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
  when: Partial<Record<'code' | 'source' | 'ossCode' | 'ossMessage' | 'status', unknown>>
  then: 'retry' | 'new_ticket' | 'relogin' | 'fail'
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
  signal?: AbortSignalLike
}

export interface UploadResult {
  key: string
  size: number
  etag?: string
  /** The upload callback's JSON when the bucket answered with one */
  data?: { key: string; size: number; etag: string; mimeType: string; width?: number; height?: number } & Record<string, unknown>
}

export interface Uploader {
  upload(params: UploadParams): Promise<UploadResult>
  /** A presigned GET for one of the caller's own keys */
  download(key: string, signal?: AbortSignalLike): Promise<{ url: string; expiresAt: string }>
  readonly adapter: Adapter
}

export type UploadErrorCode =
  | 'invalid_argument' | 'file_unreadable' | 'empty_file' | 'network' | 'aborted' | 'login_failed'
  | 'ticket_refused' | 'signer_unavailable' | 'oss_rejected' | 'callback_failed'

export class UploadError extends Error {
  name: 'UploadError'
  code: UploadErrorCode
  status?: number
  /** The signer's error code, e.g. file_too_large, unknown_profile, unauthorized */
  signerCode?: string
  /** OSS's own error code, e.g. AccessDenied, SignatureDoesNotMatch */
  ossCode?: string
  ossMessage?: string
  requestId?: string
  /** What usually causes this and what to do */
  hint?: string
  source?: 'signer' | 'oss'
  cause?: unknown
}

export interface Adapter {
  name: string
  request(req: { url: string; method: string; headers: Record<string, string>; body?: string; timeout?: number; signal?: AbortSignalLike }): Promise<{ status: number; data: unknown; headers: Record<string, string> }>
  uploadFile(req: { url: string; fields: Record<string, string>; filePath?: string; file?: Blob; fileName?: string; contentType?: string; timeout?: number; signal?: AbortSignalLike; onProgress: (e: { loaded?: number; progress?: number }) => void }): Promise<{ status: number; data: unknown; headers: Record<string, string> }>
  fileSize(params: UploadParams): Promise<number>
  login(): Promise<string>
  storage: { get(key: string): any; set(key: string, value: unknown): void; remove(key: string): void }
}

export function createUploader(options: UploaderOptions): Uploader

/** AbortController where the runtime has one, else a minimal stand-in (WeChat and Alipay have none). */
export function createAbortController(): { signal: AbortSignalLike; abort(): void }

/** A plain-words hint for a failure: an UploadError, or a platform API failure such as wx.chooseMedia's
 *  `{ errMsg, errno }` (legal domain list, privacy guide errno 104 / 112, clock skew, an expired ticket, ...). */
export function hintFor(error: unknown): string | undefined
/** The content type for a file name's extension (jpg, png, heic, mp4, mov, mp3, m4a, pdf, txt, zip, ...); never
 *  an active type such as text/html or image/svg+xml; undefined when unknown. */
export function inferContentType(filename: string): string | undefined
