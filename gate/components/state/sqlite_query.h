/*
 * sqlite_query.h: the query API of state.sqlite (sqlite_query.c).
 */
#ifndef WGG_STATE_SQLITE_QUERY_H
#define WGG_STATE_SQLITE_QUERY_H

#include "components/state/query.h"

struct sqlite3;

/* Runs q over the live rows of table (a validated identifier) of db,
 * translated into one parameterised SELECT: every key path and value is a
 * bound parameter, never SQL text. Filters compare json_extract() of the
 * stored value with the filter value by SQL's typed comparison (numbers as
 * numbers, strings as text, true/false as 1/0; a row whose value lacks the
 * path matches no comparison); sort keys order by the same extraction, then
 * by key so pages are stable. The caller holds the connection's lock.
 * Returns WGG_ST_OK, WGG_ST_BAD_REQUEST (a key path SQLite cannot express:
 * err says why) or WGG_ST_ERROR (err from SQLite). */
int wgg_sqlite_query(struct sqlite3 *db, const char *table, const wgg_query *q, wgg_qresult *out, wgg_err *err);

#endif
