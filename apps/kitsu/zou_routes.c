/*
 * The route set `zou` (apps/kitsu, `routes: zou`): Zou's routes outside
 * the generic CRUD, gathered from the files that serve them. The routes and
 * their shapes are listed in apps/kitsu/README.md.
 */
#include "api/ext.h"
#include "zou_int.h"

static const ext_table *const tables[] = {&zou__entity_routes, &zou__task_routes, &zou__create_routes};

const ext_set ext_zou = {"zou", tables, sizeof tables / sizeof tables[0]};
