// grpc_blocks_client.js: the official Dapr JS SDK (@dapr/dapr) in gRPC mode
// for the building blocks beyond state/pub-sub that it exposes: distributed
// lock (lock, unlock), configuration (get, subscribeWithKeys, stop: which
// aborts the stream and calls UnsubscribeConfiguration) and state query.
// Prints "subscribed" once its configuration subscription is open (the
// Python driver then changes the key in Redis until a change arrives), and
// finally one JSON line of results.
// usage: node grpc_blocks_client.js GRPC_PORT
const { DaprClient, CommunicationProtocolEnum } = require("@dapr/dapr");

async function main() {
  const client = new DaprClient({
    daprHost: "127.0.0.1",
    daprPort: process.argv[2],
    communicationProtocol: CommunicationProtocolEnum.GRPC,
    logger: { level: 1 },
  });
  const out = {};
  const step = async (name, fn) => {
    try {
      out[name] = await fn();
    } catch (e) {
      out[name] = { error: String(e && e.message ? e.message : e) };
    }
  };
  await step("lock", async () => await client.lock.lock("lockstore", "res", "me", 30));
  await step("lockOther", async () => await client.lock.lock("lockstore", "res", "you", 30));
  await step("unlockOther", async () => await client.lock.unlock("lockstore", "res", "you"));
  await step("unlock", async () => await client.lock.unlock("lockstore", "res", "me"));
  await step("lockMissing", async () => await client.lock.lock("nolock", "res", "me", 30));
  await step("query", async () => {
    const r = await client.state.query("statestore", { filter: { EQ: { kind: "a" } }, sort: [{ key: "n" }] });
    return { keys: r.results.map((x) => x.key), token: r.token };
  });
  await step("configGet", async () => {
    const r = await client.configuration.get("cfg", ["color", "nope"]);
    const items = {};
    for (const [k, v] of Object.entries(r.items)) items[k] = { value: v.value, version: v.version };
    return items;
  });
  await step("configMissing", async () => await client.configuration.get("nocfg", ["a"]));
  await step("subscribe", async () => {
    let resolve;
    const changed = new Promise((r) => (resolve = r));
    const sub = await client.configuration.subscribeWithKeys("cfg", ["color"], (c) => resolve(c.items));
    console.log("subscribed");
    const timer = new Promise((r) => setTimeout(() => r({ timeout: true }), 30000));
    const items = await Promise.race([changed, timer]);
    await sub.stop();
    return items.timeout ? items : { value: items.color && items.color.value };
  });
  console.log(JSON.stringify(out));
  await client.stop();
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
