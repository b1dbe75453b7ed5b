// grpc_server.js: the official Dapr JS SDK (@dapr/dapr) as a gRPC *app*
// (DaprServer with CommunicationProtocolEnum.GRPC) behind wasmgate started
// with --app-protocol grpc: invocation handlers, pub/sub subscriptions that
// answer SUCCESS / RETRY / DROP, an input binding. Once started it invokes
// itself through the sidecar's gRPC API (InvokeService, the SDK's gRPC
// client). Every event is printed as one JSON line; the Python driver
// (e2e_grpc_jssdk_app.py) checks them.
// usage: node grpc_server.js APP_PORT SIDECAR_GRPC_PORT APP_ID
const { DaprServer, CommunicationProtocolEnum, DaprPubSubStatusEnum, HttpMethod } = require("@dapr/dapr");

const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");

async function main() {
  const [appPort, grpcPort, appId] = process.argv.slice(2);
  const server = new DaprServer({
    serverHost: "127.0.0.1",
    serverPort: appPort,
    communicationProtocol: CommunicationProtocolEnum.GRPC,
    clientOptions: { daprHost: "127.0.0.1", daprPort: grpcPort },
    logger: { level: 1 }, // errors only
  });
  await server.invoker.listen("hello", async (d) => {
    out({ ev: "invoke", verb: "post", body: d.body, query: d.query, ct: d.metadata.contentType });
    return { echo: d.body, query: d.query || "" };
  }, { method: HttpMethod.POST });
  await server.invoker.listen("hello", async (d) => ({ verb: "get", query: d.query || "" }), { method: HttpMethod.GET });
  await server.invoker.listen("broken", async () => {
    throw new Error("broken order 7");
  }, { method: HttpMethod.POST });
  const tries = {};
  await server.pubsub.subscribe("pubsub", "orders", async (data) => {
    out({ ev: "topic", topic: "orders", data });
    return DaprPubSubStatusEnum.SUCCESS;
  });
  await server.pubsub.subscribe("pubsub", "flaky", async (data) => {
    const n = (tries[data.id] = (tries[data.id] || 0) + 1);
    out({ ev: "topic", topic: "flaky", data, n });
    return n < 3 ? DaprPubSubStatusEnum.RETRY : DaprPubSubStatusEnum.SUCCESS;
  });
  await server.pubsub.subscribeWithOptions("pubsub", "drop", {
    deadLetterTopic: "dead",
    callback: async (data) => {
      out({ ev: "topic", topic: "drop", data });
      return DaprPubSubStatusEnum.DROP;
    },
  });
  await server.pubsub.subscribe("pubsub", "dead", async (data) => {
    out({ ev: "topic", topic: "dead", data });
    return DaprPubSubStatusEnum.SUCCESS;
  });
  await server.binding.receive("tick", async (data) => {
    out({ ev: "binding", name: "tick", data });
  });
  await server.start();
  out({ ev: "started" });
  // a gRPC caller: the SDK's own gRPC client, through the sidecar, back to this app
  // (retried while the sidecar's first health probes have not passed yet)
  for (let i = 0; ; i++) {
    try {
      const r = await server.client.invoker.invoke(appId, "hello", HttpMethod.POST, { from: "grpc" });
      out({ ev: "selfinvoke", result: r });
      break;
    } catch (e) {
      if (i >= 150 || !String(e).includes("not in a healthy state")) throw e;
      await new Promise((res) => setTimeout(res, 200));
    }
  }
  await brokenCall(server, appId);
}

async function brokenCall(server, appId) {
  // the app's own error status through the sidecar back to the SDK's gRPC client
  try {
    const r = await server.client.invoker.invoke(appId, "broken", HttpMethod.POST, {});
    out({ ev: "selfinvoke_error", result: r });
  } catch (e) {
    out({ ev: "selfinvoke_error", code: e.code, error: String(e && e.message ? e.message : e) });
  }
}

main().catch((e) => {
  out({ ev: "error", error: String(e && e.stack ? e.stack : e) });
  process.exit(1);
});
