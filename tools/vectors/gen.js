#!/usr/bin/env node
// Generates tools/vectors/circomlib.json: reference vectors computed with independent
// JavaScript implementations (circomlibjs 0.1.7 for Poseidon / Baby Jubjub / EdDSA-Poseidon,
// ethers 6 for EIP-191 / EIP-712 / keccak). The Rust tests in crates/crypto/tests read the
// committed JSON, so running them never needs node.
//
// Usage: npm ci --prefix tools/vectors && node tools/vectors/gen.js
"use strict";

const fs = require("fs");
const path = require("path");
const { buildPoseidon, buildEddsa, buildBabyjub } = require("circomlibjs");
const ethers = require("ethers");

// BN254 scalar field modulus (= Baby Jubjub base field).
const P = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

const hex = (bytes) => Buffer.from(bytes).toString("hex");

// Deterministic pseudo-random field elements, so re-running the generator is reproducible.
function prf(label, i) {
  return BigInt(ethers.keccak256(ethers.toUtf8Bytes(`${label}/${i}`))) % P;
}

// Reference definition of zklink's bytes_to_fields / hash_bytes, written independently of the
// Rust code: 31-byte big-endian chunks, the last one possibly shorter.
function bytesToFields(bytes) {
  const out = [];
  for (let i = 0; i < bytes.length; i += 31) {
    const chunk = bytes.slice(i, i + 31);
    out.push(chunk.length === 0 ? 0n : BigInt("0x" + hex(chunk)));
  }
  return out;
}

async function main() {
  const poseidon = await buildPoseidon();
  const eddsa = await buildEddsa();
  const babyJub = await buildBabyjub();
  const F = babyJub.F;
  const pos = (xs) => poseidon.F.toObject(poseidon(xs)).toString();

  // ---- Poseidon -------------------------------------------------------------------------
  const poseidonVectors = [];
  for (const n of [1, 2, 3, 4, 5, 6, 12]) {
    const sets = [
      Array.from({ length: n }, (_, i) => BigInt(i + 1)),
      Array.from({ length: n }, () => 0n),
      Array.from({ length: n }, () => P - 1n),
      Array.from({ length: n }, (_, i) => prf(`poseidon/${n}/a`, i)),
      Array.from({ length: n }, (_, i) => prf(`poseidon/${n}/b`, i)),
    ];
    for (const inputs of sets) {
      poseidonVectors.push({ inputs: inputs.map((x) => x.toString()), output: pos(inputs) });
    }
  }

  // ---- hash_bytes (zklink definition, computed independently) ---------------------------
  const hashBytesVectors = [];
  for (const len of [1, 30, 31, 32, 62, 63, 100, 372]) {
    const bytes = Buffer.alloc(len);
    for (let i = 0; i < len; i++) bytes[i] = (i * 37 + len) & 0xff;
    const fields = bytesToFields(bytes);
    hashBytesVectors.push({
      bytes: hex(bytes),
      fields: fields.map((x) => x.toString()),
      hash: pos(fields),
    });
  }

  // ---- EdDSA-Poseidon -------------------------------------------------------------------
  const privateKeys = [
    "0001020304050607080900010203040506070809000102030405060708090001",
    "ff".repeat(32),
    ethers.keccak256(ethers.toUtf8Bytes("zklink test key 3")).slice(2),
  ];
  const messages = [1234n, prf("eddsa/msg", 0), P - 1n];
  const keys = [];
  privateKeys.forEach((prvHex, k) => {
    const prv = Buffer.from(prvHex, "hex");
    const A = eddsa.prv2pub(prv);
    const packed = babyJub.packPoint(A);
    // Sanity: circomlib's own unpack must round-trip.
    const back = babyJub.unpackPoint(Buffer.from(packed));
    if (!F.eq(back[0], A[0]) || !F.eq(back[1], A[1])) throw new Error("unpackPoint round trip failed");
    const ax = F.toObject(A[0]);
    const ay = F.toObject(A[1]);
    const pkhField = poseidon.F.toObject(poseidon([ax, ay]));
    const pkh = (pkhField & ((1n << 160n) - 1n)).toString(16).padStart(40, "0");
    const signatures = [];
    for (const msg of [messages[k % messages.length], messages[(k + 1) % messages.length]]) {
      const sig = eddsa.signPoseidon(prv, F.e(msg));
      if (!eddsa.verifyPoseidon(F.e(msg), sig, A)) throw new Error("circomlib failed to verify its own signature");
      signatures.push({
        msg: msg.toString(),
        packed: hex(eddsa.packSignature(sig)),
        r8x: F.toObject(sig.R8[0]).toString(),
        r8y: F.toObject(sig.R8[1]).toString(),
        s: sig.S.toString(),
      });
    }
    keys.push({
      private_key: prvHex,
      public_key_packed: hex(packed),
      ax: ax.toString(),
      ay: ay.toString(),
      pubkey_hash: "0x" + pkh,
      signatures,
    });
  });

  // ---- L1: EIP-191 personal_sign, L2 key derivation, EIP-712 ChangePubKey (ethers) ------
  const l1Secrets = [
    "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
    "0x" + "11".repeat(32),
  ];
  const networks = ["devnet", "mainnet"];
  const l1 = [];
  for (const secret of l1Secrets) {
    const wallet = new ethers.Wallet(secret);
    for (const network of networks) {
      const message =
        "zklink L2 key\nSigning this message derives your zklink trading key for network " +
        network +
        ". Only sign it on a zklink client you trust.";
      const sig = wallet.signMessageSync(message);
      const l2Key = ethers.keccak256(sig).slice(2);
      const l2Pub = eddsa.prv2pub(Buffer.from(l2Key, "hex"));
      l1.push({
        secret: secret.slice(2),
        address: wallet.address,
        network,
        message,
        personal_sign: sig.slice(2),
        l2_private_key: l2Key,
        l2_public_key_packed: hex(babyJub.packPoint(l2Pub)),
      });
    }
  }

  const eip712 = [];
  const cases = [
    { chainId: 1, contract: "0x" + "00".repeat(19) + "01", pkh: "0x" + "ab".repeat(20), nonce: 0, accountId: 2 },
    { chainId: 31337, contract: "0x5FbDB2315678afecb367f032d93F642f64180aa3", pkh: keys[0].pubkey_hash, nonce: 7, accountId: 4294967295 },
    { chainId: 56, contract: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", pkh: keys[1].pubkey_hash, nonce: 4294967295, accountId: 12345 },
  ];
  const types = {
    ChangePubKey: [
      { name: "pubKeyHash", type: "bytes20" },
      { name: "nonce", type: "uint32" },
      { name: "accountId", type: "uint32" },
    ],
  };
  for (const c of cases) {
    const wallet = new ethers.Wallet(l1Secrets[0]);
    const domain = { name: "zklink", version: "1", chainId: c.chainId, verifyingContract: c.contract };
    const value = { pubKeyHash: c.pkh, nonce: c.nonce, accountId: c.accountId };
    const hash = ethers.TypedDataEncoder.hash(domain, types, value);
    const sig = wallet.signingKey.sign(hash).serialized;
    const sig2 = await wallet.signTypedData(domain, types, value);
    if (sig !== sig2) throw new Error("ethers signTypedData disagrees with signingKey.sign(hash)");
    eip712.push({
      l1_chain_id: c.chainId,
      verifying_contract: ethers.getAddress(c.contract),
      pubkey_hash: c.pkh,
      nonce: c.nonce,
      account_id: c.accountId,
      signing_hash: hash.slice(2),
      signer_secret: l1Secrets[0].slice(2),
      signer_address: wallet.address,
      signature: sig.slice(2),
    });
  }

  const out = {
    generator: "tools/vectors/gen.js",
    versions: {
      circomlibjs: JSON.parse(fs.readFileSync(path.join(__dirname, "node_modules/circomlibjs/package.json"), "utf8")).version,
      ethers: ethers.version,
      node: process.version,
    },
    poseidon: poseidonVectors,
    hash_bytes: hashBytesVectors,
    keys,
    l1,
    eip712,
  };
  const file = path.join(__dirname, "circomlib.json");
  fs.writeFileSync(file, JSON.stringify(out, null, 2) + "\n");
  console.log(
    `wrote ${file}: ${poseidonVectors.length} poseidon, ${hashBytesVectors.length} hash_bytes, ` +
      `${keys.length} keys, ${l1.length} l1, ${eip712.length} eip712 vectors`
  );
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
