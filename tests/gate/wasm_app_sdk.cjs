// wasm_app_sdk.cjs: the official Dapr JS SDK (@dapr/dapr, HTTP protocol) against a sidecar whose
// app is a wasm app (tests/gate/apps/wagi_app.c): it invokes the app, publishes to the topic the
// app subscribed to, and reads what the app saved, exactly as it would with an HTTP app.
// usage: node wasm_app_sdk.cjs NODE_MODULES_DIR DAPR_HTTP_PORT
const path = require("path");
const { DaprClient, CommunicationProtocolEnum, HttpMethod } = require(path.join(process.argv[2], "@dapr/dapr"));

async function main() {
  const client = new DaprClient({
    daprHost: "127.0.0.1",
    daprPort: process.argv[3],
    communicationProtocol: CommunicationProtocolEnum.HTTP,
  });
  const out = {};
  out.echo = await client.invoker.invoke("myapp", "echo", HttpMethod.POST, { hello: "wasm" });
  out.hello = await client.invoker.invoke("myapp", "hello", HttpMethod.GET);
  await client.pubsub.publish("pubsub", "orders", { order: 99 });
  for (let i = 0; i < 100; i++) {
    const got = await client.state.get("statestore", "last-order");
    if (got && got.data && got.data.order === 99) {
      out.delivered = got;
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await client.state.save("statestore", [{ key: "sdk-key", value: { from: "sdk" } }]);
  out.viaApp = await client.invoker.invoke("myapp", "state/get?key=sdk-key", HttpMethod.GET);
  console.log(JSON.stringify(out));
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
