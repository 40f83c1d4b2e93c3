//! The exchange's JSON-RPC API.
