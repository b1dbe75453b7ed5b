addEventListener("fetch", (event) => event.respondWith((async () => {
  const req = event.request;
  const url = new URL(req.url);
  const body = await req.text();
  return new Response(`js ${req.method} ${url.pathname}${url.search}\n${body}`, {
    status: url.pathname === "/created" ? 201 : 200,
    headers: { "content-type": "text/plain", "x-js-test": req.headers.get("x-test") || "" },
  });
})()));
