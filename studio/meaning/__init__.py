"""Meaning: the local embedding model (`model`) and the in-memory vector index (`index`) that search by
meaning and "more like this" use. An edge like provider/db/files: it imports only core, and it is the only
layer that may use `wordllama`. Vectors cross to the database as bytes (`index.encode`), never as arrays."""
