/*
 * build.c: building a pipeline from a Configuration's handler list (Dapr
 * pkg/runtime: buildHTTPPipelineForSpec; docs operations/components/
 * middleware), reloading it (SIGHUP) and watching file:// guests for changes.
 */
#include <stdlib.h>
#include <string.h>

#include "pipeline/pipeline.h"
#include "util/err.h"
#include "util/log.h"

int wgg_pipeline_build(wgg_pipeline *pl, const char *what, const wgg_pipeline_spec *specs, size_t n,
                       const wgg_component_list *comps, bool force_strict, wgg_err *err) {
  for (size_t i = 0; i < n; i++) {
    const char *name = specs[i].name ? specs[i].name : "", *type = specs[i].type ? specs[i].type : "";
    const wgg_component *c = NULL;
    for (size_t k = 0; k < comps->n && !c; k++)
      if (!comps->items[k].endpoint && !strcmp(comps->items[k].name, name) && !strcmp(comps->items[k].type, type))
        c = &comps->items[k];
    if (!c) {
      wgg_pipeline_free(pl);
      return wgg_err_set(err, "%s: couldn't find middleware component with name %s and type %s/v1", what, name, type);
    }
    if (strcmp(type, "middleware.http.wasm")) {
      wgg_pipeline_free(pl);
      return wgg_err_set(err, "%s: %s:%d: middleware %s: type %s is not supported (only middleware.http.wasm)", what,
                         c->file, c->line, name, type);
    }
    wgg_err e;
    wgg_wasm_mw *mw = wgg_wasm_mw_new(c, force_strict, &e);
    if (!mw) {
      wgg_pipeline_free(pl);
      return wgg_err_set(err, "%s:%d: component %s (%s/%s): init error: %s", c->file, c->line, c->name, c->type,
                         *c->version ? c->version : "v1", e.msg);
    }
    if (wgg_pipeline_add(pl, mw)) {
      wgg_pipeline_free(pl);
      return wgg_err_set(err, "out of memory");
    }
    wgg_info("%s: middleware %s (%s) loaded%s", what, name, type, force_strict ? " (strict sandbox)" : "");
  }
  return 0;
}

size_t wgg_pipeline_reload(wgg_pipeline *pl) {
  size_t failed = 0;
  for (size_t i = 0; i < pl->n; i++) {
    wgg_err e;
    if (wgg_wasm_mw_reload(pl->mws[i], &e)) {
      failed++;
      wgg_error("wasm: middleware %s: reload failed, keeping the current guest: %s", wgg_wasm_mw_name(pl->mws[i]),
                e.msg);
    } else {
      wgg_info("wasm: middleware %s: guest reloaded", wgg_wasm_mw_name(pl->mws[i]));
    }
  }
  return failed;
}

/* ---- watching file:// guests ---- */

typedef struct watcher {
  uv_fs_poll_t poll;
  wgg_wasm_mw *mw;
  struct wgg_pipeline_watch *pw;
} watcher;

struct wgg_pipeline_watch {
  watcher *w;
  size_t n;
  size_t open; /* handles not closed yet */
};

static void on_change(uv_fs_poll_t *h, int status, const uv_stat_t *prev, const uv_stat_t *curr) {
  watcher *w = h->data;
  if (status < 0) return; /* missing for now: keep the current guest */
  if (prev->st_mtim.tv_sec == curr->st_mtim.tv_sec && prev->st_mtim.tv_nsec == curr->st_mtim.tv_nsec &&
      prev->st_size == curr->st_size)
    return;
  wgg_err e;
  if (wgg_wasm_mw_reload(w->mw, &e))
    wgg_error("wasm: middleware %s: %s changed but cannot be loaded, keeping the current guest: %s",
              wgg_wasm_mw_name(w->mw), wgg_wasm_mw_file(w->mw), e.msg);
  else
    wgg_info("wasm: middleware %s: %s changed; guest reloaded", wgg_wasm_mw_name(w->mw), wgg_wasm_mw_file(w->mw));
}

int wgg_pipeline_watch(wgg_pipeline *pl, uv_loop_t *loop, unsigned interval_ms) {
  if (!pl->n || pl->watch) return 0;
  struct wgg_pipeline_watch *pw = calloc(1, sizeof *pw);
  if (!pw || !(pw->w = calloc(pl->n, sizeof *pw->w))) {
    free(pw);
    return -1;
  }
  for (size_t i = 0; i < pl->n; i++) {
    const char *file = wgg_wasm_mw_file(pl->mws[i]);
    if (!file) continue;
    watcher *w = &pw->w[pw->n++];
    w->mw = pl->mws[i];
    w->pw = pw;
    uv_fs_poll_init(loop, &w->poll);
    w->poll.data = w;
    uv_fs_poll_start(&w->poll, on_change, file, interval_ms);
    pw->open++;
  }
  pl->watch = pw;
  return 0;
}

static void free_watch(struct wgg_pipeline_watch *pw) {
  free(pw->w);
  free(pw);
}

static void watcher_closed(uv_handle_t *h) {
  struct wgg_pipeline_watch *pw = ((watcher *)h->data)->pw;
  if (!--pw->open) free_watch(pw);
}

void wgg_pipeline_unwatch(wgg_pipeline *pl) {
  struct wgg_pipeline_watch *pw = pl->watch;
  if (!pw) return;
  pl->watch = NULL;
  if (!pw->n) {
    free_watch(pw);
    return;
  }
  for (size_t i = 0; i < pw->n; i++) uv_close((uv_handle_t *)&pw->w[i].poll, watcher_closed);
}
