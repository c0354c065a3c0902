"""A fake Cursor backend: a real HTTP/2 (cleartext) server that speaks the agent protocol the way the 2026
fact sheet describes it. Used by the tests, the benchmark and the README's offline demo
(`cursor-gateway emulate --port N`, then `CURSOR_API_URL=http://127.0.0.1:N`)."""
