// The bench's floor (issue 12): the least a Node Runtime API proxy extension can be. Pass-through only (no
// faults, no polling), but a real extension: it listens, tells the exec wrapper its port (the layer's own
// faultline/bootstrap finds it), registers with the Extensions API and waits for SHUTDOWN. Not shipped.
const http = require("node:http");
const fs = require("node:fs");

const api = process.env.AWS_LAMBDA_RUNTIME_API;
const [host, port] = [api.slice(0, api.lastIndexOf(":")), Number(api.slice(api.lastIndexOf(":") + 1))];
const agent = new http.Agent({ keepAlive: true });

const server = http.createServer((req, res) => {
  const up = http.request(
    { host, port, method: req.method, path: req.url, headers: req.headers, agent },
    (a) => {
      res.writeHead(a.statusCode, a.headers);
      a.pipe(res);
    },
  );
  up.on("error", () => res.destroy());
  req.pipe(up);
});
server.keepAliveTimeout = 0;

function call(method, path, headers, body, then) {
  const req = http.request({ host, port, method, path: `/2020-01-01/extension/${path}`, headers }, (res) => {
    res.resume();
    res.on("end", () => then(res));
  });
  req.end(body);
}

server.listen(0, "127.0.0.1", () => {
  fs.writeFileSync(process.env.FAULTLINE_PORT_FILE, `${server.address().port}\n`);
  const body = '{"events":["SHUTDOWN"]}';
  call("POST", "register", { "lambda-extension-name": "faultline" }, body, (res) => {
    const id = res.headers["lambda-extension-identifier"];
    call("GET", "event/next", { "lambda-extension-identifier": id }, undefined, () => process.exit(0));
  });
});
