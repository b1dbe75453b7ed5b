// dapr_sdk.cjs: the official Dapr JS SDK (@dapr/dapr, HTTP mode) against
// `wasmgate run` (driven by tests/gate/e2e_sdk_js.py, which starts the sidecar,
// the binding target and passes the ports). Every SDK call is one step; the
// script prints "SDK calls passed: N/M" and exits 1 when any step fails.
"use strict";
const path = require("path");
const { createRequire } = require("module");
const sdkRequire = createRequire(path.join(process.env.WG_NPM_DIR, "package.json"));
const { DaprClient, DaprServer, HttpMethod, CommunicationProtocolEnum, LogLevel } = sdkRequire("@dapr/dapr");
const assert = require("assert");
const LockStatus = { Success: 0, LockDoesNotExist: 1, LockBelongsToOthers: 2, InternalError: 3 }; // types/lock/UnlockResponse

const daprHost = "127.0.0.1";
const daprPort = process.env.DAPR_HTTP_PORT;
const appPort = process.env.APP_PORT;
const logger = { level: LogLevel.Error };
const clientOptions = { daprHost, daprPort, communicationProtocol: CommunicationProtocolEnum.HTTP, logger };

let passed = 0;
const failed = [];
async function step(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed.push(name);
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack.split("\n").slice(0, 3).join(" | ") : e}`);
  }
}

async function until(what, fn, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main() {
  const received = [];
  const server = new DaprServer({ serverHost: "127.0.0.1", serverPort: appPort,
    communicationProtocol: CommunicationProtocolEnum.HTTP, clientOptions, logger });
  await server.pubsub.subscribe("pubsub", "orders", async (data) => { received.push(data); });
  await server.invoker.listen("hello", async (req) => ({ greeting: "hi", got: req.body ? JSON.parse(req.body) : null }),
    { method: HttpMethod.POST });
  await server.invoker.listen("echo-get", async (req) => ({ query: req.query }), { method: HttpMethod.GET });
  await server.invoker.listen("orders/update", async (req) => ({ method: "PUT", body: req.body }),
    { method: HttpMethod.PUT });
  await server.invoker.listen("orders/remove", async () => ({ removed: true }), { method: HttpMethod.DELETE });
  const ticks = [];
  await server.binding.receive("tick", async (data) => { ticks.push(data); });
  await server.pubsub.subscribe("pubsub", "bulk-orders", async (data) => { received.push(data); });
  await step("DaprServer.start (app server + sidecar wait)", () => server.start());

  const client = new DaprClient(clientOptions);
  await step("client.start", () => client.start());
  await step("health.isHealthy", async () => assert.strictEqual(await client.health.isHealthy(), true));

  // state
  const store = "statestore";
  await step("state.save", () => client.state.save(store, [{ key: "k1", value: { n: 1 } }, { key: "k2", value: "two" }]));
  await step("state.get", async () => assert.deepStrictEqual(await client.state.get(store, "k1"), { n: 1 }));
  await step("state.get (string)", async () => assert.strictEqual(await client.state.get(store, "k2"), "two"));
  await step("state.getBulk", async () => {
    const r = await client.state.getBulk(store, ["k1", "k2", "nope"]);
    const byKey = Object.fromEntries(r.map((x) => [x.key, x.data]));
    assert.deepStrictEqual(byKey.k1, { n: 1 });
    assert.strictEqual(byKey.k2, "two");
    assert.ok("nope" in byKey);
  });
  await step("state.transaction", () => client.state.transaction(store, [
    { operation: "upsert", request: { key: "k3", value: 3 } },
    { operation: "delete", request: { key: "k2" } },
  ]));
  await step("state.get after transaction", async () => {
    assert.strictEqual(await client.state.get(store, "k3"), 3);
    const gone = await client.state.get(store, "k2");
    assert.ok(gone === "" || gone === undefined || gone === null, `k2 should be gone: ${JSON.stringify(gone)}`);
  });
  await step("state.save with ttl metadata and first-write", async () => {
    const r = await client.state.save(store, [{ key: "ttl", value: "short", metadata: { ttlInSeconds: "60" },
      options: { concurrency: "first-write" } }]);
    assert.ok(!r.error, String(r.error));
    assert.strictEqual(await client.state.get(store, "ttl"), "short");
  });
  await step("state.get of an absent key", async () => {
    const v = await client.state.get(store, "never-saved");
    assert.ok(v === "" || v === undefined || v === null, JSON.stringify(v));
  });
  await step("state.delete", () => client.state.delete(store, "k1"));
  await step("state.get after delete", async () => {
    const gone = await client.state.get(store, "k1");
    assert.ok(gone === "" || gone === undefined || gone === null, `k1 should be gone: ${JSON.stringify(gone)}`);
  });
  await step("state.save with etag mismatch is an error", async () => {
    // the SDK logs and returns {error} (a 409 from daprd) instead of throwing
    const r = await client.state.save(store, [{ key: "k3", value: 4, etag: "00000000-0000-0000-0000-000000000000" }]);
    assert.ok(r && r.error && /409/.test(String(r.error)), `expected a 409 error, got ${JSON.stringify(r)}`);
  });
  await step("state.query", async () => {
    await client.state.save(store, [{ key: "q1", value: { team: "a", n: 2 } }, { key: "q2", value: { team: "a", n: 1 } },
      { key: "q3", value: { team: "b", n: 3 } }]);
    const r = await client.state.query(store, { filter: { EQ: { team: "a" } }, sort: [{ key: "n" }], page: { limit: 10 } });
    assert.deepStrictEqual(r.results.map((x) => [x.key, x.data]), [["q2", { team: "a", n: 1 }], ["q1", { team: "a", n: 2 }]]);
    assert.strictEqual(r.token, "2");
    assert.ok(r.results.every((x) => typeof x.etag === "string" && x.etag.length > 0));
  });
  await step("state.query with no match", async () =>
    assert.deepStrictEqual(await client.state.query(store, { filter: { EQ: { team: "zz" } } }), { results: [] }));

  // pub/sub through the DaprServer subscriber
  await step("pubsub subscription known to the sidecar", () => until("subscription", async () => {
    const md = await client.metadata.get();
    return (md.subscriptions || []).some((s) => s.topic === "orders");
  }));
  await step("pubsub.publish", async () => {
    const r = await client.pubsub.publish("pubsub", "orders", { id: 42 });
    assert.ok(!r || !r.error, JSON.stringify(r));
  });
  await step("pubsub delivered to DaprServer", () => until("delivery",
    async () => received.some((d) => d && d.id === 42)));

  await step("pubsub.publish with metadata (rawPayload)", async () => {
    const r = await client.pubsub.publish("pubsub", "orders", { id: 43 }, { metadata: { rawPayload: "true" } });
    assert.ok(!r || !r.error, JSON.stringify(r));
  });
  await step("pubsub raw payload delivered", () => until("raw delivery",
    async () => received.some((d) => d && (d.id === 43 || (d.data && d.data.id === 43)))));
  await step("pubsub.publishBulk", async () => {
    await until("bulk subscription", async () => ((await client.metadata.get()).subscriptions || [])
      .some((x) => x.topic === "bulk-orders"));
    const r = await client.pubsub.publishBulk("pubsub", "bulk-orders", [{ id: 100 }, { id: 101 }]);
    assert.ok(!r.failedMessages || r.failedMessages.length === 0, JSON.stringify(r));
  });
  await step("pubsub bulk messages delivered", () => until("bulk delivery",
    async () => received.some((d) => d && d.id === 100) && received.some((d) => d && d.id === 101)));
  await step("input binding (bindings.cron) received by DaprServer", () => until("cron tick",
    async () => ticks.length > 0));

  // invocation: DaprServer receives, DaprClient calls
  await step("invoker.invoke POST", async () => {
    const r = await client.invoker.invoke(process.env.APP_ID, "hello", HttpMethod.POST, { x: 1 });
    assert.deepStrictEqual(r, { greeting: "hi", got: { x: 1 } });
  });
  await step("invoker.invoke GET with query", async () => {
    const r = await client.invoker.invoke(process.env.APP_ID, "echo-get?a=b", HttpMethod.GET);
    assert.strictEqual(r.query, "/echo-get?a=b"); // DaprServer hands the app the original URL as "query"
  });

  await step("invoker.invoke PUT on a nested method", async () => {
    const r = await client.invoker.invoke(process.env.APP_ID, "orders/update", HttpMethod.PUT, { q: 2 });
    assert.strictEqual(r.method, "PUT");
    assert.deepStrictEqual(typeof r.body === "string" ? JSON.parse(r.body) : r.body, { q: 2 });
  });
  await step("invoker.invoke DELETE", async () => {
    assert.deepStrictEqual(await client.invoker.invoke(process.env.APP_ID, "orders/remove", HttpMethod.DELETE),
      { removed: true });
  });

  // output binding (bindings.http against the driver's server)
  await step("binding.send", async () => {
    const r = await client.binding.send("web", "post", { ping: 1 }, { path: "/hook" });
    assert.deepStrictEqual(r, { pong: 1 });
  });

  // secrets
  await step("secret.get", async () => assert.deepStrictEqual(await client.secret.get("envsecrets", "DB"), { DB: "pw" }));
  await step("secret.getBulk", async () => {
    const r = await client.secret.getBulk("envsecrets");
    assert.deepStrictEqual(r.DB, { DB: "pw" });
  });
  await step("secret.get from a store that does not exist is an error",
    () => assert.rejects(client.secret.get("nope", "DB")));

  // metadata
  await step("metadata.get", async () => {
    const md = await client.metadata.get();
    assert.strictEqual(md.id, process.env.APP_ID);
    const names = md.components.map((c) => c.name);
    for (const n of ["statestore", "pubsub", "web", "envsecrets"]) assert.ok(names.includes(n), `${n} in ${names}`);
  });
  await step("metadata.set", async () => {
    await client.metadata.set("sdk", "yes");
    const md = await client.metadata.get();
    assert.strictEqual(md.extended.sdk, "yes");
  });

  // distributed lock (the lock.in-memory component "lockstore")
  await step("lock.lock", async () => assert.deepStrictEqual(await client.lock.lock("lockstore", "res", "me", 30),
    { success: true }));
  await step("lock.lock held by another", async () =>
    assert.deepStrictEqual(await client.lock.lock("lockstore", "res", "you", 30), { success: false }));
  await step("lock.unlock by another", async () =>
    assert.deepStrictEqual(await client.lock.unlock("lockstore", "res", "you"), { status: LockStatus.LockBelongsToOthers }));
  await step("lock.unlock", async () =>
    assert.deepStrictEqual(await client.lock.unlock("lockstore", "res", "me"), { status: LockStatus.Success }));
  await step("lock.unlock again", async () =>
    assert.deepStrictEqual(await client.lock.unlock("lockstore", "res", "me"), { status: LockStatus.LockDoesNotExist }));
  await step("lock.lock on a store that does not exist is an error",
    () => assert.rejects(client.lock.lock("nolock", "res", "me", 30)));

  // last: the sidecar stops itself (the driver checks that it exits 0)
  await step("sidecar.shutdown", () => client.sidecar.shutdown());

  await client.stop();
  await server.stop();
  const total = passed + failed.length;
  console.log(`SDK calls passed: ${passed}/${total}`);
  process.exit(failed.length ? 1 : 0);
}

const timer = setTimeout(() => { console.log("timed out"); process.exit(2); }, 90000);
timer.unref();
main().catch((e) => { console.log(`FAIL (uncaught) ${e && e.stack}`); process.exit(1); });
