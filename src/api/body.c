/*
 * A request body that must be one JSON object, for the routes that take a
 * small fixed body rather than a model row: the sign-in routes (signin.c),
 * second factors and password reset (mfa.c, reset.c).
 */
#include "api/api.h"

#include "json/jin.h"

json_t *api_json_object(rq *r, bool empty_is_object)
{
    if (!r->body_len && empty_is_object)
        return json_object();
    if (!api_json_media_type(r->content_type, r->content_type_len)) {
        problem_send(r, RD_MEDIA_TYPE, "the request body must be JSON (Content-Type: application/json)", NULL);
        return NULL;
    }
    const char *msg = NULL;
    json_t *body = jin_parse(r->body ? r->body : "", r->body_len, r->a, &msg);
    if (!body) {
        problem_send(r, RD_BAD_JSON, msg, NULL);
        return NULL;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        problem_send(r, RD_BAD_REQUEST, "the request body must be a JSON object", NULL);
        return NULL;
    }
    return body;
}
