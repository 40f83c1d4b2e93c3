//! Auditing a venue from outside: replay its public journal and check it against L2.
