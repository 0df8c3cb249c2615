/*
 * Every bound restd applies to outside input, in one place, each with the
 * reason for its value (after SQLite's sqliteLimit.h). Anything a client or
 * an app file can make grow is capped by one of these.
 */
#ifndef RESTD_LIMITS_H
#define RESTD_LIMITS_H

/* Default ceiling on a request body. An app may lower or raise it (app file
 * `limits.max_body_bytes`) within RD_MAX_BODY_CEILING. 1 MiB holds any
 * business record with room to spare. */
#define RD_DEFAULT_MAX_BODY (1024 * 1024)
#define RD_MAX_BODY_CEILING (64 * 1024 * 1024)

/* Nesting depth of a request body. Records are flat objects with a json
 * field or two; 32 levels is far more than any real payload and keeps the
 * parser's recursion shallow. */
#define RD_MAX_JSON_DEPTH 32

/* Nesting depth the response writer supports (it keeps one comma flag per
 * level). Responses are built from the model, so this is a programming
 * bound, not an input bound. */
#define RD_JW_MAX_DEPTH 64

/* Longest URL path we route. h2o already caps the request line; this keeps
 * routing buffers small. */
#define RD_MAX_PATH 2048

/* Largest response body the writer will build (list pages are bounded by
 * the page cap, so this is only a safety net). */
#define RD_MAX_RESPONSE (64 * 1024 * 1024)

/* App file: size of app.yaml, number of models, fields per model, enum
 * values, names. Generous for a business schema, small enough that a
 * hostile file cannot exhaust memory or make start-up slow. */
#define RD_MAX_APP_FILE (4 * 1024 * 1024)
#define RD_MAX_MODELS 256
#define RD_MAX_FIELDS 256
#define RD_MAX_ENUM_VALUES 1024
#define RD_MAX_INDEXES 64
#define RD_MAX_NAME 63
#define RD_MAX_YAML_DEPTH 16

/* Problems listed for one app file: enough to work through, while a
 * hostile file cannot build a huge report. */
#define RD_MAX_APP_DIAGS 100

/* Longest validation pattern: one line of an app file, and a bound on the
 * work of the complexity estimate that runs before regcomp. */
#define RD_MAX_PATTERN 1024

/* Estimated size of a pattern once glibc's regcomp has unrolled its bounded
 * repetitions (`a{1,32767}` takes half a minute to compile, nested counts
 * multiply); a pattern over this budget never reaches regcomp. */
#define RD_MAX_PATTERN_COST 20000

/* Longest base_path or health_path of an app: a prefix, not a whole URL. */
#define RD_MAX_URL_PATH 255

/* Items in a list-of-references value in one request body. */
#define RD_MAX_REF_LIST 10000

/* Writes the writer thread folds into one transaction (group commit). A
 * bigger batch amortises the sync further but delays the first request of
 * the batch; 256 is past the knee on this machine. */
#define RD_MAX_BATCH 256

/* Planner statistics (store/stats.c, docs/decisions.md §13): a table gets
 * its first ANALYZE at this many rows (below it SQLite's default guesses
 * pick well enough, and statistics of a nearly empty table would mislead
 * once it fills), and the writer looks for stale statistics at most this
 * often, between batches: a look is one counter read per table. */
#define RD_STATS_MIN_ROWS 1000
#define RD_STATS_CHECK_SEC 60

/* Queued write jobs before new writes get 503: a bound on memory held by
 * requests waiting for the disk. */
#define RD_MAX_WRITE_QUEUE 8192

/* Seconds a SIGTERM waits for in-flight requests before closing anyway. */
#define RD_SHUTDOWN_GRACE_SEC 10

/* After SIGTERM, how long open connections may still deliver a request
 * that was arriving when the signal came. */
#define RD_SHUTDOWN_LINGER_MS 1000

/* Total bytes of request header fields. h2o's own ceiling is ~400 KiB;
 * real clients send a few KiB (a JWT and cookies fit in 16). Over this the
 * answer is 431. */
#define RD_MAX_HEADER_BYTES (32 * 1024)

/* SQLite busy timeout (ms): only the CLI and the health probe ever wait on
 * the writer's lock. */
#define RD_BUSY_TIMEOUT_MS 5000

/* The app file's `auth:` section (docs/app-format.md). Lifetimes are in
 * seconds. An access token lives at least 30 s: a shorter one can expire
 * between issue and first use on a slow link. */
#define RD_MIN_ACCESS_TTL 30
/* An access token lives at most 7 days, Zou's fixed lifetime (gazu scripts
 * keep one for a working day or more). Logout and `restd user disable`
 * revoke it by id, but a stolen one lives until then: apps should choose
 * much less unless a client needs this. */
#define RD_MAX_ACCESS_TTL (7 * 86400)
/* A refresh token lives at least a minute: it must outlive its access token
 * (the loader also requires refresh_ttl > access_ttl). */
#define RD_MIN_REFRESH_TTL 60
/* A refresh token lives at most a year: a sign-in is renewed at least yearly. */
#define RD_MAX_REFRESH_TTL (365 * 86400)
/* refresh_grace: at most a day after the access token expired. */
#define RD_MAX_REFRESH_GRACE 86400
/* issuer and audience: the longest iss the JWT code accepts (AUTHJWT_MAX_NAME). */
#define RD_MAX_TOKEN_NAME 255
/* Role names in one list (superusers, read, write): checked on every request. */
#define RD_MAX_ROLES 64

/* iProva-style schemes and the session cookie (api/authn.c). A cookie name
 * is a short token; a Cookie header is read only up to 8 KiB (browsers
 * send at most about 4 KiB per cookie) and at most 64 pairs are walked;
 * X-Api-Key and x-two-factor-code values past these sizes are refused
 * unread. At most 16 trusted proxy addresses. */
#define RD_MAX_COOKIE_NAME 64
#define RD_MAX_COOKIE_HEADER 8192
#define RD_MAX_COOKIE_PAIRS 64
#define RD_MAX_API_KEY 256
/* A login name in a credentials header: as long as the login route takes. */
#define RD_MAX_LOGIN 1024
#define RD_MAX_TRUSTED_PROXIES 16

/* Default and maximum page size of a list. */
#define RD_DEFAULT_PAGE 100
#define RD_MAX_PAGE 1000

/* Login throttling (api/throttle.c). Per account: 5 failures within 15
 * minutes lock that login for a minute (Zou's rule), whether or not the
 * account exists, so the answer reveals nothing. Per client address: 50
 * failures within 15 minutes lock the address for 5 minutes (a spray over
 * many accounts). The table holds 8192 keys. */
#define RD_THROTTLE_ACCOUNT_FAILS 5
#define RD_THROTTLE_ACCOUNT_LOCK_SEC 60
#define RD_THROTTLE_ADDR_FAILS 50
#define RD_THROTTLE_ADDR_LOCK_SEC 300
#define RD_THROTTLE_WINDOW_SEC 900
#define RD_THROTTLE_SLOTS 8192

/* Seconds an event loop trusts its memory that an access token was not
 * revoked, for revocations made by another process (the CLI); revocations
 * committed by this process are seen at once. */
#define RD_REVOCATION_RECHECK_SEC 1

/* Second factors and password reset (api/mfa.c, docs/auth.md).
 * A mailed code: 6 digits, good for 5 minutes and 5 wrong tries, then void
 * (1 in 200,000 for a guesser). Second-factor failures per account: 5
 * within 15 minutes lock the account's second step for a minute. Mails
 * per account (codes, reset tokens): 5 within 15 minutes, then none for 15
 * minutes, so the routes cannot be used to flood a mailbox. A reset token:
 * 64 characters of [A-Z0-9] (330 bits), good for 2 hours (Zou's TTL). */
#define RD_EMAIL_OTP_DIGITS 6
#define RD_EMAIL_OTP_TTL 300
#define RD_EMAIL_OTP_TRIES 5
#define RD_MFA_FAILS 5
#define RD_MFA_LOCK_SEC 60
#define RD_MAIL_PER_ACCOUNT 5
#define RD_MAIL_LOCK_SEC 900
/* The public routes that write (GET email_otp, POST reset_password) per
 * client address in RD_MAIL_LOCK_SEC: each costs a commit, whatever the
 * account. */
#define RD_MAIL_PER_ADDR 100
#define RD_RESET_TOKEN_LEN 64
#define RD_RESET_TTL 7200
#define RD_MIN_PASSWORD 8

#endif
