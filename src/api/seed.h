/*
 * An app's initial rows: DIR/seed.json, loaded once per database, all in
 * one transaction, the first time the app is served (docs/app-format.md,
 * "Seed rows"). The file is a JSON object whose keys are model names, in
 * the order their rows are written, each holding a list of rows written as
 * a POST body would be (validated the same way, defaults applied).
 */
#ifndef RESTD_SEED_H
#define RESTD_SEED_H

#include "app/app.h"
#include "store/store.h"

/* Read and check DIR/seed.json into a write job in arena a (*job = NULL
 * when the app has no seed file). On a problem returns false and sets
 * *msg to a heap string (caller frees) naming the model, row and field. */
bool seed_load(const app *ap, const char *dir, arena *a, store_write **job, char **msg);

/* Load the seed (if any) and write it unless this database has it already.
 * False with *msg (heap) when the file is bad or the rows cannot be written. */
bool seed_apply(const app *ap, const char *dir, store *s, char **msg);

#endif
