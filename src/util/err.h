/*
 * Error codes as values. One X-macro table gives each code its HTTP status,
 * its RFC 9457 `type` URI and its title; the problem renderer (api/problem.c)
 * is the only place they become bytes. Functions return rd_err and pass
 * results through out-parameters.
 */
#ifndef RESTD_ERR_H
#define RESTD_ERR_H

#define RD_T9110 "https://tools.ietf.org/html/rfc9110#section-"
/*  name,           status, type URI,                                  title */
#define RD_ERRORS(X)                                                                                     \
    X(OK,           200, "about:blank",                                "OK")                             \
    X(BAD_JSON,     400, RD_T9110 "15.5.1",                            "Malformed JSON")                 \
    X(BAD_REQUEST,  400, RD_T9110 "15.5.1",                            "Bad request")                    \
    X(UNAUTHORIZED, 401, RD_T9110 "15.5.2",                            "Unauthorized")                   \
    X(FORBIDDEN,    403, RD_T9110 "15.5.4",                            "Forbidden")                      \
    X(DENIED,       403, RD_T9110 "15.5.4",                            "Missing permissions")            \
    X(DENIED_401,   401, RD_T9110 "15.5.2",                            "Missing permissions")            \
    X(NOT_FOUND,    404, RD_T9110 "15.5.5",                            "Not found")                      \
    X(NO_ROUTE,     404, RD_T9110 "15.5.5",                            "No such route")                  \
    X(METHOD,       405, RD_T9110 "15.5.6",                            "Method not allowed")             \
    X(NOT_ACCEPTABLE, 406, RD_T9110 "15.5.7",                          "Not acceptable")                 \
    X(CONFLICT,     409, RD_T9110 "15.5.10",                           "Conflict")                       \
    X(TOO_LARGE,    413, RD_T9110 "15.5.14",                           "Request body too large")         \
    X(MEDIA_TYPE,   415, RD_T9110 "15.5.16",                           "Unsupported media type")         \
    X(HEADERS,      431, "https://tools.ietf.org/html/rfc6585#section-5",                                \
                                                                       "Request header fields too large") \
    X(VALIDATION,   422, "https://tools.ietf.org/html/rfc4918#section-11.2",                              \
                                                                       "One or more validation errors occurred.") \
    /* a token of the wrong kind (an access token sent to refresh): Zou's 422, never remapped */ \
    X(WRONG_TOKEN,  422, "https://tools.ietf.org/html/rfc4918#section-11.2",                              \
                                                                       "Wrong token type")               \
    X(TOO_MANY,     429, "https://tools.ietf.org/html/rfc6585#section-4",                                \
                                                                       "Too many requests")              \
    X(INTERNAL,     500, RD_T9110 "15.6.1",                            "Internal server error")          \
    X(UNAVAILABLE,  503, RD_T9110 "15.6.4",                            "Service unavailable")

typedef enum rd_err {
#define X(name, status, type, title) RD_##name,
    RD_ERRORS(X)
#undef X
    RD_ERR__COUNT
} rd_err;

typedef struct rd_err_info {
    int status;
    const char *type;
    const char *title;
} rd_err_info;

/* Static data; never NULL for a valid code. */
const rd_err_info *rd_err_get(rd_err e);

#endif
