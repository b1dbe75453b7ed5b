/*
 * dapr_jobs.c: ScheduleJobAlpha1, GetJobAlpha1 and DeleteJobAlpha1 (dapr
 * pkg/api/universal/jobs.go) through wgg_job_call, the code path of
 * /v1.0-alpha1/jobs/{name}. A job's data is a google.protobuf.Any; as over
 * HTTP, wasmgate keeps values of type google.protobuf.Value (what the HTTP
 * API and the SDKs' JSON helpers store), delivered to the app as their JSON;
 * data of another type is refused (INVALID_ARGUMENT, docs/grpc.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc/dapr_internal.h"
#include "grpc/pbjson.h"

typedef Dapr__Proto__Runtime__V1__Job Job;

static const char value_url[] = "type.googleapis.com/google.protobuf.Value";

static void done_schedule(void *user, const wgg_api_status *st, json_t *got) {
  (void)got;
  if (st) {
    wgg_grpc_fail_status(user, st);
    return;
  }
  Dapr__Proto__Runtime__V1__ScheduleJobResponse r = DAPR__PROTO__RUNTIME__V1__SCHEDULE_JOB_RESPONSE__INIT;
  wgg_grpc_reply(user, &r.base);
}

static void done_delete(void *user, const wgg_api_status *st, json_t *got) {
  (void)got;
  if (st) {
    wgg_grpc_fail_status(user, st);
    return;
  }
  Dapr__Proto__Runtime__V1__DeleteJobResponse r = DAPR__PROTO__RUNTIME__V1__DELETE_JOB_RESPONSE__INIT;
  wgg_grpc_reply(user, &r.base);
}

static const char *jstr(json_t *o, const char *k) {
  json_t *v = json_object_get(o, k);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

static void done_get(void *user, const wgg_api_status *st, json_t *got) {
  wgg_grpc_call *call = user;
  if (st) {
    wgg_grpc_fail_status(call, st);
    return;
  }
  Job job = DAPR__PROTO__RUNTIME__V1__JOB__INIT;
  Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
  job.name = (char *)(jstr(got, "name") ? jstr(got, "name") : "");
  if (jstr(got, "schedule")) {
    job._schedule_case = DAPR__PROTO__RUNTIME__V1__JOB___SCHEDULE_SCHEDULE;
    job.schedule = (char *)jstr(got, "schedule");
  }
  if (jstr(got, "dueTime")) {
    job._due_time_case = DAPR__PROTO__RUNTIME__V1__JOB___DUE_TIME_DUE_TIME;
    job.due_time = (char *)jstr(got, "dueTime");
  }
  if (jstr(got, "ttl")) {
    job._ttl_case = DAPR__PROTO__RUNTIME__V1__JOB___TTL_TTL;
    job.ttl = (char *)jstr(got, "ttl");
  }
  json_t *rep = json_object_get(got, "repeats");
  if (json_is_integer(rep)) {
    job._repeats_case = DAPR__PROTO__RUNTIME__V1__JOB___REPEATS_REPEATS;
    job.repeats = (uint32_t)json_integer_value(rep);
  }
  wgg_pb_arena a = {0};
  uint8_t *packed = NULL;
  json_t *data = json_object_get(got, "data");
  json_t *value = data ? json_object_get(data, "value") : NULL;
  if (value) {
    Google__Protobuf__Value *v = wgg_pb_value_from_json(&a, value);
    size_t len = v ? protobuf_c_message_get_packed_size(&v->base) : 0;
    if (!v || a.oom || !(packed = malloc(len ? len : 1))) {
      wgg_pb_afree(&a);
      wgg_grpc_fail(call, WGG_GRPC_INTERNAL, "out of memory");
      return;
    }
    any.type_url = (char *)value_url;
    any.value.len = protobuf_c_message_pack(&v->base, packed);
    any.value.data = packed;
    job.data = &any;
  }
  Dapr__Proto__Runtime__V1__GetJobResponse r = DAPR__PROTO__RUNTIME__V1__GET_JOB_RESPONSE__INIT;
  r.job = &job;
  wgg_grpc_reply(call, &r.base);
  free(packed);
  wgg_pb_afree(&a);
}

void wgg_grpc_schedule_job(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m) {
  Dapr__Proto__Runtime__V1__ScheduleJobRequest *q = (void *)m;
  Job *job = q->job;
  wgg_api_status st;
  char *data = NULL;
  if (!job) { /* daprd: apierrors.Empty("Job", ...) */
    wgg_api_fail(&st, 400, WGG_GRPC_INVALID_ARGUMENT, "DAPR_SCHEDULER_EMPTY", "Job is empty");
    goto fail;
  }
  if (job->data && (job->data->value.len || (job->data->type_url && *job->data->type_url))) {
    if (!job->data->type_url || strcmp(job->data->type_url, value_url)) {
      wgg_api_fail(&st, 400, WGG_GRPC_INVALID_ARGUMENT, "DAPR_SCHEDULER_SCHEDULE_JOB",
                   "failed to schedule job due to: wasmgate keeps job data of type %s only, not %.200s", value_url,
                   job->data->type_url ? job->data->type_url : "");
      goto fail;
    }
    Google__Protobuf__Value *v = google__protobuf__value__unpack(NULL, job->data->value.len, job->data->value.data);
    json_t *j = v ? wgg_pb_value_to_json(v) : NULL;
    if (v) google__protobuf__value__free_unpacked(v, NULL);
    data = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    if (!data) {
      wgg_api_fail(&st, 400, WGG_GRPC_INVALID_ARGUMENT, "DAPR_SCHEDULER_SCHEDULE_JOB",
                   "failed to schedule job due to: the data is not a valid google.protobuf.Value");
      goto fail;
    }
  }
  wgg_job_input in = {
      .name = job->name,
      .schedule = job->_schedule_case == DAPR__PROTO__RUNTIME__V1__JOB___SCHEDULE_SCHEDULE ? job->schedule : NULL,
      .due_time = job->_due_time_case == DAPR__PROTO__RUNTIME__V1__JOB___DUE_TIME_DUE_TIME ? job->due_time : NULL,
      .ttl = job->_ttl_case == DAPR__PROTO__RUNTIME__V1__JOB___TTL_TTL ? job->ttl : NULL,
      .data = data,
      .repeats = job->_repeats_case == DAPR__PROTO__RUNTIME__V1__JOB___REPEATS_REPEATS ? (int64_t)job->repeats : -1,
      .overwrite = q->overwrite};
  if (wgg_job_call(api, wgg_grpc_call_loop(call), WGG_JOB_OP_SCHEDULE, &in, done_schedule, call, &st)) goto fail;
  free(data);
  protobuf_c_message_free_unpacked(m, NULL);
  return;
fail:
  free(data);
  wgg_grpc_fail_status(call, &st);
  protobuf_c_message_free_unpacked(m, NULL);
}

static void by_name(wgg_api *api, wgg_grpc_call *call, enum wgg_job_op op, const char *name, wgg_job_cb cb) {
  wgg_job_input in = {.name = name, .repeats = -1};
  wgg_api_status st;
  if (wgg_job_call(api, wgg_grpc_call_loop(call), op, &in, cb, call, &st)) wgg_grpc_fail_status(call, &st);
}

void wgg_grpc_get_job(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m) {
  by_name(api, call, WGG_JOB_OP_GET, ((Dapr__Proto__Runtime__V1__GetJobRequest *)m)->name, done_get);
  protobuf_c_message_free_unpacked(m, NULL);
}

void wgg_grpc_delete_job(wgg_api *api, wgg_grpc_call *call, ProtobufCMessage *m) {
  by_name(api, call, WGG_JOB_OP_DELETE, ((Dapr__Proto__Runtime__V1__DeleteJobRequest *)m)->name, done_delete);
  protobuf_c_message_free_unpacked(m, NULL);
}
