"""Per-user quotas that hold across every function instance: counted in Redis (or Tair) in one round trip.

Every ticket is checked and counted by one Lua script (EVALSHA; EVAL when the server does not have it cached),
which Redis runs atomically (https://redis.io/docs/latest/develop/interact/programmability/eval-intro/), so
concurrent tickets from any number of instances can never overshoot a limit, and a refused ticket counts nothing.

- ticketsPerMinute: a sliding window (one sorted-set entry per ticket of the last 60 s). A fixed window would let a
  caller take twice the limit across a minute boundary; the sliding window never allows more than the limit in any
  60 seconds, and its Retry-After is exact (when the oldest ticket in the window leaves it). Its cost is bounded:
  at most `ticketsPerMinute` entries per user (config caps the limit).
- uploadsPerDay, bytesPerDay: counters per calendar day at QUOTA_DAY_UTC_OFFSET, in keys named by the day, which
  expire an hour after the day ends. bytesPerDay counts the declared size; the ticket's policy pins
  content-length-range to [1, size], so the count is an upper bound of what can be stored.

Limits apply per user and per profile (QUOTAS["<profile>"]) and per user over all profiles (QUOTAS["*"]).
All keys of one user share a hash tag ({userId}), so the script also runs on a Redis / Tair cluster.

redis-py is imported on the first ticket with quotas on, never otherwise. The client has short connect and read
timeouts and one connection pool per instance, reused across invocations; when Redis cannot answer, QUOTA_FAIL_MODE
decides: closed refuses with 503 quota_unavailable, open issues the ticket; both log the outage (its type only:
an exception message may name the server, and no password ever reaches a log line).
"""

import hashlib
import threading
from datetime import datetime, timedelta, timezone

from .config import QUOTA_LIMITS
from .errors import QuotaError

CONNECT_TIMEOUT_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 1.0
MINUTE_MS = 60 * 1000
DAY_MS = 24 * 3600 * 1000
DAY_KEY_GRACE_MS = 3600 * 1000
KEY_PREFIX = "ossgate:quota:"

# KEYS: per scope, its minute window, its day's upload count and its day's byte count.
# ARGV: now (ms), a unique member for the window, the declared size, ms until the day ends,
#       then per scope its three limits (0: not limited).
# Answer: {0} when counted; {limit (1..3), scope (1-based), ms until a retry can succeed} when refused.
SCRIPT = """
local now, member, size, day_left = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local scopes = #KEYS / 3
for s = 0, scopes - 1 do
  local per_minute, uploads, bytes = tonumber(ARGV[5 + 3 * s]), tonumber(ARGV[6 + 3 * s]), tonumber(ARGV[7 + 3 * s])
  if per_minute > 0 then
    local window = KEYS[1 + 3 * s]
    redis.call('ZREMRANGEBYSCORE', window, '-inf', now - 60000)
    local count = redis.call('ZCARD', window)
    if count >= per_minute then
      local frees = redis.call('ZRANGE', window, count - per_minute, count - per_minute, 'WITHSCORES')
      return {1, s + 1, tonumber(frees[2]) + 60000 - now}
    end
  end
  if uploads > 0 and tonumber(redis.call('GET', KEYS[2 + 3 * s]) or '0') + 1 > uploads then
    return {2, s + 1, day_left}
  end
  if bytes > 0 and tonumber(redis.call('GET', KEYS[3 + 3 * s]) or '0') + size > bytes then
    return {3, s + 1, day_left}
  end
end
for s = 0, scopes - 1 do
  if tonumber(ARGV[5 + 3 * s]) > 0 then
    redis.call('ZADD', KEYS[1 + 3 * s], now, member)
    redis.call('PEXPIRE', KEYS[1 + 3 * s], 60000)
  end
  if tonumber(ARGV[6 + 3 * s]) > 0 then
    redis.call('INCR', KEYS[2 + 3 * s])
    redis.call('PEXPIRE', KEYS[2 + 3 * s], day_left + %d)
  end
  if tonumber(ARGV[7 + 3 * s]) > 0 then
    redis.call('INCRBY', KEYS[3 + 3 * s], size)
    redis.call('PEXPIRE', KEYS[3 + 3 * s], day_left + %d)
  end
end
return {0}
""" % (DAY_KEY_GRACE_MS, DAY_KEY_GRACE_MS)
SCRIPT_SHA = hashlib.sha1(SCRIPT.encode("utf-8")).hexdigest()

_UNITS = {"ticketsPerMinute": "tickets per minute", "uploadsPerDay": "uploads per day",
          "bytesPerDay": "bytes per day"}


class QuotaDay:
    """The calendar day containing `now` at a fixed UTC offset: its number and when it ends."""

    def __init__(self, now, offset_seconds):
        self.now_ms = int(now.timestamp() * 1000)
        local_ms = self.now_ms + offset_seconds * 1000
        self.number = local_ms // DAY_MS
        self.ends_ms = (self.number + 1) * DAY_MS - offset_seconds * 1000
        self.offset_seconds = offset_seconds

    @property
    def left_ms(self):
        return self.ends_ms - self.now_ms

    def reset_text(self):
        """The next midnight at the offset, e.g. 2026-12-01T00:00:00+08:00."""
        zone = timezone(timedelta(seconds=self.offset_seconds))
        return datetime.fromtimestamp(self.ends_ms / 1000, zone).isoformat()


def quota_keys(user_id, scope, day_number):
    base = "%s{%s}:%s:" % (KEY_PREFIX, user_id, scope)
    return [base + "minute", "%supload-count:%d" % (base, day_number), "%sbyte-count:%d" % (base, day_number)]


def retry_after_seconds(ms):
    return max(1, -(-int(ms) // 1000))


def exceeded_error(limit_name, limit, scope, size, retry_ms, day):
    where = "all profiles together" if scope == "*" else "profile %r" % scope
    if limit_name == "ticketsPerMinute":
        when = "the next ticket is allowed in %d s" % retry_after_seconds(retry_ms)
    else:
        when = "it resets at %s (in %d s)" % (day.reset_text(), retry_after_seconds(retry_ms))
    extra = "; this file declares %d bytes" % size if limit_name == "bytesPerDay" else ""
    return QuotaError("quota_exceeded", "quota exceeded: %s, %d %s for %s%s; %s"
                      % (limit_name, limit, _UNITS[limit_name], where, extra, when),
                      retry_after=retry_after_seconds(retry_ms))


def connect(url):
    """One redis-py client (and so one connection pool) with short timeouts; imported only here."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # One retry, at once, on a broken connection (a pooled socket the server closed while the instance was
    # frozen); none on a timeout, which would double the wait. A connection that breaks after the script ran
    # (rare) makes the retry count the ticket twice: an error towards the limit, never past it.
    # RESP2: redis-py 8 speaks RESP3 (HELLO 3) by default, which Redis before 6.0 and some Tair versions refuse.
    return redis.Redis.from_url(
        url, protocol=2, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS, socket_timeout=READ_TIMEOUT_SECONDS,
        socket_keepalive=True, retry=Retry(NoBackoff(), 1, supported_errors=(redis.exceptions.ConnectionError,)),
        client_name="ossgate")


class Quotas:
    """The quota checks of one function instance: its Redis client is built on first use and then reused."""

    def __init__(self, config, logger, secrets=()):
        self._config = config
        self._logger = logger
        self._secrets = secrets
        self._client = None
        self._lock = threading.Lock()

    def client(self):
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = connect(self._config.quota_redis_url)
        return self._client

    def warm(self):
        """Import redis-py and open the pool's first connection (FC's initializer), so the first ticket pays neither;
        a store that does not answer now is logged and tried again by every ticket."""
        try:
            self.client().ping()
        except Exception as exc:
            self._log_outage(exc, None, phase="initialize")

    def charge(self, user_id, profile, size, now, member, request_id=None):
        """Count one ticket of `size` declared bytes; QuotaError 429 when a limit refuses it (nothing counted),
        QuotaError 503 when Redis cannot answer and QUOTA_FAIL_MODE is closed."""
        scopes = [scope for scope in (profile, "*") if scope in self._config.quotas]
        if not scopes:
            return
        day = QuotaDay(now, self._config.quota_day_offset)
        keys, args = [], [day.now_ms, member, size, day.left_ms]
        for scope in scopes:
            keys += quota_keys(user_id, scope, day.number)
            args += [limit or 0 for limit in self._config.quotas[scope]]
        try:
            answer = self._run(keys, args)
            outcome, scope_number, retry_ms = (int(v) for v in (list(answer) + [0, 0])[:3])
        except Exception as exc:  # redis-py missing, unreachable, slow, refusing the password, or answering nonsense
            self._outage(exc, request_id)
            return
        if outcome:
            scope = scopes[scope_number - 1]
            limit_name = QUOTA_LIMITS[outcome - 1]
            limit = self._config.quotas[scope][outcome - 1]
            raise exceeded_error(limit_name, limit, scope, size, retry_ms, day)

    def _run(self, keys, args):
        from redis.exceptions import NoScriptError

        client = self.client()
        try:
            return client.evalsha(SCRIPT_SHA, len(keys), *(keys + args))
        except NoScriptError:  # a new or restarted server: EVAL runs the script and caches it for the next EVALSHA
            return client.eval(SCRIPT, len(keys), *(keys + args))

    def _log_outage(self, exc, request_id, phase=None):
        self._logger.write("error", "quota_unavailable", secrets=self._secrets, requestId=request_id, phase=phase,
                           failMode=self._config.quota_fail_mode,
                           reason="%s.%s" % (type(exc).__module__, type(exc).__name__))

    def _outage(self, exc, request_id):
        self._log_outage(exc, request_id)
        if self._config.quota_fail_mode == "closed":
            raise QuotaError("quota_unavailable", "upload quotas cannot be checked right now "
                                                  "(the quota store did not answer); retry shortly")
