/*
 * scopes.c: see scopes.h.
 */
#include "pubsub/scopes.h"

#include <stdlib.h>
#include <string.h>

/* True when the comma-separated list (spaces ignored) contains topic. */
static bool in_list(const char *list, size_t n, const char *topic) {
  size_t tl = strlen(topic);
  const char *p = list, *end = list + n;
  while (p <= end) {
    const char *comma = memchr(p, ',', (size_t)(end - p));
    const char *e = comma ? comma : end;
    const char *s = p;
    while (s < e && *s == ' ') s++;
    const char *t = e;
    while (t > s && t[-1] == ' ') t--;
    if ((size_t)(t - s) == tl && !memcmp(s, topic, tl)) return true;
    if (!comma) break;
    p = comma + 1;
  }
  return false;
}

/* The app's entry in a scopes value ("app=t1,t2;..."): *found tells whether
 * the app is listed; returns whether topic is in its list. */
static bool scoped(const char *val, const char *app_id, const char *topic, bool *found) {
  *found = false;
  bool allowed = false;
  size_t al = strlen(app_id);
  for (const char *p = val; p && *p;) {
    const char *semi = strchr(p, ';');
    size_t len = semi ? (size_t)(semi - p) : strlen(p);
    const char *eq = memchr(p, '=', len);
    const char *k = p;
    size_t kl = eq ? (size_t)(eq - p) : len;
    while (kl && *k == ' ') k++, kl--;
    while (kl && k[kl - 1] == ' ') kl--;
    if (kl == al && !memcmp(k, app_id, al)) {
      *found = true;
      if (eq && in_list(eq + 1, (size_t)(p + len - (eq + 1)), topic)) allowed = true;
    }
    p = semi ? semi + 1 : NULL;
  }
  return allowed;
}

bool wgg_pubsub_topic_allowed(const wgg_component *c, const char *app_id, const char *topic, bool publish) {
  const char *scopes = wgg_component_meta(c, publish ? "publishingScopes" : "subscriptionScopes");
  bool has_scope = false, in_scope = false;
  if (scopes && *scopes) in_scope = scoped(scopes, app_id ? app_id : "", topic, &has_scope);
  const char *allowed = wgg_component_meta(c, "allowedTopics");
  if (allowed && *allowed && !in_list(allowed, strlen(allowed), topic) && !has_scope) return false;
  const char *prot = wgg_component_meta(c, "protectedTopics");
  if (prot && *prot && in_list(prot, strlen(prot), topic) && !has_scope) return false;
  return !has_scope || in_scope;
}
