/*
 * cmd_run.c: `wasmgate run`, the sidecar. Parses daprd's flags (names and
 * defaults of dapr cmd/daprd/options/options.go) into wgg_options and starts
 * the sidecar core in gate/. DAPR_API_TOKEN and APP_API_TOKEN come from the
 * environment.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "wggate.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: wasmgate run [flags]\n"
          "\n"
          "Runs the sidecar: Dapr's HTTP API v1.0 with components from Dapr-format YAML.\n"
          "With no --resources-path, embedded defaults serve: a `statestore` of type state.sqlite\n"
          "in ./wasmgate-state.db.\n"
          "\n"
          "daprd flags:\n"
          "  --app-id ID                         app ID; prefixes state keys (default \"\")\n"
          "  --app-port PORT                     port the app listens on (default none)\n"
          "  --app-protocol P                    http|https|grpc|grpcs|h2c (default http)\n"
          "  --app-channel-address HOST          app host (default 127.0.0.1)\n"
          "  --dapr-http-port PORT               HTTP API port (default 3500)\n"
          "  --dapr-grpc-port PORT               gRPC API port (default 50001; 0: no gRPC API)\n"
          "  --dapr-listen-addresses A[,B]       bind addresses (default all: 0.0.0.0)\n"
          "  --resources-path DIR[,DIR]          folders of resource YAML (repeatable;\n"
          "                                      --components-path is an alias)\n"
          "  --config FILE[,FILE]                Configuration YAML (repeatable; later files override)\n"
          "  --log-level L                       debug|info|warn|error (default info)\n"
          "  --log-as-json                       JSON log lines\n"
          "  --metrics-port PORT                 Prometheus port (default 9090)\n"
          "  --metrics-listen-address A          metrics bind address (default: the API's addresses)\n"
          "  --enable-metrics BOOL               (default true)\n"
          "  --enable-api-logging                log every API call (info level)\n"
          "  --max-body-size Q                   API request body limit (default 4Mi)\n"
          "  --read-buffer-size Q                request line + headers limit (default 4Ki)\n"
          "  --app-max-concurrency N             in-flight calls to the app; more wait (default -1: unlimited)\n"
          "  --enable-app-health-check           probe the app with GET on --app-health-check-path\n"
          "  --app-health-check-path P           (default /healthz)\n"
          "  --app-health-probe-interval SEC     (default 5)\n"
          "  --app-health-probe-timeout MS       (default 500)\n"
          "  --app-health-threshold N            failures in a row that make the app unhealthy (default 3)\n"
          "  --dapr-graceful-shutdown-seconds N  drain time on SIGTERM (default 5)\n"
          "  --mode M                            standalone (kubernetes is not supported)\n"
          "  --version                           print the runtime version and exit\n"
          "  --dapr-internal-grpc-port PORT      accepted and ignored, as are the\n"
          "                                      control-plane, actor, scheduler and mTLS flags\n"
          "  --app-ssl, --unix-domain-socket     refused: not supported\n"
          "\n"
          "wasmgate flags:\n"
          "  --app-wasm [ID=]URL                 the app is a wasm module hosted in-process: file://PATH,\n"
          "                                      http(s)://...; http-wasm or WAGI ABI (docs/wasm-apps.md).\n"
          "                                      Repeatable: ID= names another app ID hosted in this process\n"
          "                                      (also kind: WasmApp resources); without it, --app-id's app\n"
          "  --app-wasm-instances fresh|pooled    a new instance per request (default), or warm\n"
          "                                      http-wasm instances reused\n"
          "  --app-wasm-config-store NAME        the configuration store a component app's wasi:config\n"
          "                                      reads (default: its only one)\n"
          "  --app-wasm-allowed-outbound-hosts L  hosts a wasi:http component may call through\n"
          "                                      outgoing-handler: SCHEME://HOST[:PORT],... (`*` wildcards);\n"
          "                                      http://<app-id>.dapr/... (service invocation) needs none\n"
          "  --threads N                         event-loop threads (default: half the cores, at least 1)\n"
          "  --state-file PATH                   file of the embedded default state store\n"
          "  --http-header-timeout D             first byte to end of headers (default 10s)\n"
          "  --http-read-timeout D               first byte to end of body (default 60s)\n"
          "  --http-idle-timeout D               keep-alive idle time (default 60s)\n"
          "\n"
          "environment: DAPR_API_TOKEN (required on every API call but healthz), APP_API_TOKEN.\n");
}

static int bad(const char *flag, const char *val, const char *why) {
  fprintf(stderr, "wasmgate run: invalid value '%s' for %s%s%s\n", val ? val : "", flag, why ? ": " : "", why ? why : "");
  return 2;
}

static int parse_int(const char *s, int lo, int hi, int *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (!*s || *end || v < lo || v > hi) return -1;
  *out = (int)v;
  return 0;
}

static int parse_bool(const char *s, bool *out) {
  if (!strcasecmp(s, "true") || !strcmp(s, "1")) *out = true;
  else if (!strcasecmp(s, "false") || !strcmp(s, "0")) *out = false;
  else return -1;
  return 0;
}

int wg_cmd_run(int argc, char **argv) {
  wgg_options o;
  wgg_options_init(&o);
  /* --resources-path and --config are string slices in daprd: repeatable and comma-separated */
  size_t cap = 1;
  for (int i = 0; i < argc; i++)
    for (const char *p = argv[i]; *p; p++) cap += *p == ',';
  cap += (size_t)argc;
  const char **res = calloc(cap, sizeof *res), **cfgs = calloc(cap, sizeof *cfgs);
  const char **wasms = calloc(cap, sizeof *wasms); /* every --app-wasm value, sorted out once --app-id is known */
  size_t n_wasms = 0;
  char **pieces = calloc(cap, sizeof *pieces);
  size_t n_pieces = 0;
  if (!res || !cfgs || !pieces || !wasms) {
    free(wasms);
    free(res);
    free(cfgs);
    free(pieces);
    fprintf(stderr, "wasmgate run: out of memory\n");
    return 1;
  }
  o.resources_paths = res;
  o.config_paths = cfgs;
  int rc = 0;
  for (int i = 1; i < argc && rc == 0; i++) {
    char *arg = argv[i];
    if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
      usage(stdout);
      goto out;
    }
    if (strncmp(arg, "--", 2) && !(arg[0] == '-' && arg[1] && arg[1] != '-')) {
      fprintf(stderr, "wasmgate run: unexpected argument '%s' (see --help)\n", arg);
      rc = 2;
      break;
    }
    /* daprd (Go flag package) accepts -flag and --flag, with "=value" or a separate value */
    char name[64];
    const char *nm = arg + (arg[1] == '-' ? 2 : 1);
    const char *eq = strchr(nm, '=');
    size_t nl = eq ? (size_t)(eq - nm) : strlen(nm);
    if (nl >= sizeof name) nl = sizeof name - 1;
    memcpy(name, nm, nl);
    name[nl] = '\0';
    static const char *const bool_flags[] = {"log-as-json", "enable-app-health-check", "enable-metrics",
                                             "enable-profiling", "enable-mtls", "enable-api-logging", "app-ssl",
                                             "version", "build-info", "disable-builtin-k8s-secret-store"};
    bool is_bool = false;
    for (size_t k = 0; k < sizeof bool_flags / sizeof bool_flags[0]; k++) is_bool |= !strcmp(name, bool_flags[k]);
    static const char *const value_flags[] = {
        "app-id", "app-port", "app-wasm", "app-wasm-instances", "app-wasm-config-store",
        "app-wasm-allowed-outbound-hosts", "app-protocol", "app-channel-address", "dapr-http-port", "dapr-listen-addresses",
        "resources-path", "components-path", "config", "log-level", "metrics-port", "max-body-size",
        "dapr-http-max-request-size", "read-buffer-size", "dapr-http-read-buffer-size", "app-max-concurrency",
        "app-health-check-path", "app-health-probe-interval", "app-health-probe-timeout", "app-health-threshold",
        "dapr-graceful-shutdown-seconds", "mode", "dapr-grpc-port", "dapr-internal-grpc-port", "profile-port",
        "placement-host-address", "control-plane-address", "sentry-address", "dapr-public-port", "threads",
        "state-file", "http-header-timeout", "http-read-timeout", "http-idle-timeout", "metrics-listen-address",
        "unix-domain-socket", "dapr-public-listen-address", "dapr-internal-grpc-listen-address",
        "control-plane-trust-domain", "control-plane-namespace", "sentry-request-jwt-audiences", "allowed-origins",
        "scheduler-host-address", "scheduler-job-streams", "actors-service", "reminders-service",
        "dapr-block-shutdown-duration"};
    bool known = is_bool;
    for (size_t k = 0; k < sizeof value_flags / sizeof value_flags[0]; k++) known |= !strcmp(name, value_flags[k]);
    if (!known) {
      fprintf(stderr, "wasmgate run: unknown flag --%s (see --help)\n", name);
      rc = 2;
      break;
    }
    const char *val = eq ? eq + 1 : NULL;
    if (!val && !is_bool) {
      if (i + 1 >= argc) {
        fprintf(stderr, "wasmgate run: flag --%s needs a value\n", name);
        rc = 2;
        break;
      }
      val = argv[++i];
    }
    wgg_err e;
    int iv;
    bool bv = true;
    if (is_bool && val && parse_bool(val, &bv)) rc = bad(arg, val, "expected true or false");
    else if (!strcmp(name, "app-id")) o.app_id = val;
    else if (!strcmp(name, "app-wasm")) wasms[n_wasms++] = val;
    else if (!strcmp(name, "app-wasm-config-store")) {
      if (!*val) rc = bad("--app-wasm-config-store", val, "must not be empty");
      o.app_wasm_config_store = val;
    }
    else if (!strcmp(name, "app-wasm-allowed-outbound-hosts")) o.app_wasm_allowed_outbound_hosts = val;
    else if (!strcmp(name, "app-wasm-instances")) {
      if (strcmp(val, "fresh") && strcmp(val, "pooled")) rc = bad("--app-wasm-instances", val, "expected fresh or pooled");
      o.app_wasm_pooled = !strcmp(val, "pooled");
    }
    else if (!strcmp(name, "app-port")) {
      if (*val && parse_int(val, 0, 65535, &o.app_port)) rc = bad("--app-port", val, NULL);
    } else if (!strcmp(name, "app-protocol")) {
      if (strcmp(val, "http") && strcmp(val, "https") && strcmp(val, "grpc") && strcmp(val, "grpcs") && strcmp(val, "h2c"))
        rc = bad("--app-protocol", val, "expected http, https, grpc, grpcs or h2c");
      o.app_protocol = val;
    } else if (!strcmp(name, "app-channel-address")) o.app_channel_address = val;
    else if (!strcmp(name, "dapr-http-port")) {
      if (parse_int(val, 1, 65535, &o.http_port)) rc = bad("--dapr-http-port", val, NULL);
    } else if (!strcmp(name, "dapr-grpc-port")) {
      if (parse_int(val, 0, 65535, &o.grpc_port)) rc = bad("--dapr-grpc-port", val, NULL);
    } else if (!strcmp(name, "dapr-listen-addresses")) o.listen_addresses = val;
    else if (!strcmp(name, "resources-path") || !strcmp(name, "components-path") || !strcmp(name, "config")) {
      bool is_res = strcmp(name, "config") != 0;
      char *copy = strdup(val);
      if (!copy) {
        fprintf(stderr, "wasmgate run: out of memory\n");
        rc = 1;
        break;
      }
      pieces[n_pieces++] = copy;
      for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (is_res) res[o.n_resources_paths++] = t;
        else cfgs[o.n_config_paths++] = t;
      }
    } else if (!strcmp(name, "version") || !strcmp(name, "build-info")) {
      if (bv) {
        printf("%s\n", WGG_RUNTIME_VERSION);
        goto out;
      }
    } else if (!strcmp(name, "enable-api-logging")) o.enable_api_logging = bv;
    else if (!strcmp(name, "metrics-listen-address")) o.metrics_listen_address = val;
    else if (!strcmp(name, "app-ssl")) {
      if (bv) rc = bad(arg, "true", "https toward the app is not supported yet (--app-protocol http)");
    } else if (!strcmp(name, "unix-domain-socket")) {
      if (*val) rc = bad(arg, val, "Unix domain sockets are not supported; use --dapr-http-port");
    }
    else if (!strcmp(name, "log-level")) {
      if ((o.log_level = wgg_parse_log_level(val)) < 0) rc = bad("--log-level", val, "expected debug, info, warn or error");
    } else if (!strcmp(name, "log-as-json")) o.log_as_json = bv;
    else if (!strcmp(name, "enable-metrics")) o.enable_metrics = bv;
    else if (!strcmp(name, "metrics-port")) {
      if (parse_int(val, 0, 65535, &o.metrics_port)) rc = bad("--metrics-port", val, NULL);
    } else if (!strcmp(name, "max-body-size") || !strcmp(name, "dapr-http-max-request-size")) {
      if (!strcmp(name, "dapr-http-max-request-size")) { /* deprecated: a number of MB */
        if (parse_int(val, 1, 1 << 20, &iv)) rc = bad(arg, val, NULL);
        else o.max_body_size = (size_t)iv << 20;
      } else if (wgg_parse_quantity(val, &o.max_body_size, &e)) rc = bad("--max-body-size", val, e.msg);
    } else if (!strcmp(name, "read-buffer-size") || !strcmp(name, "dapr-http-read-buffer-size")) {
      if (!strcmp(name, "dapr-http-read-buffer-size")) { /* deprecated: a number of KB */
        if (parse_int(val, 1, 1 << 20, &iv)) rc = bad(arg, val, NULL);
        else o.read_buffer_size = (size_t)iv << 10;
      } else if (wgg_parse_quantity(val, &o.read_buffer_size, &e)) rc = bad("--read-buffer-size", val, e.msg);
    } else if (!strcmp(name, "app-max-concurrency")) {
      if (parse_int(val, -1, 1 << 30, &o.app_max_concurrency)) rc = bad(arg, val, NULL);
    } else if (!strcmp(name, "enable-app-health-check")) o.enable_app_health_check = bv;
    else if (!strcmp(name, "app-health-check-path")) o.app_health_check_path = val;
    else if (!strcmp(name, "app-health-probe-interval")) {
      if (parse_int(val, 1, 1 << 20, &iv)) rc = bad(arg, val, "seconds");
      else o.app_health_probe_interval_ms = (uint64_t)iv * 1000;
    } else if (!strcmp(name, "app-health-probe-timeout")) {
      if (parse_int(val, 1, 1 << 30, &iv)) rc = bad(arg, val, "milliseconds");
      else o.app_health_probe_timeout_ms = (uint64_t)iv;
    } else if (!strcmp(name, "app-health-threshold")) {
      if (parse_int(val, 1, 1 << 20, &o.app_health_threshold)) rc = bad(arg, val, NULL);
    } else if (!strcmp(name, "dapr-graceful-shutdown-seconds")) {
      if (parse_int(val, 0, 3600, &iv)) rc = bad(arg, val, "seconds");
      else o.graceful_shutdown_ms = (uint64_t)iv * 1000;
    } else if (!strcmp(name, "mode")) {
      if (strcmp(val, "standalone")) rc = bad("--mode", val, "only standalone is supported");
    } else if (!strcmp(name, "dapr-internal-grpc-port") ||
               !strcmp(name, "profile-port") || !strcmp(name, "enable-profiling") || !strcmp(name, "enable-mtls") ||
               !strcmp(name, "placement-host-address") || !strcmp(name, "control-plane-address") ||
               !strcmp(name, "sentry-address") || !strcmp(name, "dapr-public-port") ||
               !strcmp(name, "dapr-public-listen-address") || !strcmp(name, "dapr-internal-grpc-listen-address") ||
               !strcmp(name, "control-plane-trust-domain") || !strcmp(name, "control-plane-namespace") ||
               !strcmp(name, "sentry-request-jwt-audiences") || !strcmp(name, "allowed-origins") ||
               !strcmp(name, "scheduler-host-address") || !strcmp(name, "scheduler-job-streams") ||
               !strcmp(name, "actors-service") || !strcmp(name, "reminders-service") ||
               !strcmp(name, "disable-builtin-k8s-secret-store") || !strcmp(name, "dapr-block-shutdown-duration")) {
      /* daprd flags for parts wasmgate does not have: accepted so existing command lines work */
    } else if (!strcmp(name, "threads")) {
      if (parse_int(val, 1, 1024, &o.threads)) rc = bad(arg, val, NULL);
    } else if (!strcmp(name, "state-file")) o.state_file = val;
    else if (!strcmp(name, "http-header-timeout")) {
      if (wgg_parse_duration_ms(val, &o.header_timeout_ms, &e)) rc = bad(arg, val, e.msg);
    } else if (!strcmp(name, "http-read-timeout")) {
      if (wgg_parse_duration_ms(val, &o.read_timeout_ms, &e)) rc = bad(arg, val, e.msg);
    } else if (!strcmp(name, "http-idle-timeout")) {
      if (wgg_parse_duration_ms(val, &o.idle_timeout_ms, &e)) rc = bad(arg, val, e.msg);
    } else {
      fprintf(stderr, "wasmgate run: unknown flag --%s (see --help)\n", name);
      rc = 2;
    }
  }
  /* --app-wasm [ID=]URL: an ID other than --app-id is one more hosted app; no ID (or --app-id's) is the
   * sidecar's own app, given at most once */
  o.app_wasm_hosted = wasms;
  for (size_t i = 0; rc == 0 && i < n_wasms; i++) {
    const char *v = wasms[i];
    size_t idl = strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");
    bool has_id = idl > 0 && v[idl] == '=';
    if (has_id && !(idl == strlen(o.app_id) && !strncmp(v, o.app_id, idl))) {
      wasms[o.n_app_wasm_hosted++] = v;
      continue;
    }
    if (o.app_wasm) rc = bad("--app-wasm", v, "the app of --app-id is given twice (name other apps ID=URL)");
    o.app_wasm = has_id ? v + idl + 1 : v;
  }
  if (rc == 0) {
    o.api_token = getenv("DAPR_API_TOKEN");
    o.app_api_token = getenv("APP_API_TOKEN");
    wgg_err err = {{0}};
    if (wgg_run(&o, &err)) {
      fprintf(stderr, "wasmgate run: %s\n", err.msg);
      rc = 1;
    }
  }
out:
  for (size_t i = 0; i < n_pieces; i++) free(pieces[i]);
  free(pieces);
  free(res);
  free(cfgs);
  free(wasms);
  return rc;
}
