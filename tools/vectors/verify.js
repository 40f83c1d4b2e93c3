#!/usr/bin/env node
// Verifies EdDSA-Poseidon signatures with circomlibjs (an implementation independent of ours).
//
// Usage: node tools/vectors/verify.js items.json
//
// items.json is a JSON array (or an object with an "items" array) of
//   { "pubkey": "<32-byte packed point, hex>", "msg": "<field element, decimal>",
//     "signature": "<64-byte packed signature, hex>", "expect_valid": true|false (optional, default true) }
// An item passes when circomlib's verdict equals expect_valid. Prints "N passed, M failed" and exits
// with status 1 if anything failed (or the input is malformed), 0 otherwise.
"use strict";

const fs = require("fs");
const { buildEddsa } = require("circomlibjs");

function fromHex(s, len, what) {
  const h = s.startsWith("0x") ? s.slice(2) : s;
  if (!/^[0-9a-fA-F]*$/.test(h) || h.length !== len * 2) {
    throw new Error(`${what} must be ${len} bytes of hex, got ${JSON.stringify(s)}`);
  }
  return Buffer.from(h, "hex");
}

async function main() {
  const file = process.argv[2];
  if (!file) {
    console.error("usage: node verify.js <items.json>");
    process.exit(2);
  }
  const parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  const items = Array.isArray(parsed) ? parsed : parsed.items;
  if (!Array.isArray(items)) throw new Error("expected a JSON array of items (or {\"items\": [...]})");

  const eddsa = await buildEddsa();
  const babyJub = eddsa.babyJub;
  const F = babyJub.F;

  let passed = 0;
  let failed = 0;
  items.forEach((item, i) => {
    const expect = item.expect_valid === undefined ? true : Boolean(item.expect_valid);
    let ok = false;
    let why = "";
    try {
      const A = babyJub.unpackPoint(fromHex(item.pubkey, 32, "pubkey"));
      const sig = eddsa.unpackSignature(fromHex(item.signature, 64, "signature"));
      if (A === null) why = "pubkey does not unpack";
      else if (sig.R8 === null) why = "R8 does not unpack";
      else ok = eddsa.verifyPoseidon(F.e(BigInt(item.msg)), sig, A);
    } catch (e) {
      why = e.message;
    }
    if (ok === expect) {
      passed++;
    } else {
      failed++;
      console.error(
        `item ${i}: circomlib says ${ok ? "valid" : "invalid"}${why ? ` (${why})` : ""}, expected ${
          expect ? "valid" : "invalid"
        }: ${JSON.stringify(item)}`
      );
    }
  });
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(`verify.js: ${e.message}`);
  process.exit(1);
});
