// grpc_client.js: the official Dapr JS SDK (@dapr/dapr) as a gRPC client of
// wasmgate (CommunicationProtocolEnum.GRPC): state, bulk state, transactions,
// publish, output bindings, metadata. Prints one JSON line of results; the
// Python driver (grpc_jssdk_e2e.py) checks them.
// usage: node grpc_client.js GRPC_PORT [API_TOKEN]
// With API_TOKEN: only a save and a get, with the SDK's daprApiToken.
const { DaprClient, CommunicationProtocolEnum } = require("@dapr/dapr");

async function main() {
  const port = process.argv[2];
  const token = process.argv[3];
  const client = new DaprClient({
    daprHost: "127.0.0.1",
    daprPort: port,
    communicationProtocol: CommunicationProtocolEnum.GRPC,
    logger: { level: 1 }, // errors only
    ...(token ? { daprApiToken: token } : {}),
  });
  if (token) {
    await client.state.save("statestore", [{ key: "tok", value: "with token" }]);
    console.log(JSON.stringify({ tokenGet: await client.state.get("statestore", "tok") }));
    await client.stop();
    return;
  }
  const out = {};
  const step = async (name, fn) => {
    try {
      out[name] = await fn();
    } catch (e) {
      out[name] = { error: String(e && e.message ? e.message : e) };
    }
  };
  await step("save", async () => {
    await client.state.save("statestore", [
      { key: "js1", value: { hello: "world" } },
      { key: "js2", value: "text" },
    ]);
    return "ok";
  });
  await step("get", async () => await client.state.get("statestore", "js1"));
  await step("getText", async () => await client.state.get("statestore", "js2"));
  await step("getAbsent", async () => (await client.state.get("statestore", "absent")) ?? null);
  await step("bulk", async () => await client.state.getBulk("statestore", ["js1", "js2"]));
  await step("txn", async () => {
    await client.state.transaction("statestore", [
      // the SDK's gRPC transaction takes the value as text or bytes
      { operation: "upsert", request: { key: "js3", value: JSON.stringify({ n: 3 }) } },
      { operation: "delete", request: { key: "js2" } },
    ]);
    return "ok";
  });
  await step("afterTxn", async () => [await client.state.get("statestore", "js3"), (await client.state.get("statestore", "js2")) ?? null]);
  await step("delete", async () => {
    await client.state.delete("statestore", "js3");
    return (await client.state.get("statestore", "js3")) ?? null;
  });
  await step("missingStore", async () => await client.state.get("nope", "k"));
  await step("publish", async () => await client.pubsub.publish("pubsub", "orders", { id: 42 }));
  await step("publishBulk", async () => await client.pubsub.publishBulk("pubsub", "orders", [{ id: 43 }, { id: 44 }]));
  await step("binding", async () => {
    // over gRPC the SDK hands back the InvokeBindingResponse (data as bytes, metadata)
    const res = await client.binding.send("web", "post", { x: 1 }, { path: "/js" });
    return { data: JSON.parse(Buffer.from(Object.values(res.data)).toString()), statusCode: res.metadata.statusCode };
  });
  await step("secret", async () => await client.secret.get("files", "db.user"));
  await step("secretBulk", async () => await client.secret.getBulk("files"));
  await step("metadata", async () => {
    const m = await client.metadata.get();
    return { id: m.id, components: (m.components || []).map((c) => c.name).sort() };
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
