/*
 * Zou's routes over tasks, for apps/kitsu (`routes: zou`): an entity's
 * tasks, Zou's rules for a new task, a task's full view, the comment,
 * assignment and time-spent actions, the signed-in user's lists and an
 * edit's versions. Writes of several rows (a comment and its task's new
 * status; an assignment and the project teams) are one STORE_MULTI job.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/authn.h"
#include "api/authz.h"
#include "api/ext.h"
#include "app/types.h"
#include "json/jin.h"
#include "json/jw.h"
#include "util/dt.h"
#include "zou_int.h"

/* ---- tasks ---------------------------------------------------------------- */

/* GET assets/<id>/tasks, shots/<id>/tasks, entities/<id>/tasks. */
static void h_entity_tasks(rq *r, const char *const *caps)
{
    const app_model *ent = zou__model(r, "entity"), *task = zou__model(r, "task");
    const char *id = ent && task ? zou__row_id(r, ent, caps[0], "Entity") : NULL;
    if (!id)
        return;
    fterm t = ext_eq(r, zou__field(task, "entity_id"), id);
    ext_list(r, task, &t, 1, NULL);
}

/* The id of the default task status (is_default), or NULL. */
static const char *default_status(rq *r)
{
    const app_model *ts = app_model_by_name(r->app, "task_status");
    const app_field *f = ts ? zou__field(ts, "is_default") : NULL;
    if (!f)
        return NULL;
    sqlval *v = arena_alloc(r->a, sizeof *v);
    *v = (sqlval){.kind = SV_INT, .i = 1};
    fterm t = {.field = f, .op = FOP_EQ, .vals = v, .n = 1};
    store_query q = {.terms = &t, .n_terms = 1, .limit = 1};
    const char **ids;
    size_t n = 0;
    return store_values(r->conn, ts, &q, NULL, r->a, &ids, &n) == RD_OK && n ? ids[0] : NULL;
}

/* What an entity is for a task type's for_entity: its entity type's name
 * when that is one of the non-asset kinds, else "Asset". */
static const char *entity_kind(rq *r, const char *entity_type_id)
{
    const app_model *et = app_model_by_name(r->app, "entity_type");
    json_t *row = et && entity_type_id ? ext_row(r, et, entity_type_id) : NULL;
    const char *name = row ? json_string_value(json_object_get(row, "name")) : NULL;
    const char *what = "Asset";
    for (size_t i = 0; name && i < ZOU_N_NON_ASSET; i++)
        if (strcmp(name, zou__non_asset[i]) == 0)
            what = zou__non_asset[i];
    json_decref(row);
    return what;
}

/* Whether a task (name, project, type, entity) exists already. */
static bool task_exists(rq *r, const app_model *task, const char *name, const char *project, const char *type,
                        const char *entity)
{
    fterm t[4] = {ext_eq(r, zou__field(task, "name"), name), ext_eq(r, zou__field(task, "task_type_id"), type),
                  ext_eq(r, zou__field(task, "entity_id"), entity)};
    if (project)
        t[3] = ext_eq(r, zou__field(task, "project_id"), project);
    store_query q = {.terms = t, .n_terms = project ? 4 : 3, .limit = 1};
    const char **ids;
    size_t n = 0;
    return store_values(r->conn, task, &q, NULL, r->a, &ids, &n) == RD_OK && n > 0;
}


/* POST data/tasks with Zou's rules: name defaults to "main", the status to
 * the default one; the task type must be for the entity's kind; a task
 * that exists already is 400 "Task already exists.". */
static void h_new_task(rq *r, const char *const *caps)
{
    const app_model *task = zou__model(r, "task"), *ent = zou__model(r, "entity"), *tt = zou__model(r, "task_type");
    json_t *body = task && ent && tt ? ext_body(r) : NULL;
    if (!body)
        return;
    if (!json_object_get(body, "name") || json_is_null(json_object_get(body, "name")))
        json_object_set_new(body, "name", json_string("main"));
    if (!json_object_get(body, "task_status_id") || json_is_null(json_object_get(body, "task_status_id"))) {
        const char *st = default_status(r);
        if (st)
            json_object_set_new(body, "task_status_id", json_string(st));
    }
    const char *name = zou__str_of(body, "name"), *eid = zou__str_of(body, "entity_id"), *tid = zou__str_of(body, "task_type_id");
    const char *e_id = NULL, *t_id = NULL, *why = NULL;
    rd_err e = RD_BAD_REQUEST;
    if (!eid || !tid) {
        why = "task_type_id and entity_id are required.";
    } else if (!(e_id = ext_id(r, eid)) || !(t_id = ext_id(r, tid))) {
        json_decref(body);
        return; /* answered: Malformed ID. */
    }
    json_t *erow = e_id ? ext_row(r, ent, e_id) : NULL;
    json_t *trow = t_id ? ext_row(r, tt, t_id) : NULL;
    if (!why && (!erow || !trow)) {
        e = RD_NOT_FOUND;
        why = !trow ? "Task type not found" : "Entity not found";
    } else if (!why) {
        const char *what = entity_kind(r, zou__str_of(erow, "entity_type_id"));
        const char *for_entity = zou__str_of(trow, "for_entity");
        if (for_entity && strcmp(for_entity, what) != 0)
            why = "Task type of the task does not match entity type.";
        else if (name && task_exists(r, task, name, NULL, t_id, e_id))
            why = "Task already exists.";
        if (!zou__str_of(body, "project_id")) /* gazu sends it; else the entity's */
            json_object_set(body, "project_id", json_object_get(erow, "project_id"));
    }
    json_decref(erow);
    json_decref(trow);
    if (why)
        problem_send(r, e, why, NULL);
    else
        ext_create(r, task, body, NULL);
    json_decref(body);
}





/* POST entities/<id>/tasks {task_type_ids}: a "main" task of each type the
 * entity does not have yet, in one transaction; 201 with the new tasks. */
static void h_create_entity_tasks(rq *r, const char *const *caps)
{
    const app_model *ent = zou__model(r, "entity"), *task = zou__model(r, "task"), *tt = zou__model(r, "task_type");
    const char *eid = ent && task && tt ? zou__row_id(r, ent, caps[0], "Entity") : NULL;
    size_t n = 0;
    const char **types = eid ? zou__body_ids(r, "task_type_ids", &n) : NULL;
    if (!types || (r->app->auth && !authz_allowed(r, task, true)))
        return;
    json_t *erow = ext_row(r, ent, eid);
    const char *project = erow ? arena_strdup(r->a, zou__str_of(erow, "project_id")) : NULL;
    json_decref(erow);
    const char *status = default_status(r);
    store_write *w = arena_zalloc(r->a, sizeof *w);
    w->op = STORE_MULTI;
    w->steps = arena_alloc(r->a, (n ? n : 1) * sizeof *w->steps);
    for (size_t i = 0; i < n; i++) {
        if (!ext_exists(r, tt, types[i], "Task type"))
            return;
        if (task_exists(r, task, "main", project, types[i], eid))
            continue;
        json_t *tb = json_pack("{s:s, s:s, s:s, s:s}", "name", "main", "entity_id", eid, "task_type_id", types[i],
                               "project_id", project ? project : "");
        if (status)
            json_object_set_new(tb, "task_status_id", json_string(status));
        store_write *step = ext_step(r, task, STORE_CREATE, NULL, tb, NULL);
        json_decref(tb);
        if (!step)
            return;
        w->steps[w->n_steps++] = step;
    }
    int *st = arena_alloc(r->a, sizeof *st);
    *st = 201;
    w->ctx = st;
    ext_submit(r, w, zou__steps_list);
}

/* GET tasks/<id>/full: the task with its entity, entity type, project,
 * status, type, assignees (persons), assigner, for a shot its sequence and
 * episode, and whether the caller follows it. */
static void h_task_full(rq *r, const char *const *caps)
{
    const app_model *task = zou__model(r, "task"), *ent = zou__model(r, "entity"), *et = zou__model(r, "entity_type");
    const app_model *pm = zou__model(r, "project"), *ts = zou__model(r, "task_status"), *tt = zou__model(r, "task_type");
    const app_model *person = zou__model(r, "person");
    if (!task || !ent || !et || !pm || !ts || !tt || !person)
        return;
    const char *id = ext_id(r, caps[0]);
    if (!id)
        return;
    json_t *row = ext_row(r, task, id);
    if (!row) {
        problem_send(r, RD_NOT_FOUND, "Task not found", NULL);
        return;
    }
    json_t *erow = zou__str_of(row, "entity_id") ? ext_row(r, ent, zou__str_of(row, "entity_id")) : NULL;
    const char *parent = erow ? zou__str_of(erow, "parent_id") : NULL;
    json_t *prow = parent ? ext_row(r, ent, parent) : NULL;
    buf *b = ext_buf(r);
    bool ok = zou__raw_row(r, task, id, b) && b->len > 2;
    if (ok)
        b->len--; /* reopen the task's object: its keys, then the embedded rows */
    static const struct {
        const char *key, *ref;
        size_t model; /* index into ms */
    } embeds[] = {
        {"entity", "entity_id", 0},       {"project", "project_id", 1},    {"task_status", "task_status_id", 2},
        {"task_type", "task_type_id", 3}, {"assigner", "assigner_id", 4},
    };
    const app_model *ms[] = {ent, pm, ts, tt, person};
    for (size_t i = 0; ok && i < sizeof embeds / sizeof embeds[0]; i++) {
        buf_printf(b, ",\"%s\":", embeds[i].key);
        ok = zou__raw_row(r, ms[embeds[i].model], zou__str_of(row, embeds[i].ref), b);
    }
    buf_puts(b, ",\"entity_type\":");
    ok = ok && zou__raw_row(r, et, erow ? zou__str_of(erow, "entity_type_id") : NULL, b);
    buf_puts(b, ",\"persons\":[");
    json_t *as = json_object_get(row, "assignees");
    size_t i;
    json_t *v;
    json_array_foreach(as, i, v) {
        if (i)
            buf_putc(b, ',');
        ok = ok && zou__raw_row(r, person, json_string_value(v), b);
    }
    buf_putc(b, ']');
    if (prow) { /* a shot: its sequence, and the sequence's episode */
        buf_puts(b, ",\"sequence\":");
        ok = ok && zou__raw_row(r, ent, parent, b);
        const char *ep = zou__str_of(prow, "parent_id");
        if (ep) {
            buf_puts(b, ",\"episode\":");
            ok = ok && zou__raw_row(r, ent, ep, b);
        }
    }
    bool subscribed = false;
    const app_model *sub = app_model_by_name(r->app, "subscription");
    if (sub && r->user_id && zou__field(sub, "person_id") && zou__field(sub, "task_id")) {
        fterm t[2] = {ext_eq(r, zou__field(sub, "person_id"), r->user_id), ext_eq(r, zou__field(sub, "task_id"), id)};
        store_query q = {.terms = t, .n_terms = 2, .limit = 1};
        const char **ids;
        size_t n = 0;
        subscribed = store_values(r->conn, sub, &q, NULL, r->a, &ids, &n) == RD_OK && n;
    }
    ok = buf_puts(b, subscribed ? ",\"is_subscribed\":true}" : ",\"is_subscribed\":false}") && ok;
    json_decref(row);
    json_decref(erow);
    json_decref(prow);
    if (!ok) {
        problem_send(r, RD_INTERNAL, NULL, NULL);
        return;
    }
    ext_send(r, 200, b);
}

/* ---- actions ------------------------------------------------------------- */

/* The comment's answer: the comment with its status and author embedded. */
static void commented(rq *r, store_write *w)
{
    if (w->err != RD_OK) {
        ext_error(r, w);
        return;
    }
    const store_write *c = w->steps[0];
    const char *msg = NULL;
    json_t *row = jin_parse(c->body.data, c->body.len, r->a, &msg);
    buf *b = ext_buf(r);
    bool ok = row && buf_append(b, c->body.data, c->body.len - 1);
    buf_puts(b, ",\"task_status\":");
    ok = ok && zou__raw_row(r, app_model_by_name(r->app, "task_status"), zou__str_of(row, "task_status_id"), b);
    buf_puts(b, ",\"person\":");
    ok = ok && zou__raw_row(r, app_model_by_name(r->app, "person"), zou__str_of(row, "person_id"), b);
    ok = buf_putc(b, '}') && ok;
    json_decref(row);
    if (!ok) {
        problem_send(r, RD_INTERNAL, NULL, NULL);
        return;
    }
    ext_send(r, 201, b);
}

/* POST actions/tasks/<id>/comment {task_status_id, comment, checklist,
 * links, for_client, person_id}: the comment and the task's new status in
 * one transaction. The author is person_id, else the caller. */
static void h_comment(rq *r, const char *const *caps)
{
    const app_model *task = zou__model(r, "task"), *comment = zou__model(r, "comment"), *ts = zou__model(r, "task_status");
    const app_model *person = zou__model(r, "person");
    /* rights first, then the task, as the generic nested routes order them */
    if (!task || !comment || !ts || !person || (r->app->auth && !authz_allowed(r, comment, true)))
        return;
    const char *tid = zou__row_id(r, task, caps[0], "Task");
    json_t *in = tid ? ext_body(r) : NULL;
    if (!in)
        return;
    const char *status = zou__str_of(in, "task_status_id");
    const char *author = zou__str_of(in, "person_id") ? zou__str_of(in, "person_id") : r->user_id;
    const char *why = !status ? "task_status_id is required." : !author ? "person_id is required." : NULL;
    const char *sid = NULL, *pid = NULL;
    if (!why) {
        sid = ext_id(r, status);
        pid = sid ? ext_id(r, author) : NULL;
        if (!pid || !ext_exists(r, ts, sid, "Task status") || !ext_exists(r, person, pid, "Person")) {
            json_decref(in);
            return;
        }
    }
    if (why) {
        json_decref(in);
        problem_send(r, RD_BAD_REQUEST, why, NULL);
        return;
    }
    json_t *cb = json_pack("{s:s, s:s, s:s, s:s}", "object_id", tid, "object_type", "Task", "task_status_id", sid,
                           "person_id", pid);
    static const char *const copied[] = {"checklist", "links", "for_client"};
    for (size_t i = 0; i < sizeof copied / sizeof copied[0]; i++)
        if (json_object_get(in, copied[i]))
            json_object_set(cb, copied[i], json_object_get(in, copied[i]));
    if (json_object_get(in, "comment"))
        json_object_set(cb, "text", json_object_get(in, "comment"));
    json_decref(in);
    char now[DT_DATETIME_LEN + 1];
    dt_now(now);
    char wire[40]; /* the app's own date style, as a client would send it */
    size_t nl = dt_format_datetime(now, strlen(now), r->app->dates, wire);
    json_t *tb = json_pack("{s:s, s:s%}", "task_status_id", sid, "last_comment_date", wire, nl);
    /* What a status change does to the task (Zou's _manage_status_change):
     * a retake counts, the first wip starts it, done stamps it. */
    json_t *trow = ext_row(r, task, tid), *srow = ext_row(r, ts, sid);
    if (trow && srow && strcmp(zou__str_of(trow, "task_status_id") ? zou__str_of(trow, "task_status_id") : "", sid) != 0) {
        if (json_is_true(json_object_get(srow, "is_retake")))
            json_object_set_new(tb, "retake_count",
                                json_integer(json_integer_value(json_object_get(trow, "retake_count")) + 1));
        if (json_is_true(json_object_get(srow, "is_wip")) && json_is_null(json_object_get(trow, "real_start_date")))
            json_object_set_new(tb, "real_start_date", json_stringn(wire, nl));
        if (json_is_true(json_object_get(srow, "is_done")))
            json_object_set_new(tb, "done_date", json_stringn(wire, nl));
        if (json_is_true(json_object_get(srow, "is_feedback_request")))
            json_object_set_new(tb, "end_date", json_stringn(wire, nl));
    }
    json_decref(trow);
    json_decref(srow);
    store_write *w = arena_zalloc(r->a, sizeof *w);
    w->op = STORE_MULTI;
    w->steps = arena_alloc(r->a, 2 * sizeof *w->steps);
    w->steps[0] = ext_step(r, comment, STORE_CREATE, NULL, cb, NULL);
    w->steps[1] = w->steps[0] ? ext_step(r, task, STORE_PATCH, tid, tb, NULL) : NULL;
    json_decref(cb);
    json_decref(tb);
    if (!w->steps[1])
        return;
    /* The comment is the caller's write; the status change it carries to
     * the task is the server's (Zou lets whoever may comment on a task
     * they reach move its status), so this step goes unscoped: the task
     * was found inside the caller's scope above (zou__row_id). */
    w->steps[1]->scope_user = NULL;
    w->n_steps = 2;
    ext_submit(r, w, commented);
}

/* PUT actions/persons/<id>/assign {task_ids}: the person joins each task's
 * assignees and each task's project team, in one transaction; 200 with the
 * tasks. */
static void h_assign(rq *r, const char *const *caps)
{
    const app_model *task = zou__model(r, "task"), *person = zou__model(r, "person"), *pm = zou__model(r, "project");
    const char *pid = task && person && pm ? zou__row_id(r, person, caps[0], "Person") : NULL;
    size_t n = 0;
    const char **ids = pid ? zou__body_ids(r, "task_ids", &n) : NULL;
    if (!ids)
        return;
    if (r->app->auth && (!authz_allowed(r, task, true) || !authz_allowed(r, pm, true)))
        return;
    store_write *w = arena_zalloc(r->a, sizeof *w);
    w->op = STORE_MULTI;
    w->steps = arena_alloc(r->a, (2 * n + 1) * sizeof *w->steps);
    const char **projects = arena_alloc(r->a, (n + 1) * sizeof *projects);
    size_t np = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *row = ext_row(r, task, ids[i]);
        if (!row) {
            problem_send(r, RD_NOT_FOUND, arena_printf(r->a, "Task %s not found", ids[i]), NULL);
            return;
        }
        const char *proj = zou__str_of(row, "project_id");
        bool seen = !proj;
        for (size_t p = 0; p < np && !seen; p++)
            seen = strcmp(projects[p], proj) == 0;
        if (!seen)
            projects[np++] = arena_strdup(r->a, proj);
        json_decref(row);
        store_write *step = zou__list_step(r, task, ids[i], "assignees", pid, true, NULL);
        if (!step)
            return;
        w->steps[w->n_steps++] = step;
    }
    /* the team of every project touched gets the person too */
    for (size_t p = 0; p < np; p++) {
        store_write *step = zou__list_step(r, pm, projects[p], "team", pid, true, NULL);
        if (!step)
            return;
        step->ctx = step; /* not listed in the answer */
        w->steps[w->n_steps++] = step;
    }
    int *st = arena_alloc(r->a, sizeof *st);
    *st = 200;
    w->ctx = st;
    ext_submit(r, w, zou__steps_list);
}

/* The time spent as it now stands: 201 whether it was made or changed. */
static void time_written(rq *r, store_write *w)
{
    if (w->err != RD_OK)
        ext_error(r, w);
    else
        ext_send(r, 201, &w->body);
}

/* POST actions/tasks/<tid>/time-spents/<date>/persons/<pid>[/add]
 * {duration}: set (or add to) the person's time on the task that day. */
static void time_spent(rq *r, const char *const *caps, bool add)
{
    const app_model *task = zou__model(r, "task"), *person = zou__model(r, "person"), *tsm = zou__model(r, "time_spent");
    if (!task || !person || !tsm || (r->app->auth && !authz_allowed(r, tsm, true)))
        return;
    const char *tid = zou__row_id(r, task, caps[0], "Task");
    const char *pid = tid ? zou__row_id(r, person, caps[2], "Person") : NULL;
    if (!pid)
        return;
    char day[DT_DATE_LEN + 1];
    if (strlen(caps[1]) != DT_DATE_LEN || !dt_parse_date(caps[1], DT_DATE_LEN, DS_ISO8601, day)) {
        problem_send(r, RD_BAD_REQUEST, "Wrong date format.", NULL);
        return;
    }
    json_t *body = ext_body(r);
    if (!body)
        return;
    json_t *d = json_object_get(body, "duration");
    double dur = json_is_number(d) ? json_number_value(d) : -1;
    json_decref(body);
    if (!(dur > 0) || dur > 1e9) {
        problem_send(r, RD_BAD_REQUEST, "duration must be a positive number.", NULL);
        return;
    }
    /* One write that creates the day's row or changes the one there: the
     * writer decides, so racing writes for the same day all count. */
    fterm *t = arena_alloc(r->a, 3 * sizeof *t);
    t[0] = ext_eq(r, zou__field(tsm, "task_id"), tid);
    t[1] = ext_eq(r, zou__field(tsm, "person_id"), pid);
    /* the terms are read on the writer thread, after this frame is gone */
    t[2] = ext_eq(r, zou__field(tsm, "date"), arena_strdup(r->a, day));
    json_t *cb = json_pack("{s:s, s:s, s:s, s:f}", "task_id", tid, "person_id", pid, "date", day, "duration", dur);
    json_t *ub = json_pack("{s:f}", "duration", dur);
    store_write *w = ext_step(r, tsm, STORE_CREATE, NULL, cb, NULL);
    store_write *u = w ? ext_step(r, tsm, STORE_PATCH, NULL, ub, NULL) : NULL;
    json_decref(cb);
    json_decref(ub);
    if (!u)
        return;
    w->match = t;
    w->n_match = 3;
    w->upd = u->vals;
    w->add_field = add ? zou__field(tsm, "duration") : NULL;
    ext_submit(r, w, time_written);
}

static void h_time_set(rq *r, const char *const *caps) { time_spent(r, caps, false); }
static void h_time_add(rq *r, const char *const *caps) { time_spent(r, caps, true); }

/* Comments and time spents one answer lists at most. */
#define ZOU_MAX_TASK_ROWS 1000

/* Append to b, after `,"key":`, an object of the given members of row id
 * of m, always with its id (Zou's task_status and person of a comment). */
static bool embed_some(rq *r, buf *b, const char *key, const app_model *m, const char *id, const char *const *keys,
                       size_t n)
{
    json_t *row = m && id ? ext_row(r, m, id) : NULL;
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set(o, keys[i], row && json_object_get(row, keys[i]) ? json_object_get(row, keys[i]) : json_null());
    json_object_set_new(o, "id", id ? json_string(id) : json_null());
    char *text = json_dumps(o, JSON_COMPACT);
    bool ok = text && buf_printf(b, ",\"%s\":%s", key, text);
    free(text);
    json_decref(o);
    json_decref(row);
    return ok;
}

/* GET tasks/<id>/comments: the task's comments, newest first, each with
 * its author (first_name, last_name, has_avatar, id) and its status
 * (name, short_name, color, id), as Zou's get_comments; attachment_files
 * is always empty (attachments are not served). */
static void h_task_comments(rq *r, const char *const *caps)
{
    const app_model *task = zou__model(r, "task"), *comment = zou__model(r, "comment");
    const app_model *ts = zou__model(r, "task_status"), *person = zou__model(r, "person");
    if (!task || !comment || !ts || !person || (r->app->auth && !authz_allowed(r, comment, false)))
        return;
    const char *tid = zou__row_id(r, task, caps[0], "Task");
    if (!tid)
        return;
    fterm t = ext_eq(r, zou__field(comment, "object_id"), tid);
    store_query q = {.terms = &t, .n_terms = 1, .limit = ZOU_MAX_TASK_ROWS};
    const char **ids;
    size_t n = 0;
    if (store_values(r->conn, comment, &q, NULL, r->a, &ids, &n) != RD_OK) {
        problem_send(r, RD_UNAVAILABLE, NULL, NULL);
        return;
    }
    static const char *const person_keys[] = {"first_name", "last_name", "has_avatar"};
    static const char *const status_keys[] = {"name", "short_name", "color"};
    buf *b = ext_buf(r);
    bool ok = buf_putc(b, '[');
    for (size_t i = n; ok && i-- > 0;) { /* creation order, reversed: newest first */
        json_t *row = ext_row(r, comment, ids[i]);
        size_t at = b->len;
        ok = row && zou__raw_row(r, comment, ids[i], b) && b->len > at + 2;
        if (ok)
            b->len--; /* reopen the comment's object */
        ok = ok && embed_some(r, b, "person", person, zou__str_of(row, "person_id"), person_keys, 3) &&
             embed_some(r, b, "task_status", ts, zou__str_of(row, "task_status_id"), status_keys, 3) &&
             buf_puts(b, ",\"attachment_files\":[]}") && (i == 0 || buf_putc(b, ','));
        json_decref(row);
    }
    ok = ok && buf_putc(b, ']');
    if (!ok) {
        problem_send(r, RD_INTERNAL, NULL, NULL);
        return;
    }
    ext_send(r, 200, b);
}

/* GET actions/tasks/<id>/time-spents[/<date>]: Zou's get_time_spents, an
 * object with "total" (the sum of durations) and, per person id, the list
 * of that person's time spents on the task (that day). */
static void task_time_spents(rq *r, const char *const *caps, bool dated)
{
    const app_model *task = zou__model(r, "task"), *tsm = zou__model(r, "time_spent");
    if (!task || !tsm || (r->app->auth && !authz_allowed(r, tsm, false)))
        return;
    const char *tid = zou__row_id(r, task, caps[0], "Task");
    if (!tid)
        return;
    char day[DT_DATE_LEN + 1];
    if (dated && (strlen(caps[1]) != DT_DATE_LEN || !dt_parse_date(caps[1], DT_DATE_LEN, DS_ISO8601, day))) {
        problem_send(r, RD_BAD_REQUEST, "Wrong date format.", NULL);
        return;
    }
    fterm t[2] = {ext_eq(r, zou__field(tsm, "task_id"), tid)};
    if (dated)
        t[1] = ext_eq(r, zou__field(tsm, "date"), day);
    store_query q = {.terms = t, .n_terms = dated ? 2 : 1, .limit = ZOU_MAX_TASK_ROWS};
    const char **ids;
    size_t n = 0;
    if (store_values(r->conn, tsm, &q, NULL, r->a, &ids, &n) != RD_OK) {
        problem_send(r, RD_UNAVAILABLE, NULL, NULL);
        return;
    }
    json_t *out = json_object();
    double total = 0;
    bool whole = true; /* Zou's total is an integer while every duration is */
    for (size_t i = 0; i < n; i++) {
        json_t *row = ext_row(r, tsm, ids[i]);
        const char *pid = zou__str_of(row, "person_id");
        if (!row || !pid) {
            json_decref(row);
            continue;
        }
        json_t *d = json_object_get(row, "duration");
        total += json_number_value(d);
        whole = whole && !json_is_real(d);
        json_t *list = json_object_get(out, pid);
        if (!list) {
            list = json_array();
            json_object_set_new(out, pid, list);
        }
        json_array_append_new(list, row);
    }
    json_object_set_new(out, "total", whole ? json_integer((json_int_t)total) : json_real(total));
    char *text = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    buf *b = ext_buf(r);
    bool ok = text && buf_puts(b, text);
    free(text);
    if (!ok) {
        problem_send(r, RD_INTERNAL, NULL, NULL);
        return;
    }
    ext_send(r, 200, b);
}

static void h_time_spents(rq *r, const char *const *caps) { task_time_spents(r, caps, false); }
static void h_time_spents_day(rq *r, const char *const *caps) { task_time_spents(r, caps, true); }

/* GET persons/<id>/time-spents?start_date=&end_date=: the person's time
 * spents from start_date to end_date, both included (Zou's
 * get_time_spents_range); both dates are required. */
static void h_person_time_spents(rq *r, const char *const *caps)
{
    const app_model *person = zou__model(r, "person"), *tsm = zou__model(r, "time_spent");
    const char *pid = person && tsm ? zou__row_id(r, person, caps[0], "Person") : NULL;
    if (!pid)
        return;
    static const char *const keys[2] = {"start_date", "end_date"};
    char *days[2];
    for (size_t i = 0; i < 2; i++) {
        const char *v = ext_take_param(r, keys[i]);
        days[i] = arena_alloc(r->a, DT_DATE_LEN + 1);
        if (!v || strlen(v) != DT_DATE_LEN || !dt_parse_date(v, DT_DATE_LEN, DS_ISO8601, days[i])) {
            problem_send(r, RD_BAD_REQUEST, "Wrong date format.", NULL);
            return;
        }
    }
    fterm t[3] = {ext_eq(r, zou__field(tsm, "person_id"), pid), ext_eq(r, zou__field(tsm, "date"), days[0]),
                  ext_eq(r, zou__field(tsm, "date"), days[1])};
    t[1].op = FOP_GE;
    t[2].op = FOP_LE;
    /* time_spent has no scope of its own: it follows its task's. A caller
     * whose task rows are limited sees the rows of tasks they reach. */
    const app_model *task = zou__model(r, "task");
    const store_scope *sc = task ? authz_scope_user(r, task) : NULL;
    if (!task)
        return;
    if (!sc) {
        ext_list(r, tsm, t, 3, NULL);
        return;
    }
    store_query q = {.terms = t, .n_terms = 3, .limit = ZOU_MAX_TASK_ROWS};
    const char **tids, **reach;
    size_t n = 0, k = 0;
    rd_err e = store_values(r->conn, tsm, &q, zou__field(tsm, "task_id"), r->a, &tids, &n);
    if (e == RD_OK && n) {
        fterm in = ext_in(r, ext_id_field(r), tids, n);
        store_query tq = {.terms = &in, .n_terms = 1, .limit = ZOU_MAX_TASK_ROWS, .scope_user = sc};
        e = store_values(r->conn, task, &tq, NULL, r->a, &reach, &k);
    }
    if (e != RD_OK) {
        problem_send(r, RD_UNAVAILABLE, NULL, NULL);
        return;
    }
    fterm *all = arena_alloc(r->a, 4 * sizeof *all);
    memcpy(all, t, 3 * sizeof *all);
    all[3] = k ? ext_in(r, zou__field(tsm, "task_id"), reach, k) : ext_eq(r, zou__field(tsm, "task_id"), zou__no_id);
    ext_list(r, tsm, all, 4, NULL);
}

/* ---- the signed-in user ------------------------------------------------ */

/* The caller's person id, or NULL after 401 (an app without sign-in has no
 * user). */
static const char *me(rq *r)
{
    if (!r->user_id)
        problem_send(r, RD_UNAUTHORIZED, "These routes need a signed-in user.", NULL);
    return r->user_id;
}

/* Tasks assigned to person uid whose status is (done) or is not (to do)
 * a done one. */
static void tasks_of(rq *r, const char *uid, bool done)
{
    const app_model *task = zou__model(r, "task"), *ts = zou__model(r, "task_status");
    if (!task || !ts)
        return;
    sqlval *one = arena_alloc(r->a, sizeof *one);
    *one = (sqlval){.kind = SV_INT, .i = 1};
    fterm dt = {.field = zou__field(ts, "is_done"), .op = FOP_EQ, .vals = one, .n = 1};
    store_query q = {.terms = &dt, .n_terms = 1, .limit = 1000};
    const char **ids;
    size_t n = 0;
    store_values(r->conn, ts, &q, NULL, r->a, &ids, &n);
    fterm t[2] = {ext_eq(r, zou__field(task, "assignees"), uid)};
    size_t nt = 1;
    if (n) {
        t[nt] = ext_in(r, zou__field(task, "task_status_id"), ids, n);
        t[nt++].op = done ? FOP_IN : FOP_NIN;
    } else if (done) {
        t[nt++] = ext_eq(r, zou__field(task, "task_status_id"), zou__no_id);
    }
    ext_list(r, task, t, nt, NULL);
}

static void user_tasks(rq *r, bool done)
{
    const char *uid = me(r);
    if (uid)
        tasks_of(r, uid, done);
}

static void h_user_tasks(rq *r, const char *const *caps) { user_tasks(r, false); }
static void h_user_done_tasks(rq *r, const char *const *caps) { user_tasks(r, true); }

/* GET persons/<id>/tasks, persons/<id>/done-tasks: the same lists for
 * another person (Zou's PersonTasksResource, without its extra keys). */
static void person_tasks(rq *r, const char *cap, bool done)
{
    const app_model *person = zou__model(r, "person");
    const char *pid = person ? zou__row_id(r, person, cap, "Person") : NULL;
    if (pid)
        tasks_of(r, pid, done);
}

static void h_person_tasks(rq *r, const char *const *caps) { person_tasks(r, caps[0], false); }
static void h_person_done_tasks(rq *r, const char *const *caps) { person_tasks(r, caps[0], true); }


/* The terms "open project whose team has uid" over pm (ps: project_status). */
static void open_team_terms(rq *r, const app_model *pm, const app_model *ps, const char *uid, fterm t[2])
{
    const char **ids;
    size_t n = zou__open_status_ids(r, ps, &ids);
    t[0] = n ? ext_in(r, zou__field(pm, "project_status_id"), ids, n) : ext_eq(r, zou__field(pm, "project_status_id"), zou__no_id);
    t[1] = ext_eq(r, zou__field(pm, "team"), uid);
}

/* GET user/projects/open: open projects whose team has the caller. */
static void h_user_projects_open(rq *r, const char *const *caps)
{
    const app_model *pm = zou__model(r, "project"), *ps = zou__model(r, "project_status");
    const char *uid = pm && ps ? me(r) : NULL;
    if (!uid)
        return;
    fterm t[2];
    open_team_terms(r, pm, ps, uid, t);
    ext_list(r, pm, t, 2, NULL);
}

/* One list of the context: every row of m matching terms, typed type. */
static bool context_list(rq *r, buf *b, const char *key, const app_model *m, const fterm *t, size_t n,
                         const char *type)
{
    buf_printf(b, "%s\"%s\":", b->len > 1 ? "," : "", key);
    if (!m)
        return buf_puts(b, "[]");
    /* each list as the generic list serves it to this caller */
    store_query q = {.terms = t, .n_terms = n, .limit = 5000, .type_name = type,
                     .scope_user = authz_scope_user(r, m), .omit = authz_omit(r, m, NULL)};
    jw j;
    jw_init(&j, b);
    store_page pg;
    return store_list(r->conn, m, &q, r->a, &j, &pg) == RD_OK && jw_ok(&j);
}

/* GET user/context: what Kitsu loads at start, for the caller. */
static void h_user_context(rq *r, const char *const *caps)
{
    const app_model *pm = zou__model(r, "project"), *ps = zou__model(r, "project_status"), *et = zou__model(r, "entity_type");
    const char *uid = pm && ps && et ? me(r) : NULL;
    if (!uid)
        return;
    fterm pt[2];
    open_team_terms(r, pm, ps, uid, pt);
    fterm at;
    bool some = zou__asset_type_term(r, &at);
    buf *b = ext_buf(r);
    buf_putc(b, '{');
    bool ok = context_list(r, b, "projects", pm, pt, 2, NULL) &&
              context_list(r, b, "asset_types", et, some ? &at : NULL, some, "AssetType") &&
              context_list(r, b, "task_types", app_model_by_name(r->app, "task_type"), NULL, 0, NULL) &&
              context_list(r, b, "task_status", app_model_by_name(r->app, "task_status"), NULL, 0, NULL) &&
              context_list(r, b, "project_status", ps, NULL, 0, NULL) &&
              context_list(r, b, "departments", app_model_by_name(r->app, "department"), NULL, 0, NULL) &&
              context_list(r, b, "studios", app_model_by_name(r->app, "studio"), NULL, 0, NULL) &&
              context_list(r, b, "persons", app_model_by_name(r->app, "person"), NULL, 0, NULL);
    ok = buf_putc(b, '}') && ok;
    if (!ok) {
        problem_send(r, RD_INTERNAL, NULL, NULL);
        return;
    }
    ext_send(r, 200, b);
}

/* ---- edits ---------------------------------------------------------------- */

/* Versions an answer lists at most (the newest). */
#define ZOU_MAX_VERSIONS 1000

/* GET data/edits/<id>/versions: Zou's EntityVersion rows of an edit, newest
 * first, from the entity model's kept history: each write of the edit is a
 * version with its name and data, and the writer as person_id. */
static void h_edit_versions(rq *r, const char *const *caps)
{
    const app_model *ent = zou__model(r, "entity");
    const char *id = ent ? ext_id(r, caps[0]) : NULL;
    if (!id)
        return;
    json_t *row = ext_row(r, ent, id);
    const char *edit = zou__type_id(r, "Edit");
    bool is_edit = row && edit && zou__str_of(row, "entity_type_id") && strcmp(zou__str_of(row, "entity_type_id"), edit) == 0;
    json_decref(row);
    if (!is_edit) {
        problem_send(r, RD_NOT_FOUND, "Edit not found", NULL);
        return;
    }
    store_version *v;
    size_t n = 0;
    if (store_history(r->conn, ent, id, ZOU_MAX_VERSIONS, r->a, &v, &n) != RD_OK) {
        problem_send(r, RD_UNAVAILABLE, NULL, NULL);
        return;
    }
    buf *b = ext_buf(r);
    jw j;
    jw_init(&j, b);
    jw_arr_begin(&j);
    for (size_t i = n; i-- > 0;) {
        const char *msg = NULL;
        json_t *was = jin_parse(v[i].body, v[i].body_len, r->a, &msg);
        char at[40];
        size_t al = dt_format_datetime(v[i].at, strlen(v[i].at), r->app->dates, at);
        jw_obj_begin(&j);
        jw_keyz(&j, "id");
        jw_strz(&j, v[i].id);
        jw_keyz(&j, "type");
        jw_strz(&j, "EntityVersion");
        jw_keyz(&j, "name");
        if (zou__str_of(was, "name"))
            jw_strz(&j, zou__str_of(was, "name"));
        else
            jw_null(&j);
        jw_keyz(&j, "data");
        char *data = json_object_get(was, "data") ? json_dumps(json_object_get(was, "data"), JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        if (data)
            jw_raw(&j, data, strlen(data));
        else
            jw_null(&j);
        free(data);
        jw_keyz(&j, "entity_id");
        jw_strz(&j, id);
        jw_keyz(&j, "person_id");
        if (v[i].actor)
            jw_strz(&j, v[i].actor);
        else
            jw_null(&j);
        jw_keyz(&j, "created_at");
        jw_str(&j, at, al);
        jw_keyz(&j, "updated_at");
        jw_str(&j, at, al);
        jw_obj_end(&j);
        json_decref(was);
    }
    jw_arr_end(&j);
    if (!jw_ok(&j)) {
        problem_send(r, RD_INTERNAL, NULL, NULL);
        return;
    }
    ext_send(r, 200, b);
}

/* ---- routes ---------------------------------------------------------------- */

#define D "/api/data"
static const ext_route routes[] = {
    {M_GET, D "/assets/<asset_id>/tasks", h_entity_tasks},
    {M_GET, D "/shots/<shot_id>/tasks", h_entity_tasks},
    {M_GET, D "/entities/<entity_id>/tasks", h_entity_tasks},
    {M_GET, D "/sequences/<sequence_id>/tasks", h_entity_tasks},
    {M_GET, D "/episodes/<episode_id>/tasks", h_entity_tasks},
    {M_GET, D "/tasks/<task_id>/comments", h_task_comments},
    {M_GET, "/api/actions/tasks/<task_id>/time-spents", h_time_spents},
    {M_GET, "/api/actions/tasks/<task_id>/time-spents/<date>", h_time_spents_day},
    {M_POST, D "/entities/<entity_id>/tasks", h_create_entity_tasks},
    {M_POST, D "/tasks", h_new_task},
    {M_GET, D "/tasks/<task_id>/full", h_task_full},
    {M_POST, "/api/actions/tasks/<task_id>/comment", h_comment},
    {M_PUT, "/api/actions/persons/<person_id>/assign", h_assign},
    {M_POST, "/api/actions/tasks/<task_id>/time-spents/<date>/persons/<person_id>", h_time_set},
    {M_POST, "/api/actions/tasks/<task_id>/time-spents/<date>/persons/<person_id>/add", h_time_add},
    {M_GET, D "/user/projects/open", h_user_projects_open},
    {M_GET, D "/user/tasks", h_user_tasks},
    {M_GET, D "/user/done-tasks", h_user_done_tasks},
    {M_GET, D "/persons/<person_id>/tasks", h_person_tasks},
    {M_GET, D "/persons/<person_id>/done-tasks", h_person_done_tasks},
    {M_GET, D "/persons/<person_id>/time-spents", h_person_time_spents},
    {M_GET, D "/user/context", h_user_context},
    {M_GET, D "/edits/<edit_id>/versions", h_edit_versions},
};
#undef D

const ext_table zou__task_routes = {routes, sizeof routes / sizeof routes[0]};
