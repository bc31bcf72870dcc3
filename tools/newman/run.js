#!/usr/bin/env node
// Runs docs/postman/velo.postman_collection.json with newman against a stack whose mail sink is a local
// Maildir (make up, make test): folder 1 registers a rider, this script reads the confirmation link from the
// Maildir like the e2e suite does and hands its token to the run of folders 2-5 as `verifyToken`, which is
// what a person does by hand in Postman. Exit code 0 only if both runs passed every test.
//
// Environment: GATEWAY_URL (or BASE_URL), MAIL_DIR, PAYMENTS_WEBHOOK_SECRET, ADMIN_EMAIL, ADMIN_PASSWORD
// (`source .run/<stack>/env.sh` exports all but the admin account). Secrets reach newman in-process, never
// on a command line.
'use strict';

const fs = require('fs');
const path = require('path');
const newman = require('newman');

const ROOT = path.resolve(__dirname, '..', '..');
const COLLECTION = path.join(ROOT, 'docs', 'postman', 'velo.postman_collection.json');
const ENVIRONMENT = path.join(ROOT, 'docs', 'postman', 'velo-local.postman_environment.json');
const SIGN_UP = ['1 Rider sign-up'];
const REST = ['2 Rider journey', '3 Payment webhook', '4 Operator tasks', '5 Public: health, keys, GBFS'];
const MAIL_TIMEOUT_MS = 30000;

function setting(name, ...fallbacks) {
  for (const key of [name, ...fallbacks]) {
    const value = (process.env[key] || '').trim();
    if (value) return value;
  }
  return '';
}

function run(options) {
  return new Promise((resolve, reject) => {
    newman.run(
      { collection: COLLECTION, reporters: ['cli'], timeoutRequest: 30000, color: 'off', ...options },
      (err, summary) => (err ? reject(err) : resolve(summary)),
    );
  });
}

function failures(summary) {
  return summary.run.failures.length + (summary.run.error ? 1 : 0);
}

// ------------------------------------------------------------------ the Maildir, read like a mail client

function decodeQuotedPrintable(text) {
  return text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/gi, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

function splitMessage(raw) {
  const cut = raw.search(/\r?\n\r?\n/);
  const head = cut < 0 ? raw : raw.slice(0, cut);
  const body = cut < 0 ? '' : raw.slice(cut).replace(/^\r?\n\r?\n/, '');
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

// The text of a message: every text part, transfer-decoded.
function textOf(raw) {
  const { headers, body } = splitMessage(raw);
  const type = headers['content-type'] || 'text/plain';
  const boundary = type.match(/boundary="?([^";]+)"?/i);
  if (/^multipart\//i.test(type) && boundary) {
    return body
      .split('--' + boundary[1])
      .slice(1)
      .map((part) => (part.startsWith('--') ? '' : textOf(part.replace(/^\r?\n/, ''))))
      .join('\n');
  }
  if (!/^text\//i.test(type)) return '';
  const encoding = (headers['content-transfer-encoding'] || '').toLowerCase();
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return body;
}

// The token of the newest confirmation link mailed to `address` since `since` (ms epoch).
function confirmationToken(mailDir, address, since) {
  const found = [];
  for (const sub of ['new', 'cur']) {
    const dir = path.join(mailDir, sub);
    if (!fs.existsSync(dir)) continue;
    for (const name of fs.readdirSync(dir)) {
      const file = path.join(dir, name);
      let stat;
      let raw;
      try {
        stat = fs.statSync(file);
        if (stat.mtimeMs < since) continue;
        raw = fs.readFileSync(file, 'latin1');
      } catch (err) {
        if (err.code === 'ENOENT') continue; // moved from new/ to cur/ meanwhile
        throw err;
      }
      const { headers } = splitMessage(raw);
      if (!(headers.to || '').toLowerCase().includes(address.toLowerCase())) continue;
      const link = textOf(raw).match(/https?:\/\/\S+\/api\/auth\/verify\?token=([^\s<>"'&]+)/);
      if (link) found.push({ mtime: stat.mtimeMs, token: link[1] });
    }
  }
  found.sort((a, b) => b.mtime - a.mtime);
  return found.length ? found[0].token : null;
}

async function waitForToken(mailDir, address, since) {
  const deadline = Date.now() + MAIL_TIMEOUT_MS;
  for (;;) {
    const token = confirmationToken(mailDir, address, since);
    if (token || Date.now() > deadline) return token;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

// ------------------------------------------------------------------ main

async function main() {
  const baseUrl = setting('BASE_URL', 'GATEWAY_URL').replace(/\/+$/, '');
  const mailDir = setting('MAIL_DIR');
  const missing = [];
  if (!baseUrl) missing.push('GATEWAY_URL (or BASE_URL)');
  if (!mailDir) missing.push('MAIL_DIR');
  if (missing.length) {
    console.error(`run.js: ${missing.join(', ')} not set (source .run/<stack>/env.sh)`);
    return 2;
  }
  const environment = JSON.parse(fs.readFileSync(ENVIRONMENT, 'utf8'));
  const since = Date.now() - 5000;

  console.log(`== newman: ${SIGN_UP.join(', ')} against ${baseUrl}`);
  const signUp = await run({ environment, folder: SIGN_UP, envVar: [{ key: 'baseUrl', value: baseUrl }] });
  if (failures(signUp)) {
    console.error('run.js: sign-up failed; not continuing');
    return 1;
  }
  const state = signUp.environment.toJSON();
  const riderEmail = (state.values.find((v) => v.key === 'riderEmail') || {}).value;
  const token = await waitForToken(mailDir, riderEmail, since);
  if (!token) {
    console.error(`run.js: no confirmation mail to ${riderEmail} in ${mailDir} within ${MAIL_TIMEOUT_MS / 1000}s`);
    return 1;
  }
  console.log(`== confirmation link for ${riderEmail} read from ${mailDir}`);

  const secrets = [
    ['verifyToken', token],
    ['adminEmail', setting('ADMIN_EMAIL')],
    ['adminPassword', setting('ADMIN_PASSWORD')],
    ['webhookSecret', setting('PAYMENTS_WEBHOOK_SECRET')],
  ].filter(([, value]) => value);
  console.log(`== newman: ${REST.join(', ')}`);
  const rest = await run({
    environment: state,
    folder: REST,
    envVar: secrets.map(([key, value]) => ({ key, value })),
  });

  const stats = [signUp, rest].map((s) => s.run.stats);
  const sum = (what, field) => stats.reduce((total, s) => total + s[what][field], 0);
  const failed = failures(signUp) + failures(rest);
  console.log(
    `== newman total: ${sum('requests', 'total')} requests, ${sum('assertions', 'total')} assertions, ` +
      `${sum('assertions', 'failed')} failed assertions, ${failed} failures`,
  );
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error('run.js:', err && err.stack ? err.stack : err);
    process.exit(1);
  },
);
