// Lab19 load test: drives both uninstrumented services so that Beyla has traffic to turn into traces and RED metrics.
// Runs in the AppHost's k6 container (Start button in the Aspire dashboard), or by hand:
//   docker run --rm --add-host=host.docker.internal:host-gateway -v "$PWD/k6:/scripts:ro" \
//     -e USER_SERVICE_URL=http://host.docker.internal:8080 -e POINT_SERVICE_URL=http://host.docker.internal:8001 \
//     grafana/k6:1.8.1 run /scripts/load.js
//   (--add-host: on Linux, host.docker.internal exists only when it is added like this.)
//
// Thresholds: during the "stop point-service" exercise GET /api/v1/users/{id} answers 503, http_req_failed crosses 1 %
// and k6 ends with exit code 99 ("thresholds crossed"). That is the outage being measured.
//
// Settings (all optional, through environment variables):
//   USER_SERVICE_URL, POINT_SERVICE_URL  base URLs as this container reaches the services (the AppHost sets both from its
//                                        services; the fallbacks below are the lab's default ports, Lab19.AppHost/LabSettings.cs)
//   DURATION   how long each scenario runs (default 2m)
//   RATE       GET /api/v1/users/{id} per second (default 20); POST /api/v1/points runs at a quarter of it
//   USERS      ids are drawn from 1..USERS, the seeded users (default 100)
import http from 'k6/http';
import { check } from 'k6';
import crypto from 'k6/crypto';

const USER_SERVICE_URL = __ENV.USER_SERVICE_URL || 'http://host.docker.internal:8080';
const POINT_SERVICE_URL = __ENV.POINT_SERVICE_URL || 'http://host.docker.internal:8001';
const DURATION = __ENV.DURATION || '2m';
const RATE = Number(__ENV.RATE || 20);
const USERS = Number(__ENV.USERS || 100);

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    get_user: {
      executor: 'constant-arrival-rate',
      exec: 'getUser',
      rate: RATE,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: 10,
      maxVUs: 50,
    },
    add_points: {
      executor: 'constant-arrival-rate',
      exec: 'addPoints',
      rate: Math.max(1, Math.round(RATE / 4)),
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: 5,
      maxVUs: 20,
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    'http_req_duration{name:GET /api/v1/users/{id}}': ['p(95)<500'],
    'http_req_duration{name:POST /api/v1/points}': ['p(95)<300'],
    checks: ['rate>0.99'],
  },
};

/**
 * A fresh W3C trace context, sampled: k6 starts the trace; Beyla reads it (track_request_headers) and user-service passes it on.
 * @returns {string}
 */
export function traceparent() {
  return `00-${randomHex(16)}-${randomHex(8)}-01`;
}

/**
 * @param {number} bytes
 * @returns {string} that many random bytes, as lowercase hex
 */
function randomHex(bytes) {
  return Array.from(new Uint8Array(crypto.randomBytes(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * A fresh Idempotency-Key for one POST: were the request retried, the retry would send the same key and point-service
 * would answer with the original record instead of storing a second one.
 * @returns {string}
 */
export function idempotencyKey() {
  return randomHex(16);
}

/** @returns {number} a seeded user id, 1..USERS */
function randomUserId() {
  return 1 + Math.floor(Math.random() * USERS);
}

export function getUser() {
  const id = randomUserId();
  const res = http.get(`${USER_SERVICE_URL}/api/v1/users/${id}`, {
    headers: { traceparent: traceparent() },
    tags: { name: 'GET /api/v1/users/{id}' },
  });
  check(res, {
    'user: status 200': (r) => r.status === 200,
    'user: has recentPoints': (r) => r.status === 200 && Array.isArray(r.json('recentPoints')),
  });
}

export function addPoints() {
  const body = JSON.stringify({ userId: randomUserId(), points: 1 + Math.floor(Math.random() * 50), reason: 'k6 load test' });
  const res = http.post(`${POINT_SERVICE_URL}/api/v1/points`, body, {
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': idempotencyKey(), traceparent: traceparent() },
    tags: { name: 'POST /api/v1/points' },
  });
  check(res, {
    'points: status 201': (r) => r.status === 201,
    'points: has Location': (r) => r.headers['Location'] !== undefined,
  });
}
