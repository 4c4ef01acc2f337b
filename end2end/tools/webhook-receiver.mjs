// A webhook receiver as a seller's ERP would run one: it checks each delivery's
// Settle-Signature (HMAC-SHA256 over "<t>.<body>" with the endpoint's secret, t within
// 5 minutes), de-duplicates by event id, and can be told to fail the first N attempts of each
// event. Plain Node, no dependencies, independent of Settle's code.
//
//   node tools/webhook-receiver.mjs [port]     prints "listening on <port>"
//   POST /config   {"secret": "...", "failFirst": 2}
//   POST /hook     a delivery
//   GET  /received {"events": [...], "attempts": {...}, "rejected": n}
import { createServer } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';

const config = { secret: '', failFirst: 0 };
const attempts = new Map();
const events = [];
let rejected = 0;

function read(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function verify(secret, header, body, nowSeconds, windowSeconds = 300) {
  if (!header) return false;
  let t = null;
  const v1 = [];
  for (const part of header.split(',')) {
    const [k, v] = part.split('=', 2);
    if (k === 't') t = Number(v);
    if (k === 'v1' && v) v1.push(v);
  }
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > windowSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
  return v1.some((h) => h.length === expected.length && timingSafeEqual(Buffer.from(h), Buffer.from(expected)));
}

function json(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

const server = createServer(async (req, res) => {
  const body = await read(req);
  if (req.method === 'POST' && req.url === '/config') {
    Object.assign(config, JSON.parse(body.toString('utf8')));
    return json(res, 200, config);
  }
  if (req.method === 'GET' && req.url === '/received') {
    return json(res, 200, { events, attempts: Object.fromEntries(attempts), rejected });
  }
  if (req.method === 'POST' && req.url === '/hook') {
    const ok = verify(config.secret, req.headers['settle-signature'], body, Math.floor(Date.now() / 1000));
    if (!ok) {
      rejected += 1;
      return json(res, 400, { error: 'bad signature' });
    }
    const event = JSON.parse(body.toString('utf8'));
    const n = (attempts.get(event.id) ?? 0) + 1;
    attempts.set(event.id, n);
    if (n <= config.failFirst) return json(res, 500, { error: `failing attempt ${n} on purpose` });
    const duplicate = events.some((e) => e.id === event.id);
    events.push({ id: event.id, type: event.type, attempt: n, duplicate, headerId: req.headers['settle-event-id'], data: event.data });
    return json(res, 200, { received: event.id, duplicate });
  }
  json(res, 404, { error: 'not found' });
});

server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});
