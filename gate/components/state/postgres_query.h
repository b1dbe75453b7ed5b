/*
 * postgres_query.h: the SQL of state.postgresql's query API (postgres_query.c).
 */
#ifndef WGG_STATE_POSTGRES_QUERY_H
#define WGG_STATE_POSTGRES_QUERY_H

#include "components/state/query.h"
#include "util/buf.h"

/* The parameterised SELECT for q over table (a validated identifier), as
 * components-contrib's PostgreSQL v1 query builds it
 * (common/component/postgresql/v1/postgresql_query.go): each filter compares
 * the text of the value at the key path with the filter value formatted as
 * Go's %v formats it (1036 -> "1036", 1e6 -> "1e+06", true -> "true"), so
 * comparisons are text comparisons; GT/GTE/LT/LTE refuse a string value;
 * ORDER BY the text at the sort paths; LIMIT/OFFSET from the page. Unlike
 * contrib, key path segments are bound parameters too
 * (jsonb_extract_path_text), expired rows are left out and the key breaks
 * ties so pages are stable. Fills sql (NUL-terminated) and params (*n
 * malloc'd strings in a malloc'd array). Returns 0, or -1 with err (a query
 * the store refuses, e.g. "unsupported type of value x; string type not
 * permitted", or OOM); on -1 nothing is left allocated. */
int wgg_pg_query_sql(const char *table, const wgg_query *q, wgg_buf *sql, char ***params, int *n, wgg_err *err);

/* Formats a JSON scalar as Go's fmt %v formats the value encoding/json
 * decoded it into (float64, string, bool, nil as "<nil>"; arrays and objects
 * as Go prints []interface{} and map[string]interface{}). malloc'd; NULL on OOM. */
char *wgg_go_sprint(json_t *v);

#endif
