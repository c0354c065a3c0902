"""The only network user for Cursor: identities and headers, transports, one module per protocol profile."""
