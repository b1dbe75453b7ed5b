/*
 * uuid.h: random (version 4) UUIDs, used for ETags and the {uuid} template.
 */
#ifndef WGG_UTIL_UUID_H
#define WGG_UTIL_UUID_H

#include <stdbool.h>

/* Writes a new random UUID ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", 36 chars
 * plus NUL) into out. Uses getrandom(2). Thread-safe. */
void wgg_uuid_new(char out[37]);

/* True when s is a syntactically valid UUID (8-4-4-4-12 hex digits). */
bool wgg_uuid_valid(const char *s);

#endif
