// Verifies a Groth16 proof with snarkjs (independent of arkworks).
// usage: node groth16_verify.js vk.json proof.json public.json
// Prints "1 passed, 0 failed" (or "0 passed, 1 failed") and exits 1 if the proof is invalid.
const fs = require("fs");
const snarkjs = require("snarkjs");

async function main() {
  const [vkPath, proofPath, publicPath] = process.argv.slice(2);
  if (!publicPath) {
    console.error("usage: node groth16_verify.js vk.json proof.json public.json");
    process.exit(2);
  }
  const read = (p) => JSON.parse(fs.readFileSync(p, "utf8"));
  const ok = await snarkjs.groth16.verify(read(vkPath), read(publicPath), read(proofPath));
  console.log(ok ? "1 passed, 0 failed" : "0 passed, 1 failed");
  process.exit(ok ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
