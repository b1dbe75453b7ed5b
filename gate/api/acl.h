/*
 * acl.h: access control for service invocation from other apps (the
 * Configuration's spec.accessControl; docs operations/configuration/
 * invoke-allowlist.md; dapr pkg/acl). Applied by the called sidecar to hops
 * from other sidecars, never to an app calling itself.
 *
 * Identity: Dapr takes the caller's app ID, namespace and trust domain from
 * its mTLS certificate (a SPIFFE ID). wasmgate has no mTLS between sidecars:
 * the caller's sidecar sends dapr-caller-app-id, dapr-caller-namespace
 * ($NAMESPACE, "default") and dapr-caller-trust-domain (its own
 * accessControl.trustDomain, "public"). These count as verified only when
 * this sidecar requires an API token (DAPR_API_TOKEN), which every request,
 * hops included, must carry; otherwise the caller is unverified and, as
 * Dapr's rule 4 says, the global defaultAction decides.
 *
 * Rules (Dapr's): no accessControl, or one with neither defaultAction nor
 * policies: allow everything. No global defaultAction but policies: deny by
 * default. A policy applies when appId, trustDomain (default "public") and
 * namespace (when set) match; then the first operation whose name matches
 * the method (without query; `*` is one path segment, `**` any rest) and
 * whose httpVerb lists the verb (or `*`) decides with its action (default
 * allow); else the policy's defaultAction; no policy: the global one.
 */
#ifndef WGG_API_ACL_H
#define WGG_API_ACL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "wggate.h"

typedef struct wgg_acl wgg_acl;

/* Builds the ACL from spec.accessControl (borrowed; NULL: none). Returns 0
 * and *out (NULL when everything is allowed), or -1 with err: an action that
 * is not allow/deny, a policy without appId, operations that are not a list
 * of {name, httpVerb, action}. */
int wgg_acl_new(json_t *access_control, wgg_acl **out, wgg_err *err);

void wgg_acl_free(wgg_acl *acl);

/* This sidecar's trust domain (accessControl.trustDomain, "public"). acl may be NULL. */
const char *wgg_acl_trust_domain(const wgg_acl *acl);

/* Whether caller (NULL when unverified) in namespace ns and trust domain td
 * may call method (normalised by wgg_api_invoke_n: what the app receives) with verb. On deny,
 * why gets Dapr's message ("access control policy has denied access to id:
 * spiffe://td/ns/ns/app operation: op verb: GET"). acl NULL: allowed. */
bool wgg_acl_allowed(const wgg_acl *acl, const char *caller, const char *ns, const char *td, const char *method,
                     const char *verb, char *why, size_t why_len);

#endif
