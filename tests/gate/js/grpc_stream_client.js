// grpc_stream_client.js: a streaming subscription (SubscribeTopicEventsAlpha1)
// through the official Dapr JS SDK's own gRPC transport: @dapr/dapr 3.18 has
// no streaming-subscribe helper, so this takes the SDK's ConnectRPC client
// (DaprClient in GRPC mode -> getClient(), the SDK's generated Dapr service on
// connect-node's HTTP/2) and drives the bidirectional stream with it, while
// publishing with the SDK's client.pubsub.publish. Prints one JSON line; the
// Python driver (e2e_grpc_jssdk.py) checks it.
// usage: node grpc_stream_client.js GRPC_PORT
const { DaprClient, CommunicationProtocolEnum } = require("@dapr/dapr");
const { create } = require("@bufbuild/protobuf");
const pb = require("@dapr/dapr/proto/dapr/proto/runtime/v1/dapr_pb.js");
const cb = require("@dapr/dapr/proto/dapr/proto/runtime/v1/appcallback_pb.js");

/* An async iterable fed by push(); end() closes it. */
function feed() {
  const items = [];
  let wake = null;
  let done = false;
  return {
    push(m) { items.push(m); if (wake) { wake(); wake = null; } },
    end() { done = true; if (wake) { wake(); wake = null; } },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        while (items.length) yield items.shift();
        if (done) return;
        await new Promise((r) => (wake = r));
      }
    },
  };
}

async function main() {
  const port = process.argv[2];
  const client = new DaprClient({
    daprHost: "127.0.0.1", daprPort: port, communicationProtocol: CommunicationProtocolEnum.GRPC, logger: { level: 1 },
  });
  const rpc = await client.daprClient.getClient();
  const out = { received: [] };
  const reqs = feed();
  const abort = new AbortController();
  reqs.push(create(pb.SubscribeTopicEventsRequestAlpha1Schema, {
    subscribeTopicEventsRequestType: { case: "initialRequest", value: { pubsubName: "pubsub", topic: "jsstream" } },
  }));
  const answer = (id, status) => reqs.push(create(pb.SubscribeTopicEventsRequestAlpha1Schema, {
    subscribeTopicEventsRequestType: { case: "eventProcessed", value: { id, status: { status } } },
  }));
  const S = cb.TopicEventResponse_TopicEventResponseStatus;
  const timer = setTimeout(() => abort.abort(), 20000);
  try {
    for await (const r of rpc.subscribeTopicEventsAlpha1(reqs, { signal: abort.signal })) {
      const t = r.subscribeTopicEventsResponseType;
      if (t.case === "initialResponse") {
        out.initial = true;
        await client.pubsub.publish("pubsub", "jsstream", { n: 1 });
        continue;
      }
      const ev = t.value;
      const data = JSON.parse(Buffer.from(ev.data).toString());
      out.received.push({ id: ev.id, topic: ev.topic, pubsub: ev.pubsubName, type: ev.type, data });
      if (data.n === 1 && out.received.filter((e) => e.data.n === 1).length === 1) {
        answer(ev.id, S.RETRY); // redelivered
      } else if (data.n === 1) {
        answer(ev.id, S.SUCCESS);
        await client.pubsub.publish("pubsub", "jsstream", { n: 2 });
      } else {
        answer(ev.id, S.SUCCESS);
        break; // leaving the loop cancels the call: the stream closes
      }
    }
  } catch (e) {
    out.error = String(e && e.message ? e.message : e);
  }
  clearTimeout(timer);
  reqs.end();
  console.log(JSON.stringify(out));
  await client.stop();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
